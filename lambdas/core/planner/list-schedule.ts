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
import type { PlanningProblem, PlanOption } from "./planning-problem.ts";
import { spotLatestEndSeconds } from "./spot-overhead.ts";
import { recomputeBudgetCostUsd, recomputeCostUsd } from "./validate-plan.ts";

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
}

export function listSchedulePlan(problem: PlanningProblem, context: ListScheduleContext): Plan | undefined {
  const boot = problem.bootSeconds;
  const byTime = context.preference === "time";
  const deadlineOf = (option: PlanOption): number => {
    const own = problem.classes[option.classIndex]?.deadlineSeconds ?? Number.POSITIVE_INFINITY;
    const deadline = Math.min(own, context.deadlineSeconds ?? Number.POSITIVE_INFINITY);
    return problem.pools[option.poolIndex]?.market === "spot"
      ? spotLatestEndSeconds(deadline, boot, problem.workload.spot)
      : deadline;
  };
  const optionsByClass = new Map<number, PlanOption[]>();
  for (const jobClass of problem.classes) {
    const n = jobClass.jobs.length;
    const usable = problem.options.filter(
      (option) => option.classIndex === jobClass.index && boot + option.runtimeSeconds <= deadlineOf(option),
    );
    if (usable.length === 0) return undefined;
    const perJob = (option: PlanOption) =>
      ((problem.pools[option.poolIndex]?.priceUsdPerHour ?? 0) * option.nodes * option.runtimeSeconds) /
      Math.min(option.jobsPerBundle, n);
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
    const key = `${pool.quotaGroup}|${pool.market}`;
    let profile = cells.get(key);
    if (profile === undefined) {
      profile = new UsageProfile(problem.quotas[pool.quotaGroup][pool.market]);
      cells.set(key, profile);
    }
    return { profile, need: option.nodes * pool.type.vcpus };
  };

  const order = [...problem.classes].sort(
    (a, b) =>
      (a.deadlineSeconds ?? Number.POSITIVE_INFINITY) - (b.deadlineSeconds ?? Number.POSITIVE_INFINITY) ||
      shortest(optionsByClass.get(b.index)) - shortest(optionsByClass.get(a.index)) ||
      a.index - b.index,
  );
  const chainsByKey = new Map<string, Chain[]>();
  const chainKey = (option: PlanOption) => `${option.poolIndex}|${option.nodes}`;
  const placed: { placement: Placement; chain: Chain; jobs: number }[] = [];
  let counter = 0;

  for (const jobClass of order) {
    let remaining = jobClass.jobs.length;
    const options = optionsByClass.get(jobClass.index) ?? [];
    while (remaining > 0) {
      let best: Placement | undefined;
      let bestScore = Number.POSITIVE_INFINITY;
      for (const option of options) {
        const pool = problem.pools[option.poolIndex];
        if (pool === undefined) continue;
        const jobs = Math.min(remaining, option.jobsPerBundle);
        const deadline = deadlineOf(option);
        const runUsd = (option.nodes * pool.priceUsdPerHour * option.runtimeSeconds) / 3600;
        const bootUsd = (option.nodes * pool.priceUsdPerHour * boot) / 3600;
        const { profile, need } = cellOf(option);
        const consider = (placement: Placement) => {
          const score = byTime ? placement.end : placement.costUsd / jobs;
          const tie = byTime ? placement.costUsd / jobs : placement.end;
          const bestTie = byTime
            ? (best?.costUsd ?? 0) / Math.min(remaining, best?.option.jobsPerBundle ?? 1)
            : (best?.end ?? 0);
          if (score < bestScore - 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && tie < bestTie)) {
            best = placement;
            bestScore = score;
          }
        };
        // Append: the chain that frees up first and still lets the run meet its deadline.
        const chains = chainsByKey.get(chainKey(option)) ?? [];
        for (const chain of chains) {
          if (chain.end + option.runtimeSeconds > deadline) continue;
          if (profile.earliestFit(chain.end, option.runtimeSeconds, need) !== chain.end) continue;
          consider({ option, chain, start: chain.end, end: chain.end + option.runtimeSeconds, costUsd: runUsd });
          break;
        }
        const launch = profile.earliestFit(0, boot + option.runtimeSeconds, need);
        if (launch !== undefined && launch + boot + option.runtimeSeconds <= deadline) {
          consider({
            option,
            chain: undefined,
            start: launch + boot,
            end: launch + boot + option.runtimeSeconds,
            costUsd: runUsd + bootUsd,
          });
        }
      }
      if (best === undefined) return undefined;
      const chosen: Placement = best;
      const jobs = Math.min(remaining, chosen.option.jobsPerBundle);
      const { profile, need } = cellOf(chosen.option);
      let chain = chosen.chain;
      if (chain === undefined) {
        const pool = problem.pools[chosen.option.poolIndex];
        const ids = Array.from(
          { length: chosen.option.nodes },
          () => `i${String(++counter).padStart(3, "0")}-${pool?.type.name}-${pool?.market}`,
        );
        chain = { option: chosen.option, ids, launch: chosen.start - boot, end: chosen.start };
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
    for (const id of chain.ids) {
      instances.push({
        id,
        instanceType: pool.type.name,
        market: pool.market,
        availabilityZone: undefined,
        start: chain.launch,
        end: chain.end,
        hourlyPriceUsd: pool.priceUsdPerHour,
        budgetHourlyPriceUsd: pool.budgetPriceUsdPerHour,
      });
    }
  }
  const nextJob = new Map<number, number>();
  const assignments: Assignment[] = [];
  for (const { placement, chain, jobs } of placed) {
    const option = placement.option;
    const jobClass = problem.classes[option.classIndex];
    for (let lane = 0; lane < jobs; lane++) {
      const index = nextJob.get(option.classIndex) ?? 0;
      nextJob.set(option.classIndex, index + 1);
      const job = jobClass?.jobs[index];
      if (job === undefined) continue;
      assignments.push({
        jobId: job.id,
        technique: option.technique,
        instanceIds: chain.ids,
        gpusPerInstance: option.gpusPerNode,
        gpuIndices: Array.from({ length: option.gpusPerNode }, (_, k) => lane * option.gpusPerNode + k),
        start: placement.start,
        end: placement.end,
        samplesPerSecond: option.samplesPerSecond / option.slowdown,
        throughputSource: option.source,
        ...(option.slowdown > 1 ? { expectedOverheadSeconds: option.runtimeSeconds * (1 - 1 / option.slowdown) } : {}),
      });
    }
  }
  instances.sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  assignments.sort((a, b) => a.start - b.start || a.jobId.localeCompare(b.jobId));
  return {
    schemaVersion: 1,
    workload: problem.workload.name,
    objective: problem.workload.objective.kind,
    instances,
    assignments,
    totals: {
      expectedCostUsd: recomputeCostUsd(instances),
      makespanSeconds: assignments.reduce((latest, assignment) => Math.max(latest, assignment.end), 0),
      budgetCostUsd: recomputeBudgetCostUsd(instances),
    },
    lowerBound: 0,
    gap: 0,
    solveSeconds: 0,
    considered: markChosen(context.considered, assignments, instances),
  };
}

/** The considered candidates with the chosen configuration of every job marked. */
export function markChosen(
  considered: Plan["considered"],
  assignments: readonly Assignment[],
  instances: readonly PlannedInstance[],
): Plan["considered"] {
  const chosen = new Map(assignments.map((assignment) => [assignment.jobId, assignment]));
  const typeOf = new Map(instances.map((instance) => [instance.id, instance.instanceType]));
  return considered.map((entry) => {
    const assignment = chosen.get(entry.jobId);
    const type = assignment === undefined ? undefined : typeOf.get(assignment.instanceIds[0] ?? "");
    return {
      jobId: entry.jobId,
      candidates: entry.candidates.map((candidate) => {
        const isChosen =
          assignment !== undefined &&
          candidate.config.technique === assignment.technique &&
          candidate.config.instanceType === type &&
          candidate.config.nodes === assignment.instanceIds.length &&
          candidate.config.gpusPerNode === assignment.gpusPerInstance;
        return isChosen === candidate.chosen ? candidate : { ...candidate, chosen: isChosen };
      }),
    };
  });
}

function shortest(options: readonly PlanOption[] | undefined): number {
  return (options ?? []).reduce((least, option) => Math.min(least, option.runtimeSeconds), Number.POSITIVE_INFINITY);
}
