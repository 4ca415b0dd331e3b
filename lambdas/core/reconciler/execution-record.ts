/**
 * The reconciler's vocabulary: the stored record (desired state and what was decided),
 * the observed state it compares against, and the actions it emits. Times are seconds on
 * the cloud's clock; plan times are relative to `planOrigin`.
 */
import type { CloudEvent, CloudInstance, LaunchRequest } from "../cloud/cloud-port.ts";
import type { JobReport, StartJobRequest } from "../cloud/worker-port.ts";
import type { Plan } from "../planner/plan.ts";
import type { Market, Objective, QuotaGroup, Technique } from "../spec/workload-schema.ts";
import type { StoredWorkerFold } from "./worker-fold-state.ts";

export type ExecutionStatus = "running" | "completed" | "failed" | "cancelled" | "stopped-for-budget";

export interface JobRecord {
  readonly status: "pending" | "done" | "failed";
  readonly reason: string | undefined;
  readonly finishedAt: number | undefined;
  /** Deadline rule fired: the job may no longer run on spot. */
  readonly onDemandOnly: boolean;
  /** Plan version for which a projected deadline miss already asked for a re-plan (asks once per version). */
  readonly deviationReportedInPlan: number | undefined;
  /**
   * Attempt whose throughput deviation already asked for a re-plan: asks once per attempt,
   * so a policy that cannot use the measurement (or a plan that keeps the job where it is)
   * does not re-plan again and again for the same run.
   */
  readonly throughputReportedForAttempt: string | undefined;
  /**
   * USD of inter-region transfer charged for this job so far (transfer-ledger.ts); absent:
   * none. Counted in every budget figure on top of what the cloud bills.
   */
  readonly transferUsd?: number;
  /** Plan version whose assignment's transfer is in `transferUsd` (charged once per version). */
  readonly transferChargedInPlan?: number;
  /**
   * The attempt the last transfer charge was for, when it started, and what has been
   * charged for it over every plan version (transfer-ledger.ts): a re-plan that keeps the
   * attempt where it runs tops the charge up instead of charging it again.
   */
  readonly transferStint?: TransferStint;
}

/** The attempt a job's transfer was last charged for (transfer-ledger.ts). */
export interface TransferStint {
  readonly attemptId: string;
  readonly region: string;
  readonly startedAt: number;
  /** USD charged for this attempt over every plan version. */
  readonly chargedUsd: number;
}

/** A type in a market, and the region when the failure was in one region only. */
export interface Offer {
  readonly instanceType: string;
  readonly market: Market;
  readonly region?: string;
}

/** A quota lowered after EC2 refused a launch for it. EC2 quotas are per region. */
export interface QuotaCut {
  readonly group: QuotaGroup;
  readonly market: Market;
  readonly vcpus: number;
  /** The region whose quota it is; absent (records written before regions): the home region. */
  readonly region?: string;
}

/** Throughput a job showed on a configuration; fed to re-plans as measured (it overrides estimates). */
export interface MeasuredThroughput {
  readonly jobId: string;
  readonly technique: Technique;
  readonly instanceType: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
  readonly samplesPerSecond: number;
  readonly at: number;
}

export interface ReplanRequest {
  readonly reason: string;
  /** The current plan can no longer be carried out as written: adopt any feasible new plan. */
  readonly broken: boolean;
  /**
   * A hedge, not a loss (a job leaving spot while its slack still holds): the new plan is
   * adopted only within the money approved (`decideAdoption`), else the job stays where it is.
   */
  readonly hedge?: boolean;
  /**
   * A projected deadline miss, not a loss: every instance of the current plan is still
   * there. A candidate that would finish no earlier and cost no less is not adopted
   * (`decideAdoption`): it would only move jobs, later and dearer.
   */
  readonly late?: boolean;
  readonly at: number;
}

export interface ReplanEntry {
  readonly at: number;
  readonly reason: string;
  readonly adopted: boolean;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly detail: string;
}

/** The stored record. Every write is conditional on `version` (compare-and-set). */
export interface ExecutionRecord {
  readonly version: number;
  readonly workloadName: string;
  readonly objective: Objective;
  readonly startedAt: number;
  readonly status: ExecutionStatus;
  readonly statusReason: string | undefined;
  readonly cancelRequested: boolean;
  readonly planVersion: number;
  readonly plan: Plan;
  /** Cloud time at which the current plan's t = 0 falls. */
  readonly planOrigin: number;
  /** Plan slots filled by instances launched under an earlier plan version: slot -> instance id. */
  readonly bindings: Readonly<Record<string, string>>;
  readonly jobs: Readonly<Record<string, JobRecord>>;
  readonly excludedOffers: readonly Offer[];
  readonly quotaCuts: readonly QuotaCut[];
  /** Launch client tokens that failed; never retried under the same plan version. */
  readonly failedLaunchTokens: readonly string[];
  readonly interruptedInstanceIds: readonly string[];
  readonly replanRequest: ReplanRequest | undefined;
  readonly replans: readonly ReplanEntry[];
  readonly lastReplanAt: number;
  /** Throughput measured per job and configuration (latest per pair). */
  readonly measured: readonly MeasuredThroughput[];
  /**
   * Launch failures a pass saw after it observed, for the next pass to ingest. Only a driver
   * that keeps no memory between passes (the control plane's reconcile Lambda) stores them
   * here; the in-process engine keeps them in memory.
   */
  readonly pendingLaunchFailures?: readonly LaunchFailure[];
  /**
   * The price the user approved: the first plan's worst case (its expected cost without one).
   * A re-plan after the deadline is lost spends at most what is left of it (or what the
   * current plan still costs, if more); absent in records written before it existed.
   */
  readonly approvedCostUsd?: number;
  /**
   * Set when a re-plan found no plan that meets the deadline and adopted a late one: from
   * then on no job is moved off spot to save the deadline (nothing can save it; each move
   * cost a restart, on-demand prices and another re-plan).
   */
  readonly deadlineLost?: boolean;
  /** What the last pass observed, summarised for status views (set by the control plane). */
  readonly observation?: ObservationSnapshot;
  /**
   * The worker reports folded so far and the cursor into the store's event log (set by the
   * control plane; worker-fold-state.ts). Saved with the record's conditional write, so a
   * pass that loses the race moves no cursor. Absent: the next pass folds everything.
   */
  readonly workerFold?: StoredWorkerFold;
}

/** A pass's observation, small enough to keep with the record and show without calling the cloud. */
export interface ObservationSnapshot {
  readonly at: number;
  readonly spendUsd: number;
  readonly instances: readonly {
    readonly id: string;
    readonly instanceType: string;
    readonly market: Market;
    readonly availabilityZone: string;
    readonly state: CloudInstance["state"];
    readonly slot: string | undefined;
    readonly launchedAt: number;
    readonly interruptionNoticeAt: number | undefined;
  }[];
  /** jobId -> progress as the workers reported it. */
  readonly jobs: Readonly<
    Record<
      string,
      {
        readonly samplesDone: number;
        readonly checkpointSamples: number;
        readonly attemptId: string | undefined;
        readonly samplesPerSecond: number | undefined;
        readonly attemptsStarted: number;
      }
    >
  >;
}

/** A launch that the cloud refused; the driver turns the typed error into this. */
export interface LaunchFailure {
  readonly clientToken: string;
  readonly kind: "capacity" | "quota" | "other";
  readonly code: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly region?: string;
  readonly availabilityZone: string | undefined;
  readonly at: number;
}

export interface ObservedState {
  readonly now: number;
  /** Every instance tagged with the workload, in any state. */
  readonly instances: readonly CloudInstance[];
  readonly jobs: readonly JobReport[];
  readonly launchFailures: readonly LaunchFailure[];
  /** Cloud events since the last run; hints only, never the truth (they may repeat or come out of order). */
  readonly events: readonly CloudEvent[];
  readonly spendUsd: number;
  /**
   * instance id -> when its worker agent last reported anything (seconds), for the instances
   * heard from at all; absent where the worker port cannot tell (agent-silence.ts).
   */
  readonly heardFrom?: ReadonlyMap<string, number>;
}

export type Action =
  | { readonly kind: "launch"; readonly slot: string; readonly request: LaunchRequest }
  | { readonly kind: "tag"; readonly instanceId: string; readonly tags: Readonly<Record<string, string>> }
  | { readonly kind: "assign"; readonly request: StartJobRequest }
  | {
      readonly kind: "checkpoint-and-requeue";
      readonly jobId: string;
      readonly attemptId: string;
      readonly reason: string;
    }
  | { readonly kind: "terminate"; readonly instanceIds: readonly string[]; readonly reason: string }
  | { readonly kind: "replan"; readonly reason: string; readonly broken: boolean }
  | { readonly kind: "mark-done"; readonly jobId: string }
  | { readonly kind: "mark-failed"; readonly jobId: string; readonly reason: string }
  | { readonly kind: "stop-for-budget"; readonly reason: string }
  | { readonly kind: "finish"; readonly status: ExecutionStatus; readonly reason: string };

export interface ReconcileResult {
  readonly record: ExecutionRecord;
  readonly actions: readonly Action[];
}
