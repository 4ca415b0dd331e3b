/**
 * LP-guided rounding (docs/plan.md, "LP-guided list schedules"): the continuous-time list
 * schedule chooses each bundle's configuration greedily, cheapest per job first, and so fills
 * the binding quota cells (P5 and P spot) with whichever classes come first; the slotted MILP
 * chooses jointly but on runs rounded up to slots of hours. Here the choice is made jointly
 * and in exact time by an LP, then packed by the list schedule:
 *
 *   1. the allocation LP: jobs per (class, option) at the whole-instance price of the option's
 *      bundles (nodes x price x runtime / the jobs a bundle holds on average when the class
 *      runs on the option alone, transfer included), under the
 *      demand rows and, per quota cell and latest end L, the rows "vCPU-seconds of the runs
 *      that must end by L <= capacity x Q x (L - boot)", with the planner's spot rule (a spot
 *      run ends by `spotLatestEndSeconds`); on each (class, cell) only the lower convex hull
 *      of (vCPU-seconds, cost) is kept, as in the bound's LP;
 *   2. rounding: each class's jobs are dealt to its options in proportion to the LP's
 *      values (largest remainders);
 *   3. packing: `listSchedulePlan` with that guide: a class's bundles take their guided
 *      options while any fits before its deadline, and fall back to the cheapest placement
 *      that fits otherwise.
 *
 * An aggregate quota row can be filled to the last vCPU-second; whole runs in time cannot,
 * and what does not fit falls back to dearer cells. So the LP is solved at several capacity
 * shares (CAPACITY_SHARES: the LP keeps some room free in every binding cell) and the
 * cheapest packed plan is kept. Every step is deterministic: the same problem gives the same
 * plan whatever the machine's speed, unlike a MILP stopped at a time limit.
 */
import type { MilpModel, SolverPort } from "./api.ts";
import { lowerHull } from "./bounds.ts";
import { listSchedulePlan } from "./list-schedule.ts";
import type { Plan } from "./plan.ts";
import { expectedSpendUsd } from "./plan-parts.ts";
import type { PlanningProblem, PlanOption } from "./planning-problem.ts";
import { spotLatestEndSeconds } from "./spot-overhead.ts";

/** Shares of each quota cell's capacity the allocation LP may fill, one packed plan each. */
export const CAPACITY_SHARES: readonly number[] = [1, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.8, 0.75, 0.7];

/** One (class, option) column of the allocation LP, per job. */
interface Column {
  readonly option: PlanOption;
  readonly costUsd: number;
  readonly vcpuSeconds: number;
  readonly cell: string;
  readonly quotaVcpus: number;
  readonly latestEndSeconds: number;
}

export interface LpGuidedInput {
  readonly problem: PlanningProblem;
  readonly solver: SolverPort;
  /** The solve's plan-wide deadline (the classes' own deadlines apply too). */
  readonly deadlineSeconds: number;
  readonly considered: Plan["considered"];
  /** Solver seconds for all the LPs together. */
  readonly timeLimitSeconds: number;
  /** The validator's verdict for this solve; only valid plans are kept. */
  readonly isValid: (plan: Plan) => boolean;
  /** Called per capacity share with the LP's objective and the packed plan (reports and studies). */
  readonly onShare?: (share: number, lpUsd: number | undefined, plan: Plan | undefined) => void;
}

export interface LpGuidedResult {
  /** The cheapest valid packed plan, undefined when none was valid (or no LP solved). */
  readonly plan: Plan | undefined;
  /** The capacity share whose LP gave it. */
  readonly capacityShare: number | undefined;
  /** Solver seconds the LPs took. */
  readonly seconds: number;
}

export async function lpGuidedPlan(input: LpGuidedInput): Promise<LpGuidedResult> {
  const columns = allocationColumns(input.problem, input.deadlineSeconds);
  if (columns === undefined) return { plan: undefined, capacityShare: undefined, seconds: 0 };
  let best: Plan | undefined;
  let bestShare: number | undefined;
  let seconds = 0;
  const seen = new Set<string>();
  for (const share of CAPACITY_SHARES) {
    const left = input.timeLimitSeconds - seconds;
    if (left <= 0) break;
    const model = allocationModel(input.problem, columns, share);
    const solution = await input.solver.solve(model, { timeLimitSeconds: left, mipGap: 0 });
    seconds += solution.seconds;
    if (solution.status !== "optimal") {
      input.onShare?.(share, undefined, undefined);
      continue;
    }
    const guide = roundAllocation(input.problem, columns, solution.values);
    const key = guideKey(guide);
    if (seen.has(key)) continue; // the same rounding packs into the same plan
    seen.add(key);
    const plan = listSchedulePlan(input.problem, {
      deadlineSeconds: input.deadlineSeconds,
      considered: [],
      preference: "cost",
      guide,
    });
    input.onShare?.(share, solution.objective, plan);
    if (plan === undefined) continue;
    const full: Plan = { ...plan, considered: input.considered };
    if (best !== undefined && expectedSpendUsd(full) >= expectedSpendUsd(best)) continue;
    if (!input.isValid(full)) continue;
    best = full;
    bestShare = share;
  }
  return { plan: best, capacityShare: bestShare, seconds };
}

/** Per class, its usable columns on the lower hull of each cell; undefined when a class has none. */
function allocationColumns(problem: PlanningProblem, deadlineSeconds: number): Column[][] | undefined {
  const boot = problem.bootSeconds;
  const byClass: Column[][] = problem.classes.map(() => []);
  for (const option of problem.options) {
    const pool = problem.pools[option.poolIndex];
    const jobClass = problem.classes[option.classIndex];
    if (pool === undefined || jobClass === undefined) continue;
    const deadline = Math.min(jobClass.deadlineSeconds ?? Number.POSITIVE_INFINITY, deadlineSeconds);
    const latestEnd = pool.market === "spot" ? spotLatestEndSeconds(deadline, boot, problem.workload.spot) : deadline;
    if (boot + option.runtimeSeconds > latestEnd) continue;
    // Jobs per bundle on average when the class runs on this option alone: a class of 5 on
    // 4-job bundles pays 2 bundles, not 1.25 (its last bundle leaves GPUs idle).
    const n = jobClass.jobs.length;
    const perBundle = n / Math.ceil(n / option.jobsPerBundle);
    byClass[option.classIndex]?.push({
      option,
      costUsd: (option.nodes * pool.priceUsdPerHour * option.runtimeSeconds) / 3600 / perBundle + option.transferUsd,
      vcpuSeconds: (option.nodes * pool.type.vcpus * option.runtimeSeconds) / perBundle,
      cell: pool.quotaCell,
      quotaVcpus: pool.quotaVcpus,
      latestEndSeconds: latestEnd,
    });
  }
  const kept: Column[][] = [];
  for (const list of byClass) {
    if (list.length === 0) return undefined;
    const byCell = new Map<string, Column[]>();
    for (const column of list) byCell.set(column.cell, [...(byCell.get(column.cell) ?? []), column]);
    kept.push([...byCell.values()].flatMap((cellColumns) => lowerHull(cellColumns)));
  }
  return kept;
}

function columnName(column: Column): string {
  return `y${column.option.index}`;
}

function allocationModel(problem: PlanningProblem, columns: readonly Column[][], share: number): MilpModel {
  const names: string[] = [];
  const objective: string[] = [];
  const rows: string[] = [];
  /** cell -> latest end -> terms. */
  const usage = new Map<string, Map<number, string[]>>();
  const limits = new Map<string, number>();
  for (const [classIndex, list] of columns.entries()) {
    const demand: string[] = [];
    for (const column of list) {
      const name = columnName(column);
      names.push(name);
      objective.push(`${signed(column.costUsd)} ${name}`);
      demand.push(`+ 1 ${name}`);
      if (Number.isFinite(column.latestEndSeconds)) {
        const byEnd = usage.get(column.cell) ?? new Map<number, string[]>();
        byEnd.set(column.latestEndSeconds, [
          ...(byEnd.get(column.latestEndSeconds) ?? []),
          `${signed(column.vcpuSeconds)} ${name}`,
        ]);
        usage.set(column.cell, byEnd);
        limits.set(column.cell, column.quotaVcpus);
      }
    }
    rows.push(` demand_c${classIndex}: ${terms(demand)} >= ${problem.classes[classIndex]?.jobs.length ?? 0}`);
  }
  for (const [cell, byEnd] of usage) {
    const limit = (limits.get(cell) ?? 0) * share;
    const cellName = cell.replace(/[^A-Za-z0-9]/g, "_");
    const sums: string[] = [];
    for (const [index, end] of [...byEnd.keys()].sort((a, b) => a - b).entries()) {
      const w = `w_${cellName}_${index}`;
      names.push(w);
      rows.push(` use_${cellName}_${index}: ${terms([...(byEnd.get(end) ?? []), `- 1 ${w}`])} <= 0`);
      sums.push(`+ 1 ${w}`);
      rows.push(` quota_${cellName}_${index}: ${terms(sums)} <= ${limit * Math.max(0, end - problem.bootSeconds)}`);
    }
  }
  const lp = ["Minimize", ` obj: ${terms(objective)}`, "Subject To", ...rows, "End", ""].join("\n");
  return { lp, columns: names };
}

/**
 * Each class's n jobs dealt to its columns: floor of the LP's values, then the remaining
 * jobs one each to the largest fractional parts (ties: the cheaper column).
 */
export function roundAllocation(
  problem: PlanningProblem,
  columns: readonly Column[][],
  values: ReadonlyMap<string, number>,
): Map<number, Map<PlanOption, number>> {
  const guide = new Map<number, Map<PlanOption, number>>();
  for (const [classIndex, list] of columns.entries()) {
    const n = problem.classes[classIndex]?.jobs.length ?? 0;
    const shares = list
      .map((column) => ({ column, value: Math.max(0, values.get(columnName(column)) ?? 0) }))
      .filter((entry) => entry.value > 1e-9);
    const total = shares.reduce((sum, entry) => sum + entry.value, 0);
    if (total <= 0) continue;
    const scaled = shares.map((entry) => ({ ...entry, value: (entry.value * n) / total }));
    const counts = scaled.map((entry) => Math.floor(entry.value + 1e-9));
    let left = n - counts.reduce((sum, count) => sum + count, 0);
    const order = scaled
      .map((entry, index) => ({ index, fraction: entry.value - (counts[index] ?? 0), cost: entry.column.costUsd }))
      .sort((a, b) => b.fraction - a.fraction || a.cost - b.cost);
    for (const { index } of order) {
      if (left <= 0) break;
      counts[index] = (counts[index] ?? 0) + 1;
      left--;
    }
    const byOption = new Map<PlanOption, number>();
    for (const [index, entry] of scaled.entries()) {
      const count = counts[index] ?? 0;
      if (count > 0) byOption.set(entry.column.option, (byOption.get(entry.column.option) ?? 0) + count);
    }
    guide.set(classIndex, byOption);
  }
  return guide;
}

function guideKey(guide: ReadonlyMap<number, ReadonlyMap<PlanOption, number>>): string {
  return [...guide]
    .map(([classIndex, byOption]) => `${classIndex}:${[...byOption].map(([o, n]) => `${o.index}x${n}`).join(",")}`)
    .join(";");
}

/** Terms joined into an LP expression: no leading sign, a line break every 16 terms. */
function terms(list: readonly string[]): string {
  const text = list.map((term, index) => (index === 0 && term.startsWith("+ ") ? term.slice(2) : term));
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 16) lines.push(text.slice(i, i + 16).join(" "));
  return lines.join("\n   ");
}

function signed(value: number): string {
  const text = Number(value.toPrecision(12)).toString();
  return value < 0 ? `- ${text.slice(1)}` : `+ ${text}`;
}
