/**
 * Exhaustive search for the cheapest slotted plan of a small problem, written without the
 * MILP's variables: it enumerates plans as the reconciler would see them.
 *
 *  1. every choice of option per job (clones as multisets), every option usable only if
 *     its run fits before the class's deadline slot;
 *  2. jobs that share an option fill bundles of up to r jobs (fewer, emptier bundles never
 *     cost less, so ceil(count / r) bundles);
 *  3. every partition of each pool's bundles into *chains*: a chain is one instance (the
 *     options here are single-node) launched once, running its bundles back to back in
 *     deadline order; it costs price x (boot + slot length x its slots);
 *  4. the cheapest structure for which start slots exist such that every bundle meets its
 *     deadline and every quota row holds: a chain starting in slot s holds its vCPUs in
 *     rows s - B .. s + length - 1 (B boot slots before s).
 *
 * Idle gaps inside a chain are never needed when boot <= slot length (a gap of one slot
 * costs at least a relaunch and holds the same quota), which the random cases ensure.
 */
import type { PlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import { optionDeadlineSeconds } from "../../../lambdas/core/planner/prune-options.ts";
import { durationSlots, lastEndSlot, type TimeGrid } from "../../../lambdas/core/planner/time-grid.ts";

interface Bundle {
  readonly pool: number;
  readonly slots: number;
  readonly lastEnd: number;
}

interface Chain {
  readonly pool: number;
  readonly length: number;
  /** Latest start that keeps every bundle (in deadline order) within its deadline. */
  readonly latestStart: number;
}

export interface ExhaustiveResult {
  readonly costUsd: number;
  readonly structuresChecked: number;
}

export function exhaustiveOptimum(problem: PlanningProblem, grid: TimeGrid): ExhaustiveResult | undefined {
  const optionsByClass = problem.classes.map((jobClass) =>
    problem.options
      .filter((option) => option.classIndex === jobClass.index)
      .map((option) => ({
        option,
        slots: durationSlots(grid, option.runtimeSeconds),
        // On spot the run must leave the slack for one more interruption (the reconciler's rule).
        lastEnd: lastEndSlot(grid, optionDeadlineSeconds(problem, option)),
      }))
      .filter((entry) => entry.slots <= entry.lastEnd),
  );
  const structures: { cost: number; chains: Chain[] }[] = [];

  // 1. multisets of options per class, combined over classes.
  const perClass = problem.classes.map((jobClass, k) =>
    multisets(optionsByClass[k]?.length ?? 0, jobClass.jobs.length),
  );
  for (const choice of product(perClass)) {
    const bundles: Bundle[] = [];
    choice.forEach((counts, k) => {
      counts.forEach((count, index) => {
        if (count === 0) return;
        const entry = optionsByClass[k]?.[index];
        if (entry === undefined) return;
        // 2. ceil(count / r) bundles
        const bundleCount = Math.ceil(count / entry.option.jobsPerBundle);
        for (let i = 0; i < bundleCount; i++) {
          bundles.push({ pool: entry.option.poolIndex, slots: entry.slots, lastEnd: entry.lastEnd });
        }
      });
    });
    // 3. partitions into chains, pool by pool
    const pools = [...new Set(bundles.map((bundle) => bundle.pool))];
    const partitionsPerPool = pools.map((pool) => partitions(bundles.filter((bundle) => bundle.pool === pool)));
    for (const combination of product(partitionsPerPool)) {
      const chains = combination.flat().map((group) => chainOf(group));
      const cost = chains.reduce((sum, chain) => {
        const pool = problem.pools[chain.pool];
        if (pool === undefined) return sum;
        return sum + (pool.priceUsdPerHour * (problem.bootSeconds + grid.slotSeconds * chain.length)) / 3600;
      }, 0);
      if (chains.every((chain) => chain.latestStart >= 0)) structures.push({ cost, chains });
    }
  }
  structures.sort((a, b) => a.cost - b.cost);
  let checked = 0;
  for (const structure of structures) {
    checked++;
    if (schedulable(problem, grid, structure.chains)) return { costUsd: structure.cost, structuresChecked: checked };
  }
  return undefined;
}

function chainOf(bundles: readonly Bundle[]): Chain {
  const ordered = [...bundles].sort((a, b) => a.lastEnd - b.lastEnd);
  let prefix = 0;
  let latestStart = Number.POSITIVE_INFINITY;
  for (const bundle of ordered) {
    prefix += bundle.slots;
    latestStart = Math.min(latestStart, bundle.lastEnd - prefix);
  }
  return { pool: ordered[0]?.pool ?? -1, length: prefix, latestStart };
}

/** 4. depth-first search over start slots, with quota rows as a cumulative resource. */
function schedulable(problem: PlanningProblem, grid: TimeGrid, chains: readonly Chain[]): boolean {
  const B = grid.bootSlots;
  const rows = grid.slots + B;
  const usage = new Map<string, number[]>();
  const cell = (chain: Chain) => {
    const pool = problem.pools[chain.pool];
    if (pool === undefined) throw new RangeError("unknown pool");
    const key = `${pool.quotaGroup}|${pool.market}`;
    let used = usage.get(key);
    if (used === undefined) {
      used = new Array<number>(rows).fill(0);
      usage.set(key, used);
    }
    return { used, limit: problem.quotas[pool.quotaGroup][pool.market], vcpus: pool.type.vcpus };
  };
  const place = (index: number): boolean => {
    const chain = chains[index];
    if (chain === undefined) return true;
    const { used, limit, vcpus } = cell(chain);
    for (let start = 0; start <= chain.latestStart; start++) {
      let fits = true;
      for (let row = start; row < start + chain.length + B; row++) {
        if ((used[row] ?? 0) + vcpus > limit) {
          fits = false;
          break;
        }
      }
      if (!fits) continue;
      for (let row = start; row < start + chain.length + B; row++) used[row] = (used[row] ?? 0) + vcpus;
      if (place(index + 1)) return true;
      for (let row = start; row < start + chain.length + B; row++) used[row] = (used[row] ?? 0) - vcpus;
    }
    return false;
  };
  return place(0);
}

/** All ways to put `items` identical things into `bins` bins (counts per bin). */
function multisets(bins: number, items: number): number[][] {
  if (bins === 0) return items === 0 ? [[]] : [];
  if (bins === 1) return [[items]];
  const result: number[][] = [];
  for (let first = items; first >= 0; first--) {
    for (const rest of multisets(bins - 1, items - first)) result.push([first, ...rest]);
  }
  return result;
}

function* product<T>(lists: readonly (readonly T[])[]): Generator<T[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [head, ...tail] = lists;
  for (const item of head ?? []) {
    for (const rest of product(tail)) yield [item, ...rest];
  }
}

/** All set partitions of `items`. */
function partitions<T>(items: readonly T[]): T[][][] {
  if (items.length === 0) return [[]];
  const [first, ...rest] = items as [T, ...T[]];
  const result: T[][][] = [];
  for (const partition of partitions(rest)) {
    result.push([[first], ...partition]);
    partition.forEach((_, index) => {
      result.push(partition.map((group, i) => (i === index ? [first, ...group] : group)));
    });
  }
  return result;
}
