/**
 * Lower bounds that hold for every plan built from the same candidates, prices and quotas,
 * whoever builds it (planner or baseline). The benchmark uses them to tell a target that a
 * better planner could reach from one that no plan can:
 *
 *  - cost: every job pays at least its cheapest GPU share (price x GPUs / GPUs of the type)
 *    for its expected runtime, over its fitting candidates and the markets it may use;
 *    boot, idle GPUs and the 60-second minimum only add;
 *  - makespan: the boot time plus the longest of the jobs' shortest expected runtimes, over
 *    candidates whose instances the quota can hold at all.
 *
 * Over several regions each price and quota is the best any of the workload's regions
 * offers (transfer only adds to a cost).
 */
import { expectedHourlyPrice, offeredInstanceTypes } from "../../catalog/select.ts";
import { type BaselineContext, bootSeconds, quotasIn } from "./baseline-context.ts";
import { allowedMarkets, fittingCandidates } from "./job-options.ts";

export interface WorkloadBounds {
  readonly costUsd: number;
  readonly makespanSeconds: number;
}

export function workloadBounds(context: BaselineContext): WorkloadBounds {
  const { workload } = context;
  const types = offeredInstanceTypes(context.catalog, workload);
  const typesByName = new Map(types.map((type) => [type.name, type]));
  let costUsd = 0;
  let longest = 0;
  for (const job of workload.jobs) {
    let cheapest = Number.POSITIVE_INFINITY;
    let fastest = Number.POSITIVE_INFINITY;
    for (const candidate of fittingCandidates(context.candidatesFor(job, types))) {
      const type = typesByName.get(candidate.config.instanceType);
      if (type === undefined) continue;
      for (const market of allowedMarkets(job, workload.markets)) {
        for (const region of workload.regions) {
          const price = expectedHourlyPrice(type, region, market);
          if (price === undefined) continue;
          const seconds = context.expectedRuntimeSeconds(candidate, market);
          const gpus = candidate.config.nodes * candidate.config.gpusPerNode;
          cheapest = Math.min(cheapest, ((price * gpus) / type.gpus) * (seconds / 3600));
          if (candidate.config.nodes * type.vcpus <= quotasIn(context, region)[type.quotaGroups[market]][market]) {
            fastest = Math.min(fastest, seconds);
          }
        }
      }
    }
    costUsd += cheapest;
    longest = Math.max(longest, fastest);
  }
  return { costUsd, makespanSeconds: bootSeconds(context) + longest };
}
