/**
 * Re-planning ("introspection", as in Saturn): the remaining work becomes a new workload,
 * the planner solves it, and the new plan is adopted only when the current one is broken or
 * the new one improves the objective by more than the adoption threshold. Running
 * instances that fit the new plan are bound to its slots, so the jobs on them keep running.
 */
import type { CloudInstance } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { Plan } from "../planner/plan.ts";
import type { Workload } from "../spec/workload.ts";
import type { Objective } from "../spec/workload-schema.ts";
import { objectiveBudgetUsd, objectiveDeadlineHours } from "./deadlines.ts";
import type { ExecutionRecord, ReplanRequest } from "./execution-record.ts";
import { isUsable } from "./plan-view.ts";

/** A deadline already passed still gets a positive (tiny) one, so the planner says how late it must be. */
const MIN_REMAINING_HOURS = 1 / 60;

/** Progress a job keeps: the running attempt's (it checkpoints before it moves) or the last checkpoint. */
export function keptSamples(report: JobReport | undefined): number {
  return report?.attempt?.samplesDone ?? report?.checkpointSamples ?? 0;
}

/**
 * The workload of what is left at `now`: pending jobs with their remaining samples,
 * deadlines shifted to now, the budget less what was spent. Jobs the deadline rule took off
 * spot are marked not checkpointable, which the planner never puts on spot.
 */
export function remainingWorkload(
  workload: Workload,
  record: ExecutionRecord,
  reports: ReadonlyMap<string, JobReport>,
  now: number,
  spendUsd: number,
): Workload {
  const elapsedHours = (now - record.startedAt) / 3600;
  const shift = (hours: number | undefined) =>
    hours === undefined ? undefined : Math.max(MIN_REMAINING_HOURS, hours - elapsedHours);
  const workloadDeadline = objectiveDeadlineHours(record.objective);
  const restartHours = workload.spot.restartMinutes / 60;
  const jobs = workload.jobs
    .filter((job) => record.jobs[job.id]?.status === "pending")
    .map((job) => {
      const report = reports.get(job.id);
      // A job that has started pays a restart (reload the checkpoint, warm up) wherever the
      // new plan puts it; the planner does not know that, so its deadline comes forward by
      // the restart time. Without this a re-plan can adopt a schedule that is late by
      // exactly the restarts it moves jobs through.
      const resumes = report?.attempt !== undefined || keptSamples(report) > 0;
      const deadline = resumes ? earliest(job.deadlineHours, workloadDeadline) : job.deadlineHours;
      return {
        ...job,
        totalSamples: Math.max(1, Math.ceil(job.totalSamples - keptSamples(report))),
        checkpointable: job.checkpointable && !(record.jobs[job.id]?.onDemandOnly ?? false),
        deadlineHours: shift(deadline === undefined ? undefined : deadline - (resumes ? restartHours : 0)),
      };
    });
  return { ...workload, objective: remainingObjective(record, elapsedHours, spendUsd), jobs };
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function remainingObjective(record: ExecutionRecord, elapsedHours: number, spendUsd: number): Objective {
  const objective = record.objective;
  const deadline = objectiveDeadlineHours(objective);
  const budget = objectiveBudgetUsd(objective);
  if (objective.kind === "min-cost" || (objective.kind === "pareto" && deadline !== undefined)) {
    return { kind: "min-cost", deadlineHours: Math.max(MIN_REMAINING_HOURS, (deadline ?? 0) - elapsedHours) };
  }
  if (budget !== undefined) return { kind: "min-time", budgetUsd: Math.max(0.01, budget - spendUsd) };
  // Pareto without bounds: keep the chosen plan's pace, with a fifth of slack.
  const paceHours = (record.plan.totals.makespanSeconds / 3600) * 1.2;
  return { kind: "min-cost", deadlineHours: Math.max(MIN_REMAINING_HOURS, paceHours - elapsedHours) };
}

/** The same remaining work with its deadline dropped: finish as early as `budgetUsd` allows. */
export function relaxedWorkload(remaining: Workload, budgetUsd: number): Workload {
  return {
    ...remaining,
    objective: { kind: "min-time", budgetUsd },
    jobs: remaining.jobs.map((job) => ({ ...job, deadlineHours: undefined })),
  };
}

/**
 * What a hedge may spend on the remaining work: what is left of the approved price, or what
 * the current plan still costs when that is more. In the 100-job benchmark a job leaving
 * spot at 1.7 h of a 2 h deadline adopted a $8.96 on-demand fleet for work the current
 * plan finished on time for $0.47 (issue 8, part f).
 */
export function hedgeAllowanceUsd(record: ExecutionRecord, spentUsd: number, currentRemainingCostUsd: number): number {
  const approved = record.approvedCostUsd ?? record.plan.totals.budgetCostUsd ?? record.plan.totals.expectedCostUsd;
  return Math.max(approved - spentUsd, currentRemainingCostUsd);
}

/**
 * What to plan, in order, once no plan meets the deadline any more (min-cost, or pareto
 * without a budget):
 *
 * 1. finish as early as possible within the money the user approved that is left, or within
 *    what the current plan still costs when that is more (going on as planned is always
 *    allowed): a late run never buys speed with money nobody saw (issue 8, part f: a
 *    "generous" 10x budget turned a $10.86 plan into a fleet of on-demand instances);
 * 2. else the cheapest plan that finishes within a horizon of three times the current
 *    plan's makespan (at least an hour): late, but at the least money.
 */
export function lateReplanWorkloads(
  remaining: Workload,
  record: ExecutionRecord,
  spentUsd: number,
  currentRemainingCostUsd: number,
): { readonly workload: Workload; readonly note: string }[] {
  const approved = record.approvedCostUsd ?? record.plan.totals.budgetCostUsd ?? record.plan.totals.expectedCostUsd;
  const allowance = Math.max(0.01, approved - spentUsd, currentRemainingCostUsd);
  const horizonHours = Math.max(1, (3 * record.plan.totals.makespanSeconds) / 3600);
  return [
    {
      workload: relaxedWorkload(remaining, allowance),
      note: `finishing as early as $${allowance.toFixed(2)} allows (what is left of the approved $${approved.toFixed(2)}, or the current plan's remaining cost)`,
    },
    {
      workload: {
        ...remaining,
        objective: { kind: "min-cost", deadlineHours: horizonHours },
        jobs: remaining.jobs.map((job) => ({ ...job, deadlineHours: undefined })),
      },
      note: `finishing at the least cost within ${horizonHours.toFixed(1)} h`,
    },
  ];
}

export interface RemainingObjective {
  readonly costUsd: number;
  readonly makespanSeconds: number;
}

export interface AdoptionDecision {
  readonly adopt: boolean;
  readonly detail: string;
}

/**
 * Adopt when the current plan is broken (it lost an instance, a launch failed, a job must
 * leave spot, the deadline or budget is projected to be missed), else only when the
 * candidate improves the objective (cost for min-cost, makespan for min-time) by more
 * than `threshold`: small gains do not pay for the churn of moving jobs.
 */
export function decideAdoption(
  request: ReplanRequest,
  objective: Objective,
  current: RemainingObjective,
  candidate: Plan,
  threshold: number,
  /** The money a hedge may spend on what is left (`hedgeAllowanceUsd`); unbounded without. */
  allowanceUsd = Number.POSITIVE_INFINITY,
): AdoptionDecision {
  // Transfer counts on both sides: the current plan's remaining cost includes it (projection.ts).
  const cost = candidate.totals.expectedCostUsd + (candidate.totals.transferCostUsd ?? 0);
  const time = candidate.totals.makespanSeconds;
  const figures = `remaining cost $${current.costUsd.toFixed(2)} -> $${cost.toFixed(2)}, remaining time ${(current.makespanSeconds / 3600).toFixed(2)} h -> ${(time / 3600).toFixed(2)} h`;
  if (request.hedge && cost > allowanceUsd) {
    return {
      adopt: false,
      detail: `kept current plan: the hedge (${request.reason}) would cost more than the $${allowanceUsd.toFixed(2)} allowed; ${figures}`,
    };
  }
  // A projected miss leaves the current plan runnable: a candidate that is later and dearer
  // only moves jobs (issue 8, part g: at 1.75 h of a 2 h deadline a 1-minute projected miss
  // adopted a plan of 1.09 h and $0.91 for work the current plan ended in 2 minutes for $0.23).
  if (request.late && time >= current.makespanSeconds && cost >= current.costUsd) {
    return {
      adopt: false,
      detail: `kept current plan: the re-plan for a projected deadline miss (${request.reason}) would finish no earlier and cost no less; ${figures}`,
    };
  }
  if (request.broken) return { adopt: true, detail: `current plan broken (${request.reason}); ${figures}` };
  const byTime = objective.kind === "min-time";
  const gain = byTime ? 1 - time / Math.max(current.makespanSeconds, 1) : 1 - cost / Math.max(current.costUsd, 1e-9);
  const adopt = gain > threshold;
  return {
    adopt,
    detail: `${adopt ? "adopted" : "kept current plan"}: ${byTime ? "makespan" : "cost"} ${gain >= 0 ? "improves" : "worsens"} by ${(Math.abs(gain) * 100).toFixed(1)}% (threshold ${(threshold * 100).toFixed(0)}%); ${figures}`,
  };
}

/**
 * Binds running instances to slots of the new plan (slot -> instance id): first the
 * instances under each running job, when the job's new assignment has the same shape
 * (instance count, type, market, GPUs); then the other running instances (idle ones first),
 * to slots of the same type and market that the plan starts within `bootSeconds` (it would
 * launch them now anyway).
 * Instances announced for reclaim are never bound.
 */
export function bindInstances(
  plan: Plan,
  instances: readonly CloudInstance[],
  reports: ReadonlyMap<string, JobReport>,
  bootSeconds: number,
): Record<string, string> {
  const bindings: Record<string, string> = {};
  const usedInstances = new Set<string>();
  const usable = new Map(instances.filter(isUsable).map((instance) => [instance.id, instance]));
  const slotOf = new Map(plan.instances.map((slot) => [slot.id, slot]));
  for (const assignment of plan.assignments) {
    const attempt = reports.get(assignment.jobId)?.attempt;
    if (attempt === undefined || attempt.instanceIds.length !== assignment.instanceIds.length) continue;
    if (attempt.gpusPerInstance !== assignment.gpusPerInstance) continue;
    const pairs = assignment.instanceIds.map((slotId, k) => ({
      slot: slotOf.get(slotId),
      instance: usable.get(attempt.instanceIds[k] ?? ""),
    }));
    const fits = pairs.every(
      ({ slot, instance }) =>
        slot !== undefined &&
        instance !== undefined &&
        slot.instanceType === instance.instanceType &&
        slot.market === instance.market &&
        bindings[slot.id] === undefined &&
        !usedInstances.has(instance.id),
    );
    if (!fits) continue;
    for (const { slot, instance } of pairs) {
      if (slot === undefined || instance === undefined) continue;
      bindings[slot.id] = instance.id;
      usedInstances.add(instance.id);
    }
  }
  // Idle instances first; then those whose attempts the new plan moves elsewhere (they are
  // checkpointed off): a running instance of the right type and market takes a slot the plan
  // starts now instead of being terminated while the same type is launched and booted again.
  const busy = new Set([...reports.values()].flatMap((report) => report.attempt?.instanceIds ?? []));
  const candidates = [...usable.values()].sort((a, b) => Number(busy.has(a.id)) - Number(busy.has(b.id)));
  for (const instance of candidates) {
    if (usedInstances.has(instance.id)) continue;
    const slot = plan.instances.find(
      (s) =>
        bindings[s.id] === undefined &&
        s.instanceType === instance.instanceType &&
        s.market === instance.market &&
        s.start <= bootSeconds,
    );
    if (slot === undefined) continue;
    bindings[slot.id] = instance.id;
    usedInstances.add(instance.id);
  }
  return bindings;
}

export function adoptPlan(
  record: ExecutionRecord,
  plan: Plan,
  bindings: Readonly<Record<string, string>>,
  now: number,
  detail: string,
): ExecutionRecord {
  const reason = record.replanRequest?.reason ?? "re-plan";
  return {
    ...record,
    planVersion: record.planVersion + 1,
    plan,
    planOrigin: now,
    bindings,
    replanRequest: undefined,
    lastReplanAt: now,
    replans: [
      ...record.replans,
      { at: now, reason, adopted: true, fromVersion: record.planVersion, toVersion: record.planVersion + 1, detail },
    ],
  };
}

export function keepPlan(record: ExecutionRecord, now: number, detail: string): ExecutionRecord {
  const reason = record.replanRequest?.reason ?? "re-plan";
  return {
    ...record,
    replanRequest: undefined,
    lastReplanAt: now,
    replans: [
      ...record.replans,
      { at: now, reason, adopted: false, fromVersion: record.planVersion, toVersion: record.planVersion, detail },
    ],
  };
}
