/**
 * A continuous-time packing plan (docs/plan.md, "Plans compared"): the slotted MILP rounds
 * every run up to whole slots, which at scale (hundreds of classes, a few slots of hours)
 * costs more than the choice it optimises. This heuristic keeps exact runtimes:
 *
 *   bundles are placed one by one, classes by deadline and then longest run first; each
 *   takes, over the class's options (at most MAX_OPTIONS_PER_CLASS cheapest per job, plus
 *   the fastest), the placement with the lowest cost per job: appended to an instance chain
 *   of the same pool and node count at the moment it frees up (no second boot, no idle
 *   time), or on new instances launched as early as the quota cell admits (paying a boot).
 *   Ties go to the earlier end. A placement must end by the option's deadline (on spot,
 *   `spotLatestEndSeconds`, as in the MILP) and keep the
 *   quota cell's vCPUs within its limit at every moment.
 *
 * The result is a full plan (instances, assignments), validated by the caller like any
 * other; undefined when some bundle fits nowhere.
 */
import { UsageProfile } from "./baselines/usage-profile.ts";
import type { Assignment, Plan, PlannedInstance } from "./plan.ts";
import {
  budgetSpendUsd,
  bundleAssignments,
  instanceId,
  plannedInstance,
  planTotals,
  sortPlanParts,
} from "./plan-parts.ts";
import type { PlanningProblem, PlanOption } from "./planning-problem.ts";
import { spotLatestEndSeconds } from "./spot-overhead.ts";

export const MAX_OPTIONS_PER_CLASS = 12;

interface Chain {
  readonly option: PlanOption;
  readonly ids: readonly string[];
  readonly launch: number;
  end: number;
}

interface Placement {
  readonly option: PlanOption;
  readonly chain: Chain | undefined;
  /**
   * Launch time of new instances (chain undefined), kept as found rather than recomputed as
   * start - boot: (launch + boot) - boot can differ from launch in the last bit, and an
   * instance launched a hair before another frees its vCPUs breaks the quota at that moment.
   */
  readonly launch?: number;
  readonly start: number;
  readonly end: number;
  readonly costUsd: number;
}

export interface ListScheduleContext {
  /** Deadline of the whole plan in this solve (pareto steps tighten it); undefined: the classes' own. */
  readonly deadlineSeconds?: number | undefined;
  readonly considered: Plan["considered"];
  /** "cost" (default): the lowest cost per job; "time": the earliest end, ties by cost per job. */
  readonly preference?: "cost" | "time";
  /**
   * With "cost": only placements ending by earliest + share x (deadline - earliest) compete,
   * where earliest is the bundle's earliest possible end (0: the earliest end, as "time";
   * undefined or 1: any end before the deadline). Used by `listScheduleByDeadline`.
   */
  readonly slackShare?: number;
  /**
   * LP guidance (`lp-guided-schedule.ts`): per class index, options and how many of the
   * class's jobs to place on each. A class's bundles first take the cheapest placement among
   * its guided options with jobs left to place (any end before the deadline); only when none
   * fits do they fall back to the class's own options and the rule above.
   */
  readonly guide?: ReadonlyMap<number, ReadonlyMap<PlanOption, number>>;
}

export function listSchedulePlan(problem: PlanningProblem, context: ListScheduleContext): Plan | undefined {
  const boot = problem.bootSeconds;
  const byTime = context.preference === "time";
  const slackShare = byTime ? undefined : context.slackShare;
  const deadlineOf = (option: PlanOption): number => {
    const own = problem.classes[option.classIndex]?.deadlineSeconds ?? Number.POSITIVE_INFINITY;
    const deadline = Math.min(own, context.deadlineSeconds ?? Number.POSITIVE_INFINITY);
    return problem.pools[option.poolIndex]?.market === "spot"
      ? spotLatestEndSeconds(deadline, boot, problem.workload.spot)
      : deadline;
  };
  const optionsByClass = new Map<number, PlanOption[]>();
  const ofClass = optionsOfClasses(problem);
  for (const jobClass of problem.classes) {
    const n = jobClass.jobs.length;
    const usable = (ofClass[jobClass.index] ?? []).filter(
      (option) => boot + option.runtimeSeconds <= deadlineOf(option),
    );
    if (usable.length === 0) return undefined;
    const perJob = (option: PlanOption) =>
      ((problem.pools[option.poolIndex]?.priceUsdPerHour ?? 0) * option.nodes * option.runtimeSeconds) /
        3600 /
        Math.min(option.jobsPerBundle, n) +
      option.transferUsd;
    usable.sort((a, b) => perJob(a) - perJob(b) || a.runtimeSeconds - b.runtimeSeconds || a.index - b.index);
    const kept = usable.slice(0, MAX_OPTIONS_PER_CLASS);
    const fastest = usable.reduce((best, option) => (option.runtimeSeconds < best.runtimeSeconds ? option : best));
    if (!kept.includes(fastest)) kept.push(fastest);
    optionsByClass.set(jobClass.index, kept);
  }

  const cells = new Map<string, UsageProfile>();
  const cellOf = (option: PlanOption): { profile: UsageProfile; need: number } => {
    const pool = problem.pools[option.poolIndex];
    if (pool === undefined) throw new RangeError(`unknown pool ${option.poolIndex}`);
    // Quotas are per region: one profile per quota cell (region, group, market).
    let profile = cells.get(pool.quotaCell);
    if (profile === undefined) {
      profile = new UsageProfile(pool.quotaVcpus);
      cells.set(pool.quotaCell, profile);
    }
    return { profile, need: option.nodes * pool.type.vcpus };
  };

  const order = [...problem.classes].sort(
    (a, b) =>
      (a.deadlineSeconds ?? Number.POSITIVE_INFINITY) - (b.deadlineSeconds ?? Number.POSITIVE_INFINITY) ||
      shortest(optionsByClass.get(b.index)) - shortest(optionsByClass.get(a.index)) ||
      a.index - b.index,
  );
  // Usage only grows (placements are never undone), so the earliest fit of a (cell, duration,
  // vCPUs) never moves back: each search starts where the last one for it ended.
  const fitFloor = new Map<string, number>();
  const earliestLaunch = (option: PlanOption, profile: UsageProfile, need: number): number | undefined => {
    const duration = boot + option.runtimeSeconds;
    const key = `${problem.pools[option.poolIndex]?.quotaCell}|${duration}|${need}`;
    const launch = profile.earliestFit(fitFloor.get(key) ?? 0, duration, need);
    if (launch !== undefined) fitFloor.set(key, launch);
    return launch;
  };
  const chainsByKey = new Map<string, Chain[]>();
  const chainKey = (option: PlanOption) => `${option.poolIndex}|${option.nodes}`;
  const placed: { placement: Placement; chain: Chain; jobs: number }[] = [];
  let counter = 0;

  /** Every placement of the next bundle (of `remaining` jobs) over `options`, and their latest deadline. */
  const placementsOf = (options: readonly PlanOption[], remaining: number) => {
    const found: Placement[] = [];
    let latestDeadline = 0;
    for (const option of options) {
      const pool = problem.pools[option.poolIndex];
      if (pool === undefined) continue;
      const jobs = Math.min(remaining, option.jobsPerBundle);
      const deadline = deadlineOf(option);
      if (boot + option.runtimeSeconds > deadline) continue;
      latestDeadline = Math.max(latestDeadline, deadline);
      const runUsd = (option.nodes * pool.priceUsdPerHour * option.runtimeSeconds) / 3600 + jobs * option.transferUsd;
      const bootUsd = (option.nodes * pool.priceUsdPerHour * boot) / 3600;
      const { profile, need } = cellOf(option);
      // Append: the chain that frees up first and still lets the run meet its deadline.
      const chains = chainsByKey.get(chainKey(option)) ?? [];
      for (const chain of chains) {
        // Chains are sorted by end: once one ends too late, so do all after it.
        if (chain.end + option.runtimeSeconds > deadline) break;
        if (profile.earliestFit(chain.end, option.runtimeSeconds, need) !== chain.end) continue;
        found.push({ option, chain, start: chain.end, end: chain.end + option.runtimeSeconds, costUsd: runUsd });
        break;
      }
      const launch = earliestLaunch(option, profile, need);
      if (launch !== undefined && launch + boot + option.runtimeSeconds <= deadline) {
        found.push({
          option,
          chain: undefined,
          launch,
          start: launch + boot,
          end: launch + boot + option.runtimeSeconds,
          costUsd: runUsd + bootUsd,
        });
      }
    }
    return { found, latestDeadline };
  };

  for (const jobClass of order) {
    let remaining = jobClass.jobs.length;
    const options = optionsByClass.get(jobClass.index) ?? [];
    const guided = new Map(context.guide?.get(jobClass.index) ?? []);
    while (remaining > 0) {
      let best: Placement | undefined;
      if (guided.size > 0) {
        let preferred = [...guided].filter(([, jobs]) => jobs > 0).map(([option]) => option);
        if (preferred.every((option) => remaining < option.jobsPerBundle)) {
          // A partial bundle pays whole instances for fewer jobs than the LP priced: the
          // class's other options in the same quota cells compete (the cells' use barely moves).
          const cellsUsed = new Set(preferred.map((option) => problem.pools[option.poolIndex]?.quotaCell));
          preferred = [
            ...preferred,
            ...options.filter(
              (option) => !preferred.includes(option) && cellsUsed.has(problem.pools[option.poolIndex]?.quotaCell),
            ),
          ];
        }
        const { found, latestDeadline } = placementsOf(preferred, remaining);
        best = pick(found, remaining, false, undefined, latestDeadline);
        if (best === undefined) guided.clear();
      }
      if (best === undefined) {
        const { found, latestDeadline } = placementsOf(options, remaining);
        best = pick(found, remaining, byTime, slackShare, latestDeadline);
      }
      if (best === undefined) return undefined;
      const chosen: Placement = best;
      const jobs = Math.min(remaining, chosen.option.jobsPerBundle);
      const left = guided.get(chosen.option);
      if (left !== undefined) guided.set(chosen.option, left - jobs);
      const { profile, need } = cellOf(chosen.option);
      let chain = chosen.chain;
      if (chain === undefined) {
        const pool = problem.pools[chosen.option.poolIndex];
        if (pool === undefined) throw new RangeError(`unknown pool ${chosen.option.poolIndex}`);
        const ids = Array.from({ length: chosen.option.nodes }, () =>
          instanceId(++counter, pool, problem.workload.region),
        );
        const launch = chosen.launch ?? chosen.start - boot;
        chain = { option: chosen.option, ids, launch, end: chosen.start };
        profile.add(chain.launch, chosen.start, need);
        const fresh = chainsByKey.get(chainKey(chosen.option)) ?? [];
        fresh.push(chain);
        chainsByKey.set(chainKey(chosen.option), fresh);
      }
      profile.add(chosen.start, chosen.end, need);
      // Keep each key's chains sorted by end: move this one to its new place.
      const list = chainsByKey.get(chainKey(chosen.option)) ?? [];
      list.splice(list.indexOf(chain), 1);
      chain.end = chosen.end;
      let at = list.length;
      while (at > 0 && (list[at - 1] as Chain).end > chain.end) at--;
      list.splice(at, 0, chain);
      placed.push({ placement: chosen, chain, jobs });
      remaining -= jobs;
    }
  }
  return toPlan(problem, context, placed, [...chainsByKey.values()].flat());
}

function toPlan(
  problem: PlanningProblem,
  context: ListScheduleContext,
  placed: readonly { placement: Placement; chain: Chain; jobs: number }[],
  chains: readonly Chain[],
): Plan {
  const instances: PlannedInstance[] = [];
  for (const chain of chains) {
    const pool = problem.pools[chain.option.poolIndex];
    if (pool === undefined) continue;
    for (const id of chain.ids) instances.push(plannedInstance(id, pool, chain.launch, chain.end));
  }
  const nextJob = new Map<number, number>();
  const assignments: Assignment[] = [];
  for (const { placement, chain, jobs } of placed) {
    assignments.push(
      ...bundleAssignments(problem, placement.option, jobs, chain.ids, placement.start, placement.end, nextJob),
    );
  }
  sortPlanParts(instances, assignments);
  return {
    schemaVersion: 1,
    workload: problem.workload.name,
    objective: problem.workload.objective.kind,
    instances,
    assignments,
    totals: planTotals(instances, assignments),
    lowerBound: 0,
    gap: 0,
    solveSeconds: 0,
    // Unmarked: the planner marks the chosen configurations once, on the plan it returns.
    considered: context.considered,
  };
}

/**
 * Every class's options, grouped in one pass and kept per problem: the searches below run
 * dozens of list schedules on one problem, and filtering all options per class each time was
 * most of their cost at 5,000 jobs (1,332 classes x 429,705 options).
 */
const optionsByProblem = new WeakMap<PlanningProblem, PlanOption[][]>();
function optionsOfClasses(problem: PlanningProblem): PlanOption[][] {
  let grouped = optionsByProblem.get(problem);
  if (grouped === undefined) {
    grouped = problem.classes.map(() => []);
    for (const option of problem.options) grouped[option.classIndex]?.push(option);
    optionsByProblem.set(problem, grouped);
  }
  return grouped;
}

/** The placement a bundle takes (see `ListScheduleContext`); undefined when it fits nowhere. */
function pick(
  found: readonly Placement[],
  remaining: number,
  byTime: boolean,
  slackShare: number | undefined,
  latestDeadline: number,
): Placement | undefined {
  if (found.length === 0) return undefined;
  const perJob = (placement: Placement) => placement.costUsd / Math.min(remaining, placement.option.jobsPerBundle);
  const earliest = Math.min(...found.map((placement) => placement.end));
  const limit =
    byTime || slackShare === undefined || !Number.isFinite(latestDeadline)
      ? Number.POSITIVE_INFINITY
      : earliest + slackShare * Math.max(0, latestDeadline - earliest);
  let best: Placement | undefined;
  for (const placement of found) {
    if (placement.end > limit + 1e-9) continue;
    if (best === undefined) {
      best = placement;
      continue;
    }
    const [score, bestScore] = byTime ? [placement.end, best.end] : [perJob(placement), perJob(best)];
    const [tie, bestTie] = byTime ? [perJob(placement), perJob(best)] : [placement.end, best.end];
    if (score < bestScore - 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && tie < bestTie)) best = placement;
  }
  return best;
}

function shortest(options: readonly PlanOption[] | undefined): number {
  return (options ?? []).reduce((least, option) => Math.min(least, option.runtimeSeconds), Number.POSITIVE_INFINITY);
}

/** Steps of the deadline search in `listScheduleWithinBudget` (each halves the interval). */
const BUDGET_SEARCH_STEPS = 12;

/**
 * Min-time on exact runtimes: the shortest plan-wide deadline at which the cost-preferring
 * list schedule stays within `budgetUsd` at worst-case prices (transfer included), found by
 * bisection between `lowSeconds` (a makespan bound) and the makespan of the unconstrained
 * cheapest list schedule. Each step is one list schedule; the schedule's makespan is not
 * strictly monotone in the deadline, so the result is the best plan seen, not a proof.
 * Undefined when even the cheapest list schedule is over the budget.
 */
export function listScheduleWithinBudget(
  problem: PlanningProblem,
  context: { readonly considered: Plan["considered"]; readonly budgetUsd: number; readonly lowSeconds: number },
): Plan | undefined {
  const within = (plan: Plan | undefined): plan is Plan =>
    plan !== undefined && budgetSpendUsd(plan) <= context.budgetUsd * (1 + 1e-9);
  // The search compares totals only: the considered candidates are attached once, at the end.
  const cheapest = listSchedulePlan(problem, { considered: [], preference: "cost" });
  if (!within(cheapest)) return undefined;
  let best = cheapest;
  let low = context.lowSeconds;
  let high = cheapest.totals.makespanSeconds;
  for (let step = 0; step < BUDGET_SEARCH_STEPS && high - low > Math.max(60, 0.005 * high); step++) {
    const deadlineSeconds = (low + high) / 2;
    const plan = listSchedulePlan(problem, { considered: [], preference: "cost", deadlineSeconds });
    if (within(plan)) {
      if (plan.totals.makespanSeconds < best.totals.makespanSeconds) best = plan;
      high = Math.min(deadlineSeconds, plan.totals.makespanSeconds);
    } else {
      low = deadlineSeconds;
    }
  }
  return { ...best, considered: context.considered };
}

/** Bisection steps of `listScheduleByDeadline` over the slack share. */
const SLACK_STEPS = 7;

/**
 * Min-cost on exact runtimes when the cheapest-first list schedule cannot fit every job
 * before the deadline (its cheap, slow choices fill the quota early and the last bundles
 * fit nowhere): the largest slack share (`ListScheduleContext.slackShare`) at which every
 * bundle still fits, by bisection between 0 (earliest end first, which fits whenever any
 * list schedule does) and 1 (cheapest first). Feasibility is not monotone in the share, so
 * this is the cheapest plan seen, not a proof. Undefined when none fits.
 */
export function listScheduleByDeadline(problem: PlanningProblem, context: ListScheduleContext): Plan | undefined {
  const run = (slackShare: number | undefined) =>
    listSchedulePlan(problem, { ...context, considered: [], preference: "cost", slackShare });
  let best = run(undefined);
  if (best === undefined && context.deadlineSeconds !== undefined) {
    let low = 0;
    let high = 1;
    best = run(0);
    for (let step = 0; best !== undefined && step < SLACK_STEPS; step++) {
      const share = (low + high) / 2;
      const plan = run(share);
      if (plan === undefined) high = share;
      else {
        if (plan.totals.expectedCostUsd < best.totals.expectedCostUsd) best = plan;
        low = share;
      }
    }
  }
  if (best === undefined) return undefined;
  return { ...best, considered: context.considered };
}
