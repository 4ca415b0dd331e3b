/**
 * A fast greedy schedule: the MILP's first incumbent and the fallback when the solver
 * finds nothing within its limit. Classes go in order of deadline, then longest run
 * first; each bundle takes the option and slot with the lowest cost (or, preferring
 * time, the earliest end) among placements that keep every quota row within its limit.
 * A bundle may extend a chain of instances that frees up exactly when it starts (no
 * second boot). Returns undefined when some bundle fits nowhere.
 */
import type { PlanningProblem } from "./planning-problem.ts";
import type { SlottedOption } from "./prune-options.ts";
import { busyInstances, type ScheduledBundle, type SlotSchedule } from "./slot-schedule.ts";
import type { TimeGrid } from "./time-grid.ts";

export type GreedyPreference = "cost" | "time";

interface Chain {
  readonly poolIndex: number;
  readonly nodes: number;
  end: number;
}

interface Placement {
  readonly option: SlottedOption;
  readonly slot: number;
  readonly chain: Chain | undefined;
  readonly costUsd: number;
}

export function greedySchedule(
  problem: PlanningProblem,
  grid: TimeGrid,
  options: readonly SlottedOption[],
  preference: GreedyPreference,
  /** Options to try first (e.g. those the LP relaxation uses); the others only where these fit nowhere. */
  preferred?: ReadonlySet<number>,
): SlotSchedule | undefined {
  const rows = grid.slots + grid.bootSlots;
  const usage = new Map<string, number[]>();
  const quotaRows = (poolIndex: number): { used: number[]; limit: number; vcpus: number } => {
    const pool = problem.pools[poolIndex];
    if (pool === undefined) throw new RangeError(`unknown pool ${poolIndex}`);
    const key = pool.quotaCell;
    let used = usage.get(key);
    if (used === undefined) {
      used = new Array<number>(rows).fill(0);
      usage.set(key, used);
    }
    return { used, limit: pool.quotaVcpus, vcpus: pool.type.vcpus };
  };
  // Row r of `used` is quota row s = r - bootSlots (rows before slot 0 hold the first boots).
  const fits = (option: SlottedOption, fromSlot: number, toSlot: number): boolean => {
    const { used, limit, vcpus } = quotaRows(option.poolIndex);
    const need = option.nodes * vcpus;
    for (let row = fromSlot + grid.bootSlots; row < toSlot + grid.bootSlots; row++) {
      if ((used[row] ?? 0) + need > limit) return false;
    }
    return true;
  };

  const optionsByClass = new Map<number, SlottedOption[]>();
  for (const option of options) {
    const list = optionsByClass.get(option.classIndex) ?? [];
    list.push(option);
    optionsByClass.set(option.classIndex, list);
  }
  const order = [...problem.classes].sort(
    (a, b) =>
      (a.deadlineSeconds ?? Number.POSITIVE_INFINITY) - (b.deadlineSeconds ?? Number.POSITIVE_INFINITY) ||
      longest(optionsByClass.get(b.index)) - longest(optionsByClass.get(a.index)) ||
      a.index - b.index,
  );

  const chains: Chain[] = [];
  const bundles: ScheduledBundle[] = [];
  for (const jobClass of order) {
    const classOptions = optionsByClass.get(jobClass.index) ?? [];
    let remaining = jobClass.jobs.length;
    while (remaining > 0) {
      let best: Placement | undefined;
      let bestScore = Number.POSITIVE_INFINITY;
      let bestEnd = Number.POSITIVE_INFINITY;
      const rounds =
        preferred === undefined ? [classOptions] : [classOptions.filter((o) => preferred.has(o.index)), classOptions];
      for (const round of rounds) {
        if (best !== undefined) break;
        for (const option of round) {
          const pool = problem.pools[option.poolIndex];
          if (pool === undefined) continue;
          const jobs = Math.min(remaining, option.jobsPerBundle);
          const runUsd =
            (option.nodes * option.slots * grid.slotSeconds * pool.priceUsdPerHour) / 3600 + option.transferUsd * jobs;
          const bootUsd = (option.nodes * problem.bootSeconds * pool.priceUsdPerHour) / 3600;
          let foundNew = false;
          for (let slot = 0; slot <= option.lastStart; slot++) {
            const end = slot + option.slots;
            const chain = chains.find(
              (c) => c.poolIndex === option.poolIndex && c.nodes === option.nodes && c.end === slot,
            );
            const placements: Placement[] = [];
            if (chain !== undefined && fits(option, slot, end))
              placements.push({ option, slot, chain, costUsd: runUsd });
            if (!foundNew && fits(option, slot - grid.bootSlots, end)) {
              placements.push({ option, slot, chain: undefined, costUsd: runUsd + bootUsd });
              foundNew = true;
            }
            for (const placement of placements) {
              const score = preference === "cost" ? placement.costUsd / jobs : end;
              const tie = preference === "cost" ? end : placement.costUsd / jobs;
              const bestTie = preference === "cost" ? bestEnd : (best?.costUsd ?? Number.POSITIVE_INFINITY) / jobs;
              if (score < bestScore - 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && tie < bestTie)) {
                best = placement;
                bestScore = score;
                bestEnd = end;
              }
            }
            // Later new placements cost the same and end later; only appends can still be cheaper.
            if (foundNew && preference === "time") break;
          }
        }
      }
      if (best === undefined) return undefined;
      const jobs = Math.min(remaining, best.option.jobsPerBundle);
      const { used, vcpus } = quotaRows(best.option.poolIndex);
      const from = best.chain === undefined ? best.slot - grid.bootSlots : best.slot;
      for (let row = from + grid.bootSlots; row < best.slot + best.option.slots + grid.bootSlots; row++) {
        used[row] = (used[row] ?? 0) + best.option.nodes * vcpus;
      }
      if (best.chain !== undefined) best.chain.end = best.slot + best.option.slots;
      else
        chains.push({ poolIndex: best.option.poolIndex, nodes: best.option.nodes, end: best.slot + best.option.slots });
      bundles.push({ option: best.option, slot: best.slot, jobs });
      remaining -= jobs;
    }
  }
  return { bundles, alive: busyInstances(problem, grid, bundles) };
}

/** The class's shortest possible run, in slots: how long it takes at the least. */
function longest(options: readonly SlottedOption[] | undefined): number {
  return (options ?? []).reduce((least, option) => Math.min(least, option.slots), Number.POSITIVE_INFINITY);
}
