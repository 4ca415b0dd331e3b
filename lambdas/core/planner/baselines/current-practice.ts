/**
 * Baseline "current practice" (Saturn, VLDB 2024, section 6): every job gets all 8 GPUs of
 * one p4d.24xlarge, on-demand, with the technique that is fastest on 8 GPUs; jobs run FIFO
 * in the order the spec lists them, on as many instances as the on-demand P quota admits
 * (at most one per job). All instances launch at t = 0; each is released after its last job.
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

export const CURRENT_PRACTICE = "current-practice";

export function currentPracticePlan(context: BaselineContext, options: { readonly instances?: number } = {}): Plan {
  const startedAt = context.clock?.();
  const pool = referencePool(context, CURRENT_PRACTICE, options.instances);
  const chosen = new Map<string, FittingCandidate>();
  const choices: JobChoice[] = [];
  const poolJobs = context.workload.jobs.map((job) => {
    const candidates = singleInstanceCandidates(context, job, pool).filter(
      (candidate) => candidate.config.gpusPerNode === pool.type.gpus,
    );
    const options = singleInstanceOptions(candidates);
    requireOptions(job, options, CURRENT_PRACTICE, pool);
    const best = options[0] as FittingCandidate;
    chosen.set(job.id, best);
    choices.push({ jobId: job.id, candidates, chosen: best.config, market: "on-demand" });
    return { jobId: job.id, gpus: pool.type.gpus, durationSeconds: context.expectedRuntimeSeconds(best, "on-demand") };
  });
  const placements = schedulePool(poolJobs, {
    instanceCount: pool.instanceCount,
    gpusPerInstance: pool.type.gpus,
    readyAt: bootSeconds(context),
  });
  const schedule = poolSchedule(context, pool, placements, chosen, {
    rentWholeMakespan: false,
    idPrefix: CURRENT_PRACTICE,
  });
  return baselinePlan(context, { ...schedule, choices }, startedAt);
}
