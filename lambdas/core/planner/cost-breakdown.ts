/**
 * Where a plan's instance cost goes (docs/plan.md, "Where the cost goes at scale"): the GPU
 * share its jobs use, what its instances pay before their first job (boot, and any wait),
 * and the GPUs left idle while an instance runs (lanes no job uses, gaps between jobs, the
 * 60-second minimum). The three add up to the plan's expected instance cost.
 *
 * The model-free lower bound (`bounds.ts`) charges jobs only their GPU share, so
 * plan - bound = boot + idle + (jobs' GPU share - bound): the last term is what the plan's
 * choice of configurations costs over the bound's, the first two what packing whole
 * instances costs, which the bound does not count.
 */
import type { Plan } from "./plan.ts";
import { instanceCostUsd } from "./validate-plan.ts";

export interface CostBreakdown {
  /** Price x GPUs used / GPUs of the type x the jobs' run time, summed over assignments. */
  readonly jobsGpuShareUsd: number;
  /** Whole instances from launch to their first job's start. */
  readonly beforeFirstJobUsd: number;
  /** The rest of the instances' cost: GPUs no job uses while they run. */
  readonly idleGpusUsd: number;
  /** Inter-region transfer, outside the instance cost. */
  readonly transferUsd: number;
}

export function costBreakdown(
  plan: Pick<Plan, "instances" | "assignments">,
  gpusOf: (instanceType: string) => number,
): CostBreakdown {
  const firstStart = new Map<string, number>();
  const usedGpuSeconds = new Map<string, number>();
  let transferUsd = 0;
  for (const assignment of plan.assignments) {
    transferUsd += assignment.transferUsd ?? 0;
    for (const id of assignment.instanceIds) {
      firstStart.set(id, Math.min(firstStart.get(id) ?? Number.POSITIVE_INFINITY, assignment.start));
      usedGpuSeconds.set(
        id,
        (usedGpuSeconds.get(id) ?? 0) + assignment.gpusPerInstance * (assignment.end - assignment.start),
      );
    }
  }
  let jobsGpuShareUsd = 0;
  let beforeFirstJobUsd = 0;
  let idleGpusUsd = 0;
  for (const instance of plan.instances) {
    const total = instanceCostUsd(instance);
    const gpus = Math.max(1, gpusOf(instance.instanceType));
    const share = (instance.hourlyPriceUsd * (usedGpuSeconds.get(instance.id) ?? 0)) / gpus / 3600;
    const first = firstStart.get(instance.id) ?? instance.end;
    const before = (instance.hourlyPriceUsd * Math.max(0, first - instance.start)) / 3600;
    jobsGpuShareUsd += share;
    beforeFirstJobUsd += before;
    idleGpusUsd += total - share - before;
  }
  return { jobsGpuShareUsd, beforeFirstJobUsd, idleGpusUsd, transferUsd };
}
