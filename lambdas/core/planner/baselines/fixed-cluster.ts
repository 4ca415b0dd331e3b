/**
 * Baseline "Saturn on a fixed cluster": Saturn's own setting (VLDB 2024): a fixed pool of
 * p4d.24xlarge instances, on-demand, rented from t = 0 for the whole makespan; each job on
 * 1, 2, 4 or 8 GPUs of one instance with the fastest technique for that GPU count; the
 * schedule minimises makespan. Saturn solves this with a MILP; here a moldable-job list
 * schedule stands in, documented as such:
 *
 *   1. For every threshold T (the distinct expected runtimes of all options, at most
 *      MAX_THRESHOLDS of them spread over their range, plus "no threshold"), each job takes
 *      its option with the fewest GPU-seconds among those that finish within T (its fastest
 *      option when none does). A small T buys speed with GPUs; a large T buys efficiency.
 *   2. Each allotment is list-scheduled (`schedulePool`) twice: longest runtime first (LPT),
 *      and most GPUs first, then longest.
 *   3. The schedule with the shortest makespan wins (ties: fewer GPU-seconds).
 *
 * The pool defaults to as many instances as the on-demand P quota admits, at most one per job.
 */
import type { Plan } from "../plan.ts";
import { type BaselineContext, bootSeconds } from "./baseline-context.ts";
import { baselinePlan, type JobChoice } from "./baseline-plan.ts";
import type { FittingCandidate } from "./job-options.ts";
import { type PoolJob, type PoolPlacement, poolMakespan, schedulePool } from "./pool-schedule.ts";
import {
  poolSchedule,
  type ReferencePool,
  referencePool,
  requireOptions,
  singleInstanceCandidates,
  singleInstanceOptions,
} from "./reference-pool.ts";

export const FIXED_CLUSTER = "fixed-cluster";

/** Bounds the search on large workloads: 64 thresholds x 2 orders list schedules. */
const MAX_THRESHOLDS = 64;

interface JobOptions {
  readonly jobId: string;
  /** Fewest GPUs first; each with its expected on-demand runtime. */
  readonly options: readonly { readonly candidate: FittingCandidate; readonly seconds: number }[];
}

export function fixedClusterPlan(context: BaselineContext, options: { readonly instances?: number } = {}): Plan {
  const startedAt = context.clock?.();
  const pool = referencePool(context, FIXED_CLUSTER, options.instances);
  const choices: JobChoice[] = [];
  const menus: JobOptions[] = context.workload.jobs.map((job) => {
    const candidates = singleInstanceCandidates(context, job, pool);
    const fitting = singleInstanceOptions(candidates);
    requireOptions(job, fitting, FIXED_CLUSTER, pool);
    choices.push({ jobId: job.id, candidates, chosen: (fitting[0] as FittingCandidate).config, market: "on-demand" });
    return {
      jobId: job.id,
      options: fitting.map((candidate) => ({
        candidate,
        seconds: context.expectedRuntimeSeconds(candidate, "on-demand"),
      })),
    };
  });

  const best = bestSchedule(menus, pool, bootSeconds(context));
  const chosen = new Map(menus.map((menu, index) => [menu.jobId, best.allotment[index] as FittingCandidate]));
  const schedule = poolSchedule(context, pool, best.placements, chosen, {
    rentWholeMakespan: true,
    idPrefix: FIXED_CLUSTER,
  });
  return baselinePlan(
    context,
    {
      ...schedule,
      choices: choices.map((choice) => ({ ...choice, chosen: (chosen.get(choice.jobId) as FittingCandidate).config })),
    },
    startedAt,
  );
}

function bestSchedule(
  menus: readonly JobOptions[],
  pool: ReferencePool,
  readyAt: number,
): { allotment: FittingCandidate[]; placements: PoolPlacement[] } {
  let best: { allotment: FittingCandidate[]; placements: PoolPlacement[]; makespan: number; area: number } | undefined;
  for (const threshold of thresholds(menus)) {
    const picks = menus.map((menu) => pick(menu, threshold));
    const area = picks.reduce((sum, option) => sum + option.seconds * option.candidate.config.gpusPerNode, 0);
    const jobs: PoolJob[] = picks.map((option, index) => ({
      jobId: (menus[index] as JobOptions).jobId,
      gpus: option.candidate.config.gpusPerNode,
      durationSeconds: option.seconds,
    }));
    const orders = [
      [...jobs].sort((a, b) => b.durationSeconds - a.durationSeconds),
      [...jobs].sort((a, b) => b.gpus - a.gpus || b.durationSeconds - a.durationSeconds),
    ];
    for (const order of orders) {
      const placements = schedulePool(order, {
        instanceCount: pool.instanceCount,
        gpusPerInstance: pool.type.gpus,
        readyAt,
      });
      const makespan = poolMakespan(placements);
      if (
        best === undefined ||
        makespan < best.makespan - 1e-6 ||
        (Math.abs(makespan - best.makespan) <= 1e-6 && area < best.area)
      ) {
        best = { allotment: picks.map((option) => option.candidate), placements, makespan, area };
      }
    }
  }
  if (best === undefined) throw new RangeError("expected at least one job to schedule");
  return best;
}

function pick(menu: JobOptions, threshold: number): JobOptions["options"][number] {
  const within = menu.options.filter((option) => option.seconds <= threshold + 1e-9);
  const eligible = within.length > 0 ? within : menu.options;
  return eligible.reduce((best, option) => {
    if (within.length === 0) return option.seconds < best.seconds ? option : best;
    const area = option.seconds * option.candidate.config.gpusPerNode;
    const bestArea = best.seconds * best.candidate.config.gpusPerNode;
    return area < bestArea - 1e-9 ? option : best;
  });
}

function thresholds(menus: readonly JobOptions[]): number[] {
  const distinct = [...new Set(menus.flatMap((menu) => menu.options.map((option) => option.seconds)))].sort(
    (a, b) => a - b,
  );
  const spread =
    distinct.length <= MAX_THRESHOLDS
      ? distinct
      : Array.from(
          { length: MAX_THRESHOLDS },
          (_, index) => distinct[Math.round((index * (distinct.length - 1)) / (MAX_THRESHOLDS - 1))] as number,
        );
  return [...spread, Number.POSITIVE_INFINITY];
}
