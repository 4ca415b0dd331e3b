/**
 * The planners `saturn run` uses: C1's MILP planner (`planWorkload` on HiGHS) for the
 * first plan, and the same planner with a shorter time limit for re-plans of the
 * remaining work (a re-plan must not stall the run; the adoption rule only takes it when
 * it is better or the current plan is broken).
 */
import { HighsSolver } from "../../lambdas/adapters/highs-solver.ts";
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import type { RemainingWorkPlanner } from "../../lambdas/core/engine/execution-engine.ts";
import { withMeasurements, withTimeLimit } from "../../lambdas/core/engine/replan-inputs.ts";
import type { ProfileStore } from "../../lambdas/core/estimator/types.ts";
import type { PlanningResult, QuotaTable } from "../../lambdas/core/planner/api.ts";
import { planWorkload } from "../../lambdas/core/planner/plan-workload.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";

export { withMeasurements, withTimeLimit };

export interface RunPlanners {
  readonly initial: (workload: Workload) => Promise<PlanningResult>;
  readonly remaining: RemainingWorkPlanner;
}

export function milpPlanners(options: {
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  /** Multi-region workloads: every region's quotas (re-plans take the engine's, with each region's cuts). */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly profiles: ProfileStore;
  readonly planSeconds: number;
  readonly replanSeconds: number;
}): RunPlanners {
  const solver = new HighsSolver();
  const clock = () => performance.now() / 1000;
  const { catalog, profiles } = options;
  const byRegion = options.quotasByRegion === undefined ? {} : { quotasByRegion: options.quotasByRegion };
  return {
    initial: (workload) =>
      planWorkload({
        workload: withTimeLimit(workload, Math.min(workload.planner.timeLimitSeconds, options.planSeconds)),
        catalog,
        quotas: options.quotas,
        ...byRegion,
        profiles,
        solver,
        clock,
      }),
    remaining: async ({ workload, excludedOffers, quotas, quotasByRegion, measured }) => {
      const result = await planWorkload({
        workload: withTimeLimit(workload, Math.min(workload.planner.timeLimitSeconds, options.replanSeconds)),
        catalog,
        quotas,
        ...(quotasByRegion === undefined ? byRegion : { quotasByRegion }),
        profiles: withMeasurements(profiles, workload, measured),
        solver,
        excludedOffers,
        clock,
      });
      return result.plan;
    },
  };
}
