/**
 * Baseline "greedy" (Optimus*-greedy in Saturn, VLDB 2024, section 6, after Optimus,
 * EuroSys 2018), on the same fixed pool of p4d.24xlarge as `fixed-cluster.ts`:
 *
 *   1. Every job starts on its fewest GPUs that fit (1 where it fits), fastest technique.
 *   2. While GPUs of the pool are unallotted, the next step up (to the job's next fitting
 *      GPU count) goes to the job whose expected runtime drops most per added GPU; steps
 *      that would overshoot the pool's GPU total, or do not shorten the job, are not taken.
 *   3. Jobs are list-scheduled (`schedulePool`) in the order the spec lists them (Saturn
 *      uses a random order; the spec order keeps the baseline deterministic).
 *
 * The pool is rented from t = 0 for the whole makespan, like any fixed cluster.
 */
import type { Plan } from "../plan.ts";
import { type BaselineContext, bootSeconds } from "./baseline-context.ts";
import { baselinePlan, type JobChoice } from "./baseline-plan.ts";
import type { FittingCandidate } from "./job-options.ts";
import { schedulePool } from "./pool-schedule.ts";
import {
  poolSchedule,
  referencePool,
  requireOptions,
  singleInstanceCandidates,
  singleInstanceOptions,
} from "./reference-pool.ts";

export const GREEDY = "greedy";

export function greedyPlan(context: BaselineContext, options: { readonly instances?: number } = {}): Plan {
  const startedAt = context.clock?.();
  const pool = referencePool(context, GREEDY, options.instances);
  const choices: JobChoice[] = [];
  const menus = context.workload.jobs.map((job) => {
    const candidates = singleInstanceCandidates(context, job, pool);
    const fitting = singleInstanceOptions(candidates);
    requireOptions(job, fitting, GREEDY, pool);
    choices.push({ jobId: job.id, candidates, chosen: (fitting[0] as FittingCandidate).config, market: "on-demand" });
    return fitting.map((candidate) => ({ candidate, seconds: context.expectedRuntimeSeconds(candidate, "on-demand") }));
  });

  // Step 1 and 2: allot GPUs by the largest runtime drop per added GPU.
  const level = menus.map(() => 0);
  let free = pool.instanceCount * pool.type.gpus - menus.reduce((sum, menu) => sum + gpusOf(menu[0]), 0);
  for (;;) {
    let best: { job: number; gain: number; extra: number } | undefined;
    menus.forEach((menu, job) => {
      const current = menu[level[job] as number];
      const next = menu[(level[job] as number) + 1];
      if (current === undefined || next === undefined) return;
      const extra = gpusOf(next) - gpusOf(current);
      if (extra > free) return;
      const gain = (current.seconds - next.seconds) / extra;
      if (gain > 0 && (best === undefined || gain > best.gain)) best = { job, gain, extra };
    });
    if (best === undefined) break;
    const step: { job: number; extra: number } = best;
    level[step.job] = (level[step.job] as number) + 1;
    free -= step.extra;
  }

  const allotted = menus.map((menu, job) => menu[level[job] as number] as (typeof menu)[number]);
  const jobs = context.workload.jobs.map((job, index) => ({
    jobId: job.id,
    gpus: gpusOf(allotted[index]),
    durationSeconds: (allotted[index] as { seconds: number }).seconds,
  }));
  const placements = schedulePool(jobs, {
    instanceCount: pool.instanceCount,
    gpusPerInstance: pool.type.gpus,
    readyAt: bootSeconds(context),
  });
  const chosen = new Map(
    jobs.map((job, index) => [job.jobId, (allotted[index] as { candidate: FittingCandidate }).candidate]),
  );
  const schedule = poolSchedule(context, pool, placements, chosen, { rentWholeMakespan: true, idPrefix: GREEDY });
  return baselinePlan(
    context,
    {
      ...schedule,
      choices: choices.map((choice) => ({ ...choice, chosen: (chosen.get(choice.jobId) as FittingCandidate).config })),
    },
    startedAt,
  );
}

function gpusOf(option: { readonly candidate: FittingCandidate } | undefined): number {
  return option?.candidate.config.gpusPerNode ?? 0;
}
