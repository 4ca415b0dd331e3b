/**
 * The API's per-workload requests: read one (owner check first), approve, cancel. Every
 * request answers from the stored record; only approve and cancel write, each as a
 * conditional update that re-decides on conflict.
 */
import { FINAL_STATUSES, type WorkloadRecord, type WorkloadStore } from "../store/workload-store.ts";
import { authorize, type Caller } from "./caller.ts";
import { updateWorkload } from "./conditional-update.ts";
import { WorkloadNotFoundError, WorkloadStateError } from "./control-plane-errors.ts";
import type { ControlQueues } from "./control-queues.ts";

export interface RequestDeps {
  readonly store: WorkloadStore;
  readonly queues: ControlQueues;
}

/** The workload, if the caller may see it: 404 when it does not exist, 403 when it is another owner's. */
export async function readOwnWorkload(
  store: WorkloadStore,
  workloadId: string,
  caller: Caller,
): Promise<WorkloadRecord> {
  const record = await store.get(workloadId);
  if (record === undefined) throw new WorkloadNotFoundError(workloadId);
  authorize(record, caller);
  return record;
}

/**
 * `planned` -> `approved`, then a reconcile pass launches the plan. Approving an approved,
 * running or finished workload again changes nothing (a retried request is not an error).
 */
export async function approveWorkload(
  deps: RequestDeps,
  workloadId: string,
  caller: Caller,
  now: string,
): Promise<WorkloadRecord> {
  const first = await readOwnWorkload(deps.store, workloadId, caller);
  const record = await updateWorkload(
    deps.store,
    workloadId,
    (current) => {
      if (current.status === "planned" && !current.cancelRequested) {
        return { status: "approved", statusReason: `approved by ${caller.principal} at ${now}` };
      }
      if (current.status === "approved" || current.status === "running" || current.status === "completed") {
        return undefined;
      }
      const why =
        current.status === "planning"
          ? "it has no plan yet; approve once it is planned (saturn status shows when)"
          : "only a planned workload can be approved";
      throw new WorkloadStateError(workloadId, current.status, why);
    },
    first,
  );
  await deps.queues.requestReconcile([workloadId], "approved");
  return record;
}

/**
 * Cancel. Before approval nothing can run, so the workload ends `cancelled` at once; after
 * it, the request is recorded and the next reconcile pass stops every attempt (with a
 * checkpoint), terminates every instance, and only then marks the workload `cancelled`.
 * Cancelling a finished workload changes nothing.
 */
export async function cancelWorkload(
  deps: RequestDeps,
  workloadId: string,
  caller: Caller,
  now: string,
): Promise<WorkloadRecord> {
  const first = await readOwnWorkload(deps.store, workloadId, caller);
  const record = await updateWorkload(
    deps.store,
    workloadId,
    (current) => {
      if (FINAL_STATUSES.has(current.status) || current.cancelRequested) return undefined;
      if (current.status === "planning" || current.status === "planned") {
        return { status: "cancelled", statusReason: `cancelled by ${caller.principal} at ${now} before launch` };
      }
      return { cancelRequested: true, statusReason: `cancel requested by ${caller.principal} at ${now}` };
    },
    first,
  );
  if (record.cancelRequested && !FINAL_STATUSES.has(record.status)) {
    await deps.queues.requestReconcile([workloadId], "cancel requested");
  }
  return record;
}
