/**
 * Inter-region data transfer during a run. The cloud bills instances; moving a job's data
 * and checkpoints between its region and the home region is billed on top (the planner's
 * `Assignment.transferUsd`, lambdas/core/planner/data-transfer.ts). The budget is a hard
 * limit, so every budget figure the reconciler uses counts transfer too:
 *
 *   spent     = what the cloud billed + the transfer of every assignment a job has started on
 *   projected = spent + instances to come + the transfer of assignments not started yet
 *
 * An assignment's transfer is charged in full (its dataset and weights in, every checkpoint
 * out over the planned runtime) the first time a pass sees the job running on it, or
 * completed under it, and it stays charged after the job ends or moves: the bytes went.
 * Charging the whole figure at the start is conservative (the checkpoints of a job moved
 * early were never written), which a hard limit wants. Charges are keyed by plan version,
 * so a repeated or crashed pass charges nothing twice.
 */
import type { CloudInstance } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { ExecutionRecord } from "./execution-record.ts";
import { attemptMatches, pendingAssignments } from "./plan-view.ts";

/**
 * Charges the transfer of every pending job that runs, or has just completed, on its
 * current assignment, once per plan version.
 */
export function chargeStartedTransfers(
  record: ExecutionRecord,
  reports: ReadonlyMap<string, JobReport>,
  bySlot: ReadonlyMap<string, CloudInstance>,
): ExecutionRecord {
  let jobs = record.jobs;
  for (const assignment of pendingAssignments(record)) {
    const usd = assignment.transferUsd ?? 0;
    const state = jobs[assignment.jobId];
    if (usd <= 0 || state === undefined || state.transferChargedInPlan === record.planVersion) continue;
    const report = reports.get(assignment.jobId);
    const started = report !== undefined && (report.completed || attemptMatches(report, assignment, bySlot));
    if (!started) continue;
    jobs = {
      ...jobs,
      [assignment.jobId]: {
        ...state,
        transferUsd: (state.transferUsd ?? 0) + usd,
        transferChargedInPlan: record.planVersion,
      },
    };
  }
  return jobs === record.jobs ? record : { ...record, jobs };
}

/** Transfer already charged, over every job and plan version. */
export function transferSpentUsd(record: ExecutionRecord): number {
  return Object.values(record.jobs).reduce((sum, job) => sum + (job.transferUsd ?? 0), 0);
}

/** Transfer the current plan still has to pay: pending assignments not charged under this version. */
export function transferToComeUsd(record: ExecutionRecord): number {
  return pendingAssignments(record)
    .filter((assignment) => record.jobs[assignment.jobId]?.transferChargedInPlan !== record.planVersion)
    .reduce((sum, assignment) => sum + (assignment.transferUsd ?? 0), 0);
}

/** What the workload has cost so far: the cloud's bill plus the transfer charged. */
export function spentUsd(record: ExecutionRecord, cloudSpendUsd: number): number {
  return cloudSpendUsd + transferSpentUsd(record);
}
