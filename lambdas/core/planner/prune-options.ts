/**
 * Drops options before modelling (docs/plan.md, "Pruning").
 *
 * Exact rules (never remove an optimal plan of the slotted model):
 *  P1 an option whose run cannot end by its class's deadline slot;
 *  P2 an option dominated in its own pool: another option of the same class in the same
 *     pool uses no more nodes, at least as many jobs per bundle and no more slots, so it
 *     can replace it in any schedule at no higher cost.
 * Heuristic rule (on only when `maxOptionsPerClass` is finite):
 *  P3 keep the `maxOptionsPerClass - 1` options with the lowest cost per job, plus the
 *     fastest one (the deadline and min-time need it).
 */
import type { PlanningProblem, PlanOption } from "./planning-problem.ts";
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
): SlottedOption[] {
  const byClass = new Map<number, SlottedOption[]>();
  for (const option of problem.options) {
    const jobClass = problem.classes[option.classIndex];
    const pool = problem.pools[option.poolIndex];
    if (jobClass === undefined || pool === undefined) continue;
    const slots = durationSlots(grid, option.runtimeSeconds);
    const lastStart = lastEndSlot(grid, jobClass.deadlineSeconds) - slots;
    if (lastStart < 0) continue; // P1
    const costPerJobUsd =
      (option.nodes * slots * grid.slotSeconds * pool.priceUsdPerHour) / 3600 / option.jobsPerBundle;
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
    kept.push(...cheapest, ...(cheapest.includes(fastest) ? [] : [fastest]));
  }
  return kept.sort((a, b) => a.index - b.index);
}

function dominates(a: SlottedOption, b: SlottedOption): boolean {
  if (a === b || a.poolIndex !== b.poolIndex) return false;
  if (a.nodes > b.nodes || a.jobsPerBundle < b.jobsPerBundle || a.slots > b.slots) return false;
  const strictly = a.nodes < b.nodes || a.jobsPerBundle > b.jobsPerBundle || a.slots < b.slots;
  return strictly || a.index < b.index;
}
