/**
 * The plan: what `saturn plan --json` prints and what the reconciler executes.
 * Times are seconds from the plan's start (t = 0). Documented in `docs/plan.md`;
 * changes to this shape bump `schemaVersion`.
 */
import type { Configuration, ThroughputSource } from "../estimator/types.ts";
import type { Market, Technique } from "../spec/workload-schema.ts";

export interface PlannedInstance {
  readonly id: string;
  readonly instanceType: string;
  readonly market: Market;
  /** The region it runs in; absent in plans written before regions existed (read: the workload's region). */
  readonly region?: string;
  readonly availabilityZone: string | undefined;
  readonly start: number;
  readonly end: number;
  /** Expected USD per hour (spot: the mean over the region's AZs, else the midpoint of their range). */
  readonly hourlyPriceUsd: number;
  /**
   * Worst-case USD per hour (spot: the highest AZ price; on demand: the same as
   * `hourlyPriceUsd`), what budgets are checked with. Absent in plans written before it
   * existed and in baseline plans: read `hourlyPriceUsd` then.
   */
  readonly budgetHourlyPriceUsd?: number;
}

export interface Assignment {
  readonly jobId: string;
  readonly technique: Technique;
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  readonly start: number;
  readonly end: number;
  readonly samplesPerSecond: number;
  readonly throughputSource: ThroughputSource;
  /**
   * The GPUs the job uses on each of its instances (the same indices on every instance):
   * CUDA_VISIBLE_DEVICES for the worker. Optional for plans written before it existed.
   */
  readonly gpuIndices?: readonly number[];
  /** Spot only: expected runtime including interruption overhead (end - start); on-demand: undefined. */
  readonly expectedOverheadSeconds?: number;
  /** USD for moving the job's data and checkpoints between its region and the home region; absent at home. */
  readonly transferUsd?: number;
}

export interface ConsideredCandidate {
  readonly config: Configuration;
  readonly fits: boolean;
  readonly reason: string | undefined;
  readonly samplesPerSecond: number | undefined;
  readonly runtimeSeconds: number | undefined;
  readonly costUsd: Partial<Record<Market, number>>;
  readonly chosen: boolean;
}

/**
 * Where a plan came from: the MILP's schedule, the slotted greedy schedule (its incumbent),
 * the continuous-time list schedule, the LP-guided list schedule, or one of the baselines (by their names; "greedy" is
 * the Optimus*-greedy baseline).
 */
export type PlanSource =
  | "milp"
  | "slotted-greedy"
  | "list-schedule"
  | "lp-guided"
  | "current-practice"
  | "per-job-cheapest"
  | "fixed-cluster"
  | "greedy";

export interface Plan {
  readonly schemaVersion: 1;
  readonly workload: string;
  readonly objective: "min-cost" | "min-time" | "pareto";
  readonly instances: readonly PlannedInstance[];
  readonly assignments: readonly Assignment[];
  readonly totals: {
    /** Sum over instances of hourlyPriceUsd x billed seconds: what the plan is expected to cost. */
    readonly expectedCostUsd: number;
    readonly makespanSeconds: number;
    /**
     * The same lifetimes at `budgetHourlyPriceUsd`: the most the plan can cost at the
     * catalog's prices; what a budget is checked against. Absent where the instances lack it.
     */
    readonly budgetCostUsd?: number;
    /**
     * Inter-region data transfer of the jobs placed outside the home region (sum of the
     * assignments' `transferUsd`), on top of the instance costs above. Absent: none.
     */
    readonly transferCostUsd?: number;
  };
  /**
   * Lower bound on the objective (USD for min-cost, seconds for min-time) that holds for
   * every plan on the same candidates, prices, quotas and deadlines, this one included.
   */
  readonly lowerBound: number;
  /** Relative gap between the plan's objective and the lower bound. */
  readonly gap: number;
  readonly solveSeconds: number;
  /**
   * How the planner discretised time (optional, absent for plans from other sources):
   * jobs start on a grid of `slotSeconds` from t = `originSeconds`; the slotted model's
   * objective (`modelObjective`) rounds every run up to whole slots, so the plan's own
   * cost or makespan is at most that. See docs/plan.md, "Time discretisation".
   */
  readonly discretisation?: {
    readonly slotSeconds: number;
    readonly slots: number;
    readonly originSeconds: number;
    readonly modelObjective: number;
    readonly solverStatus: string;
    /**
     * The solver's proven bound on `modelObjective` (slotted schedules only; the decoded plan
     * may cost less than it, so it is not `lowerBound`). Absent in plans written before it existed.
     */
    readonly lowerBound?: number;
  };
  /**
   * Which of the plans the planner compared was returned, and why (docs/plan.md, "Plans
   * compared"). Absent in plans from other sources.
   */
  readonly chosenFrom?: {
    readonly source: PlanSource;
    readonly reason: string;
    /** Every valid plan compared, with its figures. */
    readonly compared: readonly {
      readonly source: PlanSource;
      readonly costUsd: number;
      readonly makespanSeconds: number;
    }[];
  };
  readonly considered: readonly { readonly jobId: string; readonly candidates: readonly ConsideredCandidate[] }[];
}
