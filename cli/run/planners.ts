/**
 * The planners `saturn run` uses: C1's MILP planner (`planWorkload` on HiGHS) for the
 * first plan, and the same planner with a shorter time limit for re-plans of the
 * remaining work (a re-plan must not stall the run; the adoption rule only takes it when
 * it is better or the current plan is broken).
 */
import { HighsSolver } from "../../lambdas/adapters/highs-solver.ts";
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import type { RemainingWorkPlanner } from "../../lambdas/core/engine/execution-engine.ts";
import { jobSignature } from "../../lambdas/core/estimator/candidates.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import type { ProfileRecord, ProfileStore } from "../../lambdas/core/estimator/types.ts";
import type { PlanningResult, QuotaTable } from "../../lambdas/core/planner/api.ts";
import { planWorkload } from "../../lambdas/core/planner/plan-workload.ts";
import type { MeasuredThroughput } from "../../lambdas/core/reconciler/execution-record.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";

export interface RunPlanners {
  readonly initial: (workload: Workload) => Promise<PlanningResult>;
  readonly remaining: RemainingWorkPlanner;
}

export function withTimeLimit(workload: Workload, seconds: number): Workload {
  return { ...workload, planner: { ...workload.planner, timeLimitSeconds: seconds } };
}

export function milpPlanners(options: {
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  /** Multi-region workloads: every region's quotas (re-plans apply quota cuts to the home region only). */
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
    remaining: async ({ workload, excludedOffers, quotas, measured }) => {
      const result = await planWorkload({
        workload: withTimeLimit(workload, Math.min(workload.planner.timeLimitSeconds, options.replanSeconds)),
        catalog,
        quotas,
        ...byRegion,
        profiles: withMeasurements(profiles, workload, measured),
        solver,
        excludedOffers,
        clock,
      });
      return result.plan;
    },
  };
}

/**
 * Profiles for a re-plan: what was measured during the run, as profile records (they
 * override the estimator for their exact configuration), ahead of the given store. Sweep
 * clones share a job signature, so one clone's measurement informs the others.
 */
export function withMeasurements(
  base: ProfileStore,
  workload: Workload,
  measured: readonly MeasuredThroughput[],
): ProfileStore {
  const jobs = new Map(workload.jobs.map((job) => [job.id, job]));
  const records: ProfileRecord[] = [];
  for (const m of measured) {
    const job = jobs.get(m.jobId);
    if (job === undefined) continue;
    records.push({
      jobSignature: jobSignature(job),
      technique: m.technique,
      instanceType: m.instanceType,
      nodes: m.nodes,
      gpusPerNode: m.gpusPerNode,
      samplesPerSecond: m.samplesPerSecond,
      peakMemoryGiBPerGpu: 0,
      // Virtual seconds, zero-padded so that the latest measurement sorts last.
      measuredAt: `sim-t${String(Math.round(m.at)).padStart(12, "0")}`,
      where: "sim",
    });
  }
  if (records.length === 0) return base;
  const measuredStore = new InMemoryProfileStore(records);
  return { find: (signature, config) => measuredStore.find(signature, config) ?? base.find(signature, config) };
}
