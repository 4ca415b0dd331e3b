/**
 * The simulated cloud's model and its defaults. Sources and assumptions are stated per
 * field; docs/execution.md ("Simulated cloud") explains the model.
 */
import type { QuotaTable } from "../../core/planner/api.ts";
import type { Market } from "../../core/spec/workload-schema.ts";

export interface CapacityOutage {
  readonly instanceType: string;
  /** Both markets when omitted. */
  readonly market?: Market;
  readonly from?: number;
  readonly until?: number;
}

export interface ScriptedCrash {
  readonly jobId: string;
  /** Which attempt of the job crashes (1 = the first). */
  readonly attempt: number;
  /** Seconds after the attempt starts. */
  readonly afterSeconds: number;
}

export interface SimCloudOptions {
  readonly seed: number;
  readonly region: string;
  /**
   * Spot interruptions per instance-hour by instance type. Default: the planner's own rate
   * (`interruptionRatePerHour` in lambdas/core/planner/spot-overhead.ts, derived from the
   * AWS Spot Instance Advisor bands), so the simulation draws what the plan priced.
   */
  readonly interruptionRatePerHour: (instanceType: string) => number;
  /** AWS gives a two-minute notice before reclaiming a spot instance (EC2 User Guide, "Spot Instance interruption notices"). */
  readonly interruptionNoticeSeconds: number;
  /**
   * Boot plus setup is drawn uniformly between `bootFraction[0]` and `bootFraction[1]` of the
   * planner's boot allowance (`planner.bootMinutes`). ASSUMPTION: AWS publishes no boot time
   * for GPU instances; the range keeps the plan's allowance an upper bound.
   */
  readonly bootSeconds: number;
  readonly bootFraction: readonly [number, number];
  /** Loading a checkpoint and warming up before training resumes (the spec's `spot.restartMinutes`). */
  readonly restartSeconds: number;
  /** Seconds from a terminate call to `terminated` (billing stops then). ASSUMPTION. */
  readonly shutdownSeconds: number;
  /**
   * True throughput = planned x bias x lognormal(sigma), drawn once per job and configuration
   * (mean-preserving). ASSUMPTION: sigma 0.1 (a 10% spread) and bias 1; there is no public
   * figure for how far EC2 training throughput strays from an estimate.
   */
  readonly throughputSigma: number;
  readonly throughputBias: number;
  /**
   * Throughput the simulated world already revealed (a profile run measured it), keyed by
   * the job, the shape `type|nodes|gpusPerNode` and the planned figure: when it returns a
   * figure the attempt trains at it instead of planned x noise, so a plan built on a
   * measurement meets the world it measured. Absent: no measurements (every figure drawn).
   */
  readonly revealedThroughput?: (jobId: string, shape: string, plannedSamplesPerSecond: number) => number | undefined;
  /** Chance that any launch fails with InsufficientInstanceCapacity. ASSUMPTION: 0 by default (no public rate). */
  readonly capacityFailureProbability: number;
  readonly capacityOutages: readonly CapacityOutage[];
  /** Account quotas the simulated EC2 enforces (VcpuLimitExceeded); undefined: unlimited. */
  readonly quotas: QuotaTable | undefined;
  /** Per-region account quotas (EC2 quotas are per region); a region listed here ignores `quotas`. */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly scriptedCrashes: readonly ScriptedCrash[];
  /** Worker crashes per attempt-hour. ASSUMPTION: 0 by default. */
  readonly workerCrashRatePerHour: number;
  /** Event chaos for tests: each event is delivered twice with this probability, and batches are shuffled. */
  readonly duplicateEventProbability: number;
  readonly shuffleEvents: boolean;
}
