/**
 * The planners the control plane runs: C1's MILP planner (`planWorkload` on HiGHS) for
 * plan v1, under the spec's time limit, and for re-plans of the remaining work under a
 * shorter one (a reconcile pass must not stall). Measured profiles come from the store
 * (throughput the workers reported, by job signature) and, during a run, from the record.
 */
import type { Catalog } from "../core/catalog/types.ts";
import type { WorkloadQuotas } from "../core/control-plane/reconcile-pass.ts";
import type { RemainingWorkPlanner } from "../core/engine/execution-engine.ts";
import { withMeasurements, withTimeLimit } from "../core/engine/replan-inputs.ts";
import { jobSignature } from "../core/estimator/job-signature.ts";
import { InMemoryProfileStore } from "../core/estimator/profiles.ts";
import type { ProfileStore } from "../core/estimator/types.ts";
import type { PlanningResult, SolverPort } from "../core/planner/api.ts";
import { planWorkload } from "../core/planner/plan-workload.ts";
import type { Workload } from "../core/spec/workload.ts";
import type { WorkloadStore } from "../core/store/workload-store.ts";

export interface PlanningOptions {
  readonly store: WorkloadStore;
  readonly catalog: Catalog;
  readonly solver: SolverPort;
  readonly quotasFor: (workload: Workload) => Promise<WorkloadQuotas>;
  /** Upper bound on the first plan's solver time, seconds (the spec's limit applies below it). */
  readonly planSeconds?: number;
  /** Solver time of a re-plan, seconds. */
  readonly replanSeconds: number;
  /** Wall-clock seconds, for the plan's solveSeconds. */
  readonly clock: () => number;
}

export interface ControlPlanePlanners {
  readonly initial: (workload: Workload) => Promise<PlanningResult>;
  readonly remaining: RemainingWorkPlanner;
}

async function storedProfiles(store: WorkloadStore, workload: Workload): Promise<ProfileStore> {
  const signatures = [...new Set(workload.jobs.map((job) => jobSignature(job)))];
  return new InMemoryProfileStore(await store.profiles(signatures));
}

export function controlPlanePlanners(options: PlanningOptions): ControlPlanePlanners {
  const { store, catalog, solver, clock } = options;
  return {
    initial: async (workload) => {
      const limit = Math.min(workload.planner.timeLimitSeconds, options.planSeconds ?? Number.POSITIVE_INFINITY);
      const { quotas, quotasByRegion } = await options.quotasFor(workload);
      return planWorkload({
        workload: withTimeLimit(workload, limit),
        catalog,
        quotas,
        ...(quotasByRegion === undefined ? {} : { quotasByRegion }),
        profiles: await storedProfiles(store, workload),
        solver,
        clock,
      });
    },
    remaining: async ({ workload, excludedOffers, quotas, quotasByRegion, measured }) => {
      const limit = Math.min(workload.planner.timeLimitSeconds, options.replanSeconds);
      const result = await planWorkload({
        workload: withTimeLimit(workload, limit),
        catalog,
        quotas,
        ...(quotasByRegion === undefined ? {} : { quotasByRegion }),
        profiles: withMeasurements(await storedProfiles(store, workload), workload, measured),
        solver,
        excludedOffers,
        clock,
      });
      return result.plan;
    },
  };
}
