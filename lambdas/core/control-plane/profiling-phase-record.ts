/**
 * The profiling phase of a workload on the control plane (docs/plan.md, "Profiling phase",
 * "On AWS"): the stored document that the planner proposes with plan v1 and the reconcile
 * passes carry out. It holds the runs `chooseProfilingRuns` picked (cheapest first), what
 * became of each, and the phase's own limits, so a pass needs nothing it did not store.
 *
 * Invariants: a run moves only forward (waiting -> launched -> assigned -> one ending);
 * the phase is `done` or `cancelled` only when every run has ended and none of its
 * instances is live.
 */
import type { Configuration } from "../estimator/types.ts";
import type { ProfilingChoice, ProfilingRunReason } from "../planner/profiling-phase.ts";
import type { ProfilingSettings } from "../spec/workload-schema.ts";

export type ProfileRunStatus =
  | "waiting"
  | "launched"
  | "assigned"
  /** Ended: a `throughput-measured` record that fits came. */
  | "measured"
  /** Ended: the harness decided, across ranks, that the configuration does not fit. */
  | "does-not-fit"
  /** Ended: the launch was refused, the harness failed, or the agent stopped. */
  | "failed"
  /** Ended: an instance of the run went away before it reported. */
  | "lost"
  | "over-budget"
  | "over-time"
  | "cancelled";

export const ENDED_RUN_STATUSES: ReadonlySet<ProfileRunStatus> = new Set([
  "measured",
  "does-not-fit",
  "failed",
  "lost",
  "over-budget",
  "over-time",
  "cancelled",
]);

export interface ProfileRunRecord {
  readonly index: number;
  /** The workload job the run trains (the first of its signature). */
  readonly jobId: string;
  readonly jobSignature: string;
  readonly config: Configuration;
  readonly estimatedSamplesPerSecond: number;
  /** The choice's price of the run (boot + steps at the on-demand price, every node). */
  readonly estimatedCostUsd: number;
  readonly estimatedSeconds: number;
  readonly because: ProfilingRunReason;
  readonly status: ProfileRunStatus;
  readonly reason: string | undefined;
  /** The measured figure (status `measured`). */
  readonly samplesPerSecond: number | undefined;
  readonly launchedAt: number | undefined;
  readonly endedAt: number | undefined;
}

export interface ProfilingPhase {
  readonly status: "proposed" | "running" | "done" | "cancelled";
  /** The plan (from estimates) the runs were chosen on. */
  readonly chosenOnPlanVersion: number;
  readonly settings: ProfilingSettings;
  /** Sum of the runs' prices: what the user approves, at most `settings.budgetUsd`. */
  readonly estimatedCostUsd: number;
  readonly estimatedSeconds: number;
  /** Fitting configurations not measured because they cost more than the margin allows. */
  readonly outsideMargin: number;
  readonly leftOut: readonly {
    readonly jobSignature: string;
    readonly config: Configuration;
    readonly reason: string;
    readonly costUsd: number | undefined;
  }[];
  readonly runs: readonly ProfileRunRecord[];
  /** Seconds on the cloud's clock: set by the first pass after approval. */
  readonly startedAt: number | undefined;
  readonly endedAt: number | undefined;
  /** Billed for the phase's instances so far (the last pass's reading). */
  readonly spentUsd: number;
}

/** Tag value of `saturn:role` on profile instances (the sim's profile runs use the same). */
export const PROFILER_ROLE = "profiler";

/** Job id of a profile run on the wire: `:` never occurs in a spec's job ids, so it cannot collide. */
export function profileJobId(index: number): string {
  return `profile:${index}`;
}

export function profileAttemptId(index: number): string {
  return `${profileJobId(index)}#1`;
}

/** `saturn:slot` of node `node` of run `index`. */
export function profileSlot(index: number, node: number): string {
  return `profile-${index}-n${node}`;
}

export function proposeProfilingPhase(
  choice: ProfilingChoice,
  settings: ProfilingSettings,
  planVersion: number,
): ProfilingPhase {
  return {
    status: "proposed",
    chosenOnPlanVersion: planVersion,
    settings,
    estimatedCostUsd: choice.totalCostUsd,
    estimatedSeconds: choice.totalSeconds,
    outsideMargin: choice.outsideMargin,
    leftOut: choice.leftOut.map((entry) => ({
      jobSignature: entry.jobSignature,
      config: entry.config,
      reason: entry.reason,
      costUsd: entry.costUsd,
    })),
    runs: choice.runs.map((run, index) => ({
      index,
      jobId: run.jobId,
      jobSignature: run.jobSignature,
      config: run.config,
      estimatedSamplesPerSecond: run.estimatedSamplesPerSecond,
      estimatedCostUsd: run.costUsd,
      estimatedSeconds: run.seconds,
      because: run.because,
      status: "waiting",
      reason: undefined,
      samplesPerSecond: undefined,
      launchedAt: undefined,
      endedAt: undefined,
    })),
    startedAt: undefined,
    endedAt: undefined,
    spentUsd: 0,
  };
}

/** One line for the status reason: what the user approves. */
export function describeProposal(phase: ProfilingPhase): string {
  const minutes = phase.estimatedSeconds / 60;
  return `profiling phase first: ${phase.runs.length} profile run${phase.runs.length === 1 ? "" : "s"} on demand, about $${phase.estimatedCostUsd.toFixed(2)} and ${minutes.toFixed(1)} instance-minutes (hard limits $${phase.settings.budgetUsd.toFixed(2)} and ${phase.settings.maxMinutes} min); the plan is then made again from the measurements and waits for a second approval`;
}

export function summarizeOutcome(phase: ProfilingPhase): string {
  const count = (status: ProfileRunStatus) => phase.runs.filter((run) => run.status === status).length;
  const parts = [`${count("measured")} measured`];
  for (const status of ["does-not-fit", "failed", "lost", "over-budget", "over-time", "cancelled"] as const) {
    const n = count(status);
    if (n > 0) parts.push(`${n} ${status}`);
  }
  return `profiling phase ${phase.status}: ${parts.join(", ")} of ${phase.runs.length} runs, $${phase.spentUsd.toFixed(2)} spent`;
}
