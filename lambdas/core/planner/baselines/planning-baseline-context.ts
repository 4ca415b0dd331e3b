/**
 * The baseline context that matches the planner: candidates from the estimator's
 * `enumerateCandidates` (same catalog, region, markets and profiles) and spot runtimes
 * stretched by the planner's own `spotSlowdown`. Candidates are memoised per job signature,
 * amount of work, techniques and instance types: sweep clones differ only in id, so a
 * 1,000-job sweep costs a handful of enumerations.
 */
import type { Catalog, InstanceType } from "../../catalog/types.ts";
import { enumerateCandidates, jobSignature } from "../../estimator/candidates.ts";
import type { Candidate, ProfileStore } from "../../estimator/types.ts";
import type { Workload } from "../../spec/workload.ts";
import type { QuotaTable } from "../api.ts";
import { spotSlowdown } from "../spot-overhead.ts";
import type { BaselineContext } from "./baseline-context.ts";

export interface PlanningBaselineInput {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  /** Each planning region's quotas; absent: `quotas` in every region. */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly profiles: ProfileStore;
  readonly clock?: () => number;
}

export function planningBaselineContext(input: PlanningBaselineInput): BaselineContext {
  const { workload, catalog } = input;
  const memo = new Map<string, readonly Candidate[]>();
  const typesByName = new Map(catalog.instanceTypes.map((type) => [type.name, type]));
  const candidatesFor = (
    job: Workload["jobs"][number],
    instanceTypes: readonly InstanceType[],
  ): readonly Candidate[] => {
    const key = [
      jobSignature(job),
      job.totalSamples,
      job.techniques.join(","),
      instanceTypes.map((type) => type.name).join(","),
    ].join("|");
    let shared = memo.get(key);
    if (shared === undefined) {
      shared = enumerateCandidates(job, {
        catalog,
        region: workload.region,
        markets: workload.markets,
        instanceTypes,
        profiles: input.profiles,
      });
      memo.set(key, shared);
    }
    return shared[0]?.jobId === job.id ? shared : shared.map((candidate) => ({ ...candidate, jobId: job.id }));
  };
  return {
    workload,
    catalog,
    quotas: input.quotas,
    ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
    candidatesFor,
    expectedRuntimeSeconds: (candidate, market) => {
      const runtime = candidate.runtimeSeconds ?? Number.POSITIVE_INFINITY;
      const type = typesByName.get(candidate.config.instanceType);
      return market === "spot" && type !== undefined ? runtime * spotSlowdown(type, workload.spot) : runtime;
    },
    ...(input.clock === undefined ? {} : { clock: input.clock }),
  };
}
