/**
 * Read-decide-write on the workload's version: `decide` sees the current record and
 * returns the change to make (or undefined: nothing to do); a conflict re-reads and
 * decides again, so concurrent requests (approve vs cancel, a pass vs a cancel) each
 * decide on what the other wrote.
 */
import { VersionConflictError, type WorkloadRecord, type WorkloadStore } from "../store/workload-store.ts";
import { WorkloadNotFoundError } from "./control-plane-errors.ts";

export type WorkloadChange = Parameters<WorkloadStore["update"]>[2];

/** Conflicts retried before giving up; each one means another writer made progress. */
const MAX_ATTEMPTS = 8;

export async function updateWorkload(
  store: WorkloadStore,
  workloadId: string,
  decide: (record: WorkloadRecord) => WorkloadChange | undefined,
  first?: WorkloadRecord,
): Promise<WorkloadRecord> {
  let record = first ?? (await store.get(workloadId));
  for (let attempt = 1; ; attempt++) {
    if (record === undefined) throw new WorkloadNotFoundError(workloadId);
    const change = decide(record);
    if (change === undefined) return record;
    try {
      return await store.update(workloadId, record.version, change);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      record = await store.get(workloadId);
    }
  }
}
