/**
 * What a planner call for remaining work is given besides the workload: a time limit, and
 * the throughput measured during the run as profile records (shared by `saturn run` and
 * the control plane's reconciler).
 */
import { jobSignature } from "../estimator/candidates.ts";
import { InMemoryProfileStore } from "../estimator/profiles.ts";
import type { ProfileRecord, ProfileStore } from "../estimator/types.ts";
import type { MeasuredThroughput } from "../reconciler/execution-record.ts";
import type { Workload } from "../spec/workload.ts";

export function withTimeLimit(workload: Workload, seconds: number): Workload {
  return { ...workload, planner: { ...workload.planner, timeLimitSeconds: seconds } };
}

/**
 * Profiles for a re-plan: what was measured during the run, as profile records (they
 * override the estimator for their exact configuration), ahead of the given store. Sweep
 * clones share a job signature, so one clone's measurement informs the others.
 */
export function withMeasurements(
  base: ProfileStore,
  workload: Workload,
  measured: readonly MeasuredThroughput[],
): ProfileStore {
  const jobs = new Map(workload.jobs.map((job) => [job.id, job]));
  const records: ProfileRecord[] = [];
  for (const m of measured) {
    const job = jobs.get(m.jobId);
    if (job === undefined) continue;
    records.push({
      jobSignature: jobSignature(job),
      technique: m.technique,
      instanceType: m.instanceType,
      nodes: m.nodes,
      gpusPerNode: m.gpusPerNode,
      samplesPerSecond: m.samplesPerSecond,
      peakMemoryGiBPerGpu: 0,
      // Virtual seconds, zero-padded so that the latest measurement sorts last.
      measuredAt: `sim-t${String(Math.round(m.at)).padStart(12, "0")}`,
      where: "sim",
    });
  }
  if (records.length === 0) return base;
  const measuredStore = new InMemoryProfileStore(records);
  return { find: (signature, config) => measuredStore.find(signature, config) ?? base.find(signature, config) };
}
