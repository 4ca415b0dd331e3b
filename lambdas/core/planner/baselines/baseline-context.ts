/**
 * What every baseline plans from: the same workload, catalog, quotas and candidates as the
 * planner, so that their plans can be validated by `validatePlan` and compared like for like.
 * Candidates and the spot overhead come in as functions: the benchmark wires them to the
 * estimator's `enumerateCandidates` and to the planner's own expected-runtime rule, tests to
 * fixtures.
 */
import type { Catalog, InstanceType } from "../../catalog/types.ts";
import type { Candidate } from "../../estimator/types.ts";
import type { Job, Workload } from "../../spec/workload.ts";
import type { Market } from "../../spec/workload-schema.ts";
import type { QuotaTable } from "../api.ts";

export interface BaselineContext {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
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

/** Instances of `type` the quota admits at once in `market`. */
export function quotaInstanceLimit(context: BaselineContext, type: InstanceType, market: Market): number {
  const group = type.quotaGroups[market];
  return Math.floor(context.quotas[group][market] / type.vcpus);
}
