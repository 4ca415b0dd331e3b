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
import { budgetSpendUsd, expectedSpendUsd } from "./plan-parts.ts";
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

/**
 * Per class, its usable columns on the lower hull of each cell; undefined when a class has
 * none. Columns are built and reduced to their hulls class by class, so only the hulls stay
 * alive (all 429,705 options' columns at once were most of this step's memory at 5,000 jobs).
 */
function allocationColumns(problem: PlanningProblem, deadlineSeconds: number): Column[][] | undefined {
  const boot = problem.bootSeconds;
  const optionsByClass: PlanOption[][] = problem.classes.map(() => []);
  for (const option of problem.options) optionsByClass[option.classIndex]?.push(option);
  const kept: Column[][] = [];
  for (const [classIndex, options] of optionsByClass.entries()) {
    const jobClass = problem.classes[classIndex];
    if (jobClass === undefined) return undefined;
    const deadline = Math.min(jobClass.deadlineSeconds ?? Number.POSITIVE_INFINITY, deadlineSeconds);
    const byCell = new Map<string, Column[]>();
    for (const option of options) {
      const pool = problem.pools[option.poolIndex];
      if (pool === undefined) continue;
      const latestEnd = pool.market === "spot" ? spotLatestEndSeconds(deadline, boot, problem.workload.spot) : deadline;
      if (boot + option.runtimeSeconds > latestEnd) continue;
      // Jobs per bundle on average when the class runs on this option alone: a class of 5 on
      // 4-job bundles pays 2 bundles, not 1.25 (its last bundle leaves GPUs idle).
      const n = jobClass.jobs.length;
      const perBundle = n / Math.ceil(n / option.jobsPerBundle);
      const column: Column = {
        option,
        costUsd: (option.nodes * pool.priceUsdPerHour * option.runtimeSeconds) / 3600 / perBundle + option.transferUsd,
        vcpuSeconds: (option.nodes * pool.type.vcpus * option.runtimeSeconds) / perBundle,
        cell: pool.quotaCell,
        quotaVcpus: pool.quotaVcpus,
        latestEndSeconds: latestEnd,
      };
      const same = byCell.get(column.cell);
      if (same === undefined) byCell.set(column.cell, [column]);
      else same.push(column);
    }
    if (byCell.size === 0) return undefined;
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
        // Appended in place (a copy per term was quadratic in a cell's terms).
        let byEnd = usage.get(column.cell);
        if (byEnd === undefined) {
          byEnd = new Map<number, string[]>();
          usage.set(column.cell, byEnd);
        }
        const due = byEnd.get(column.latestEndSeconds);
        if (due === undefined) byEnd.set(column.latestEndSeconds, [`${signed(column.vcpuSeconds)} ${name}`]);
        else due.push(`${signed(column.vcpuSeconds)} ${name}`);
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

export interface LpGuidedBudgetInput {
  readonly problem: PlanningProblem;
  readonly solver: SolverPort;
  readonly considered: Plan["considered"];
  /** What the plan may spend at worst-case prices (`budgetSpendUsd`), transfer included. */
  readonly budgetUsd: number;
  /** A makespan no plan beats (`makespanLowerBound`): the search's lower end. */
  readonly lowSeconds: number;
  /** The makespan to beat (the fastest compared plan's): the search's upper end. */
  readonly highSeconds: number;
  /** Solver seconds each step's LPs may take. */
  readonly stepSeconds: number;
  /** Seconds the search may still take (the caller's wall clock or solver seconds); checked before each step. */
  readonly secondsLeft: () => number;
  /** The validator's verdict for this solve (min-time: the budget); only valid plans are kept. */
  readonly isValid: (plan: Plan) => boolean;
  /** Called after each step with its solver seconds. */
  readonly onStep?: (seconds: number) => void;
}

/** Bisection steps of `lpGuidedWithinBudget`. */
const BUDGET_STEPS = 8;

/**
 * Min-time with the LP-guided plan (docs/plan.md, "Objectives"): the LP-guided plan is the
 * cheapest plan this module finds at a deadline, so the shortest deadline whose plan stays
 * within the budget is found by bisection between `lowSeconds` and `highSeconds`. A step
 * whose plan fits the budget lowers the upper end to that plan's makespan; one whose plan
 * does not (or that packs no valid plan) raises the lower end. Cost is not strictly monotone
 * in the deadline, so the result is the fastest plan seen, not a proof. Undefined when no
 * step gave a plan within the budget that is faster than `highSeconds`.
 */
export async function lpGuidedWithinBudget(
  input: LpGuidedBudgetInput,
): Promise<{ readonly plan: Plan | undefined; readonly seconds: number; readonly steps: number }> {
  let best: Plan | undefined;
  let low = input.lowSeconds;
  let high = input.highSeconds;
  let seconds = 0;
  let steps = 0;
  const within = (plan: Plan) => budgetSpendUsd(plan) <= input.budgetUsd * (1 + 1e-9) && input.isValid(plan);
  for (; steps < BUDGET_STEPS && high - low > Math.max(60, 0.005 * high) && input.secondsLeft() > 0; steps++) {
    const deadlineSeconds = (low + high) / 2;
    const result = await lpGuidedPlan({
      problem: input.problem,
      solver: input.solver,
      deadlineSeconds,
      considered: input.considered,
      timeLimitSeconds: input.stepSeconds,
      // The cheapest packed plan that keeps the budget and this solve's validator.
      isValid: within,
    });
    seconds += result.seconds;
    input.onStep?.(result.seconds);
    const plan = result.plan;
    if (plan !== undefined) {
      if (best === undefined || plan.totals.makespanSeconds < best.totals.makespanSeconds) best = plan;
      high = Math.min(deadlineSeconds, plan.totals.makespanSeconds);
    } else {
      low = deadlineSeconds;
    }
  }
  return { plan: best, seconds, steps };
}
