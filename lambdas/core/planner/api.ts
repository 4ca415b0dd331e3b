/**
 * The planner's public contract, shared by the CLI, the Lambdas, the simulator, the
 * reconciler (re-planning) and the benchmarks. Implemented in `plan-workload.ts`.
 */
import type { Catalog } from "../catalog/types.ts";
import type { ProfileStore } from "../estimator/types.ts";
import type { Workload } from "../spec/workload.ts";
import type { Market, QuotaGroup } from "../spec/workload-schema.ts";
import type { Plan } from "./plan.ts";

/** vCPU quota per quota group and market, as the planner must respect at every moment. */
export type QuotaTable = Readonly<Record<QuotaGroup, Readonly<Record<Market, number>>>>;

/** Port to a MILP solver (the HiGHS WASM build lives in `lambdas/adapters/highs-solver.ts`). */
export interface SolverPort {
  solve(model: MilpModel, options: SolveOptions): Promise<MilpSolution>;
}

export interface SolveOptions {
  readonly timeLimitSeconds: number;
  readonly mipGap: number;
}

/** A MILP in CPLEX LP text form, with readable row and column names. */
export interface MilpModel {
  readonly lp: string;
  /** Column names, in the order the solution reports them. */
  readonly columns: readonly string[];
  /** A feasible start (column name -> value), e.g. the greedy plan; the solver may ignore it. */
  readonly initialSolution?: ReadonlyMap<string, number>;
}

export interface MilpSolution {
  readonly status: "optimal" | "time-limit" | "infeasible" | "unbounded" | "error";
  /** Column values by name (present for optimal and time-limit with an incumbent). */
  readonly values: ReadonlyMap<string, number>;
  readonly objective: number | undefined;
  /** Best proven bound on the objective. */
  readonly bound: number | undefined;
  readonly seconds: number;
  readonly message: string | undefined;
}

/** An offer that failed at launch; without `region` it is excluded in every region. */
export interface ExcludedOffer {
  readonly instanceType: string;
  readonly market: Market;
  readonly region?: string;
}

export interface PlanningInput {
  readonly workload: Workload;
  readonly catalog: Catalog;
  /** The home region's quotas (and every region's where `quotasByRegion` lacks it). */
  readonly quotas: QuotaTable;
  /** Quotas per region for multi-region workloads (EC2 quotas are per region). */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly profiles: ProfileStore;
  readonly solver: SolverPort;
  /** Re-planning: offers that failed (capacity errors) and must not be used. */
  readonly excludedOffers?: readonly ExcludedOffer[];
  /** Wall-clock seconds, for solveSeconds; pass a function so core stays clock-free. */
  readonly clock?: () => number;
  /** Progress callback for long solves. */
  readonly onProgress?: (message: string) => void;
}

export interface PlanningResult {
  /** The chosen plan (for pareto: the frontier point with the lowest cost that meets any bounds). */
  readonly plan: Plan;
  /** Pareto mode: the non-dominated plans, cheapest first. */
  readonly frontier: readonly Plan[] | undefined;
  /** Things the user should know (stale prices, quota defaults assumed, candidates pruned...). */
  readonly warnings: readonly string[];
}
