/**
 * Drops options before modelling (docs/plan.md, "Pruning").
 *
 * Exact rules (never remove an optimal plan of the slotted model):
 *  P1 an option whose run cannot end by its class's deadline slot (on spot: by the
 *     deadline less the margin for one more interruption, `spotDeadlineMarginSeconds`);
 *  P2 an option dominated in its own pool: another option of the same class in the same
 *     pool uses no more nodes, at least as many jobs per bundle and no more slots, so it
 *     can replace it in any schedule at no higher cost.
 * Heuristic rule (on only when `maxOptionsPerClass` is finite):
 *  P3 keep the `maxOptionsPerClass - 1` options with the lowest cost per job, plus the
 *     fastest one (the deadline and min-time need it); with `keepFastestPerPool` (min-time
 *     and pareto) also the fastest option of every pool, so that a fast plan can spread
 *     jobs over every pool and quota cell (on-demand next to spot, P next to P5 and G)
 *     instead of only the pools of the cheapest options.
 */
import type { PlanningProblem, PlanOption } from "./planning-problem.ts";
import { spotDeadlineMarginSeconds } from "./spot-overhead.ts";
import { durationSlots, lastEndSlot, type TimeGrid } from "./time-grid.ts";

export interface SlottedOption extends PlanOption {
  /** Slots one run occupies. */
  readonly slots: number;
  /** Latest start slot that still meets the class's deadline. */
  readonly lastStart: number;
  /** Model cost of one job: instance-slots per job x price (boot excluded). */
  readonly costPerJobUsd: number;
}

export const DEFAULT_MAX_OPTIONS_PER_CLASS = 8;

export function pruneOptions(
  problem: PlanningProblem,
  grid: TimeGrid,
  maxOptionsPerClass: number = DEFAULT_MAX_OPTIONS_PER_CLASS,
  keepFastestPerPool = false,
): SlottedOption[] {
  const byClass = new Map<number, SlottedOption[]>();
  for (const option of problem.options) {
    const jobClass = problem.classes[option.classIndex];
    const pool = problem.pools[option.poolIndex];
    if (jobClass === undefined || pool === undefined) continue;
    const slots = durationSlots(grid, option.runtimeSeconds);
    const lastStart = lastEndSlot(grid, optionDeadlineSeconds(problem, option)) - slots;
    if (lastStart < 0) continue; // P1
    const costPerJobUsd =
      (option.nodes * slots * grid.slotSeconds * pool.priceUsdPerHour) / 3600 / option.jobsPerBundle +
      option.transferUsd;
    const list = byClass.get(option.classIndex) ?? [];
    list.push({ ...option, slots, lastStart, costPerJobUsd });
    byClass.set(option.classIndex, list);
  }
  const kept: SlottedOption[] = [];
  for (const list of byClass.values()) {
    const undominated = list.filter((option) => !list.some((other) => dominates(other, option))); // P2
    undominated.sort((a, b) => a.costPerJobUsd - b.costPerJobUsd || a.slots - b.slots || a.index - b.index);
    if (undominated.length <= maxOptionsPerClass) {
      kept.push(...undominated);
      continue;
    }
    const fastest = undominated.reduce((best, option) => (option.slots < best.slots ? option : best));
    const cheapest = undominated.slice(0, Math.max(1, maxOptionsPerClass - 1)); // P3
    const chosen = new Set([...cheapest, fastest]);
    if (keepFastestPerPool) {
      for (const option of fastestPerPool(problem, undominated, maxOptionsPerClass)) chosen.add(option);
    }
    kept.push(...chosen);
  }
  return kept.sort((a, b) => a.index - b.index);
}

/**
 * The fastest option of each pool (among equally fast, the fewest nodes, then the cheapest
 * per job: `options` is sorted by cost), less those beaten in their own quota cell (group x
 * market) by another pool's fastest that is no slower, no dearer per job and holds no more
 * vCPUs per job (it competes for the same quota and wins on every count); of the rest, the
 * `most` fastest.
 */
function fastestPerPool(problem: PlanningProblem, options: readonly SlottedOption[], most: number): SlottedOption[] {
  const perPool = new Map<number, SlottedOption>();
  for (const option of options) {
    const best = perPool.get(option.poolIndex);
    if (best === undefined || option.slots < best.slots || (option.slots === best.slots && option.nodes < best.nodes)) {
      perPool.set(option.poolIndex, option);
    }
  }
  const cellOf = (option: SlottedOption) => {
    const pool = problem.pools[option.poolIndex];
    return pool?.quotaCell ?? "";
  };
  const vcpusPerJob = (option: SlottedOption) =>
    (option.nodes * (problem.pools[option.poolIndex]?.type.vcpus ?? 0)) / option.jobsPerBundle;
  const fastest = [...perPool.values()];
  const beaten = (option: SlottedOption) =>
    fastest.some(
      (other) =>
        other !== option &&
        cellOf(other) === cellOf(option) &&
        other.slots <= option.slots &&
        other.costPerJobUsd <= option.costPerJobUsd &&
        vcpusPerJob(other) <= vcpusPerJob(option) &&
        (other.slots < option.slots ||
          other.costPerJobUsd < option.costPerJobUsd ||
          vcpusPerJob(other) < vcpusPerJob(option) ||
          other.index < option.index),
    );
  return fastest
    .filter((option) => !beaten(option))
    .sort((a, b) => a.slots - b.slots || a.costPerJobUsd - b.costPerJobUsd || a.index - b.index)
    .slice(0, Math.max(1, most));
}

/**
 * When a run of the option must have ended: the class's deadline, less on spot the slack
 * for one more interruption (the reconciler's spot rule); undefined: no deadline.
 */
export function optionDeadlineSeconds(problem: PlanningProblem, option: PlanOption): number | undefined {
  const deadline = problem.classes[option.classIndex]?.deadlineSeconds;
  const pool = problem.pools[option.poolIndex];
  if (deadline === undefined || pool?.market !== "spot") return deadline;
  return deadline - spotDeadlineMarginSeconds(problem.bootSeconds, problem.workload.spot);
}

function dominates(a: SlottedOption, b: SlottedOption): boolean {
  if (a === b || a.poolIndex !== b.poolIndex) return false;
  if (a.nodes > b.nodes || a.jobsPerBundle < b.jobsPerBundle || a.slots > b.slots) return false;
  const strictly = a.nodes < b.nodes || a.jobsPerBundle > b.jobsPerBundle || a.slots < b.slots;
  return strictly || a.index < b.index;
}
