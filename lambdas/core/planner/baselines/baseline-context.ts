/**
 * What every baseline plans from: the same workload, catalog, quotas and candidates as the
 * planner, so that their plans can be validated by `validatePlan` and compared like for like.
 * Candidates and the spot overhead come in as functions: the benchmark wires them to the
 * estimator's `enumerateCandidates` and to the planner's own expected-runtime rule, tests to
 * fixtures.
 */
import { expectedHourlyPrice } from "../../catalog/select.ts";
import type { Catalog, InstanceType } from "../../catalog/types.ts";
import type { Candidate } from "../../estimator/types.ts";
import type { Job, Workload } from "../../spec/workload.ts";
import type { Market } from "../../spec/workload-schema.ts";
import type { QuotaTable } from "../api.ts";

export interface BaselineContext {
  readonly workload: Workload;
  readonly catalog: Catalog;
  /** The home region's quotas (and every region's that `quotasByRegion` lacks). */
  readonly quotas: QuotaTable;
  /** Each planning region's quotas (EC2 quotas are per region); absent: `quotas` everywhere. */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  /** Every configuration of `job` on the given instance types, fitting or not (the estimator's candidates). */
  readonly candidatesFor: (job: Job, instanceTypes: readonly InstanceType[]) => readonly Candidate[];
  /**
   * Expected seconds the candidate needs in the market: its runtime, plus on spot the expected
   * interruption overhead. Must be the planner's rule, so that both are priced alike.
   */
  readonly expectedRuntimeSeconds: (candidate: Candidate, market: Market) => number;
  /** Wall-clock seconds, for `solveSeconds`; core stays clock-free. */
  readonly clock?: () => number;
  /**
   * Leave out `considered` and the lower bound (the planner compares baseline plans with
   * its own and fills both in itself; on thousands of jobs they are most of the work).
   */
  readonly lean?: boolean;
}

/** The instance type every fixed-cluster baseline uses: Saturn's evaluation ran on p4d. */
export const REFERENCE_INSTANCE_TYPE = "p4d.24xlarge";

export function bootSeconds(context: BaselineContext): number {
  return context.workload.planner.bootMinutes * 60;
}

/** The deadline a job must meet, seconds from the plan's start; undefined when there is none. */
export function jobDeadlineSeconds(context: BaselineContext, job: Job): number | undefined {
  const objective = context.workload.objective;
  const workloadHours = objective.kind === "min-time" ? undefined : objective.deadlineHours;
  const hours = job.deadlineHours ?? workloadHours;
  return hours === undefined ? undefined : hours * 3600;
}

export function findInstanceType(context: BaselineContext, name: string): InstanceType | undefined {
  return context.catalog.instanceTypes.find((type) => type.name === name);
}

/** Instances of `type` the home region's quota admits at once in `market`. */
export function quotaInstanceLimit(context: BaselineContext, type: InstanceType, market: Market): number {
  const group = type.quotaGroups[market];
  return Math.floor(context.quotas[group][market] / type.vcpus);
}

/** The quotas of `region`: its own where the context has them, else the home region's. */
export function quotasIn(context: BaselineContext, region: string): QuotaTable {
  return context.quotasByRegion?.[region] ?? context.quotas;
}

/**
 * The lowest expected hourly price of `type` in `market` over the workload's regions (what a
 * lower bound may assume: transfer only adds to it); undefined where no region offers it.
 */
export function lowestExpectedPrice(context: BaselineContext, type: InstanceType, market: Market): number | undefined {
  let lowest: number | undefined;
  for (const region of context.workload.regions) {
    const price = expectedHourlyPrice(type, region, market);
    if (price !== undefined && (lowest === undefined || price < lowest)) lowest = price;
  }
  return lowest;
}
