/**
 * A schedule in the slotted model: which bundles start in which slot, and how many
 * instances of each pool are alive in each slot. The greedy heuristic, the MILP's
 * solution and the exhaustive search in the tests all produce one; `decodePlan` turns it
 * into concrete instances.
 */
import type { PriceBasis } from "../catalog/select.ts";
import type { PlanningProblem } from "./planning-problem.ts";
import type { SlottedOption } from "./prune-options.ts";
import type { TimeGrid } from "./time-grid.ts";

export interface ScheduledBundle {
  readonly option: SlottedOption;
  readonly slot: number;
  /** Jobs of the option's class in this bundle: 1 to option.jobsPerBundle. */
  readonly jobs: number;
}

export interface SlotSchedule {
  readonly bundles: readonly ScheduledBundle[];
  /** alive[pool index][slot]: instances of the pool alive in the slot (z in the MILP). */
  readonly alive: readonly (readonly number[])[];
}

/** Launches in slot t: max(0, alive[t] - alive[t-1]) (u in the MILP). */
export function launches(alive: readonly number[], slot: number): number {
  return Math.max(0, (alive[slot] ?? 0) - (slot > 0 ? (alive[slot - 1] ?? 0) : 0));
}

/**
 * The slotted model's cost: every alive instance-slot plus the boot time of every launch,
 * at expected prices (the objective) or budget prices (the budget row).
 */
export function slottedCostUsd(
  problem: PlanningProblem,
  grid: TimeGrid,
  alive: SlotSchedule["alive"],
  basis: PriceBasis = "expected",
): number {
  let cost = 0;
  for (const pool of problem.pools) {
    const counts = alive[pool.index] ?? [];
    let seconds = 0;
    for (let slot = 0; slot < counts.length; slot++) {
      seconds += (counts[slot] ?? 0) * grid.slotSeconds + launches(counts, slot) * problem.bootSeconds;
    }
    cost += (seconds * (basis === "expected" ? pool.priceUsdPerHour : pool.budgetPriceUsdPerHour)) / 3600;
  }
  return cost;
}

/** Slots until the last alive instance: the slotted model's makespan in slots. */
export function slottedMakespanSlots(alive: SlotSchedule["alive"]): number {
  let last = 0;
  for (const counts of alive) {
    for (let slot = counts.length - 1; slot >= last; slot--) {
      if ((counts[slot] ?? 0) > 0) {
        last = slot + 1;
        break;
      }
    }
  }
  return last;
}

/** Instances each pool needs per slot to run the bundles (no idle instances). */
export function busyInstances(
  problem: PlanningProblem,
  grid: TimeGrid,
  bundles: readonly ScheduledBundle[],
): number[][] {
  const busy = problem.pools.map(() => new Array<number>(grid.slots).fill(0));
  for (const bundle of bundles) {
    const counts = busy[bundle.option.poolIndex] as number[];
    for (let slot = bundle.slot; slot < bundle.slot + bundle.option.slots; slot++) {
      counts[slot] = (counts[slot] ?? 0) + bundle.option.nodes;
    }
  }
  return busy;
}
