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
 *
 * A re-plan gives every pending job a new assignment, most often the one it runs on. With
 * the workload's prices (`TransferPrices`) the charge follows the attempt, not the version:
 *
 * - the same attempt goes on (the re-plan kept the job where it runs): its instances read
 *   their inputs once and the first charge counted checkpoints over the whole planned run,
 *   so the stint is only topped up to what it can still move:
 *   inputs + one checkpoint per interval elapsed + the new assignment's checkpoints,
 *   less what the stint was charged already (usually nothing);
 * - a new attempt (new instances, the same region or another) reads its inputs again and,
 *   when it resumes, its checkpoint: the new assignment's transfer plus one checkpoint.
 *
 * Without prices every version is charged in full (over-counts, never under-counts).
 */
import type { CloudInstance } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import { jobCheckpointTransfer, jobTransferIn } from "../planner/data-transfer.ts";
import type { Assignment } from "../planner/plan.ts";
import type { Workload } from "../spec/workload.ts";
import type { ExecutionRecord, TransferStint } from "./execution-record.ts";
import { attemptMatches, pendingAssignments, plannedSlot } from "./plan-view.ts";

/** What one job's transfer pieces cost in one region (0 at home). */
export interface TransferPrices {
  /** Dataset and base weights into `region`. */
  inUsd(jobId: string, region: string): number;
  /** One checkpoint between `region` and home. */
  checkpointUsd(jobId: string, region: string): number;
  /** Seconds between checkpoints; undefined for a job that cannot checkpoint. */
  checkpointIntervalSeconds(jobId: string): number | undefined;
}

/** The workload's transfer prices (data-transfer.ts), from its jobs and home region. */
export function transferPrices(workload: Workload): TransferPrices {
  const jobs = new Map(workload.jobs.map((job) => [job.id, job]));
  const interval = workload.spot.checkpointIntervalMinutes * 60;
  return {
    inUsd: (jobId, region) => {
      const job = jobs.get(jobId);
      return job === undefined ? 0 : jobTransferIn(job, workload.region, region).usd;
    },
    checkpointUsd: (jobId, region) => {
      const job = jobs.get(jobId);
      return job === undefined ? 0 : jobCheckpointTransfer(job, workload.region, region).usd;
    },
    checkpointIntervalSeconds: (jobId) => (jobs.get(jobId)?.checkpointable === true ? interval : undefined),
  };
}

/** What the ledger needs to price a charge: prices, the job's last report, and the time. */
export interface TransferChargeInput {
  readonly prices: TransferPrices;
  readonly reports: ReadonlyMap<string, JobReport>;
  readonly bySlot: ReadonlyMap<string, CloudInstance>;
  readonly now: number;
}

/** The region an assignment runs in: its first slot's (absent in plans from before regions). */
function assignmentRegion(record: ExecutionRecord, assignment: Assignment): string | undefined {
  const slot = assignment.instanceIds[0];
  return slot === undefined ? undefined : plannedSlot(record, slot)?.region;
}

interface Charge {
  readonly usd: number;
  /** The stint the charge belongs to (undefined: not known, e.g. no prices). */
  readonly stint?: TransferStint;
}

/** What starting (or having started) `assignment` charges now; see the file comment. */
function chargeFor(record: ExecutionRecord, assignment: Assignment, input: TransferChargeInput | undefined): Charge {
  const full = assignment.transferUsd ?? 0;
  const report = input?.reports.get(assignment.jobId);
  const region = assignmentRegion(record, assignment);
  if (input === undefined || region === undefined || full <= 0) return { usd: full };
  const { prices } = input;
  const jobId = assignment.jobId;
  const stint = record.jobs[jobId]?.transferStint;
  const attemptId = report?.attempt?.attemptId;
  // The stint's attempt goes on where this assignment wants it (or completed there).
  const continues =
    stint !== undefined &&
    stint.region === region &&
    report !== undefined &&
    (report.attempt === undefined
      ? report.completed
      : attemptId === stint.attemptId && attemptMatches(report, assignment, input.bySlot));
  if (continues) {
    const end = report?.completedAt ?? input.now;
    const interval = prices.checkpointIntervalSeconds(jobId);
    const written = interval === undefined ? 0 : Math.floor(Math.max(0, end - stint.startedAt) / interval);
    const inputs = prices.inUsd(jobId, region);
    const need = inputs + written * prices.checkpointUsd(jobId, region) + Math.max(0, full - inputs);
    const usd = Math.max(0, need - stint.chargedUsd);
    return { usd, stint: { ...stint, chargedUsd: stint.chargedUsd + usd } };
  }
  const resumes = (report?.checkpointSamples ?? 0) > 0;
  const usd = full + (resumes ? prices.checkpointUsd(jobId, region) : 0);
  if (attemptId === undefined || report?.attempt === undefined) return { usd };
  return { usd, stint: { attemptId, region, startedAt: report.attempt.startedAt, chargedUsd: usd } };
}

/**
 * Charges the transfer of every pending job that runs, or has just completed, on its
 * current assignment, once per plan version. `input`: prices and the pass's reports, so a
 * re-plan that keeps a job running is not charged again (without it: full per version).
 */
export function chargeStartedTransfers(
  record: ExecutionRecord,
  reports: ReadonlyMap<string, JobReport>,
  bySlot: ReadonlyMap<string, CloudInstance>,
  prices?: TransferPrices,
  now = 0,
): ExecutionRecord {
  const input = prices === undefined ? undefined : { prices, reports, bySlot, now };
  let jobs = record.jobs;
  for (const assignment of pendingAssignments(record)) {
    const state = jobs[assignment.jobId];
    if ((assignment.transferUsd ?? 0) <= 0 || state === undefined) continue;
    if (state.transferChargedInPlan === record.planVersion) continue;
    const report = reports.get(assignment.jobId);
    const started = report !== undefined && (report.completed || attemptMatches(report, assignment, bySlot));
    if (!started) continue;
    const charge = chargeFor({ ...record, jobs }, assignment, input);
    jobs = {
      ...jobs,
      [assignment.jobId]: {
        ...state,
        transferUsd: (state.transferUsd ?? 0) + charge.usd,
        transferChargedInPlan: record.planVersion,
        ...(charge.stint === undefined ? {} : { transferStint: charge.stint }),
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
export function transferToComeUsd(record: ExecutionRecord, input?: TransferChargeInput): number {
  return pendingAssignments(record)
    .filter((assignment) => record.jobs[assignment.jobId]?.transferChargedInPlan !== record.planVersion)
    .reduce((sum, assignment) => sum + chargeFor(record, assignment, input).usd, 0);
}

/** What the workload has cost so far: the cloud's bill plus the transfer charged. */
export function spentUsd(record: ExecutionRecord, cloudSpendUsd: number): number {
  return cloudSpendUsd + transferSpentUsd(record);
}
