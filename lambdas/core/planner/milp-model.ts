/**
 * The planning MILP (docs/plan.md, "The MILP"), time-indexed and aggregated by class.
 *
 * Sets:  K classes (k has n_k jobs), P pools (type x region x market), O options (o runs a bundle of
 *        up to r_o jobs of class k(o) on N_o instances of pool p(o) for d_o slots; its start
 *        lies in 0..L_o), T = {0..S-1} slots of length D, B = ceil(boot / D) boot slots,
 *        G quota cells (region x quota group x market) with limit Q_g and pools P_g.
 * Data:  expected price c_p and budget (worst-case) price c'_p (USD/h; equal on demand),
 *        vCPUs v_p, boot b (s), M_p = floor(Q_g / v_p).
 * Variables:
 *   x[o,t] in Z+   bundles of option o starting in slot t            (t <= L_o)
 *   z[p,t] in Z+   instances of pool p alive in slot t               (z <= M_p)
 *   u[p,t] >= 0    instances of pool p launched for slot t (boot before t)
 *   a[t]   in {0,1} min-time only: some instance is alive in slot t
 * Objective:
 *   min-cost: min  sum_p c_p/3600 * sum_t (D z[p,t] + b u[p,t]) + sum_o r_o f_o sum_t x[o,t]
 *             (f_o: USD per job of moving data and checkpoints to and from the home region,
 *             0 at home; data-transfer.ts; charged at r_o jobs per bundle)
 *   min-time: min  D sum_t a[t] + eps * cost,  eps = 0.01 D / budget  (cost only breaks ties)
 * Constraints:
 *   (1) demand    sum_{o: k(o)=k} sum_t min(r_o, n_k) x[o,t] >= n_k                 for all k
 *   (2) capacity  sum_{o: p(o)=p} N_o sum_{t'=t-d_o+1..t} x[o,t'] <= z[p,t]          for all p, t
 *   (3) launch    z[p,t] - z[p,t-1] <= u[p,t]           (z[p,-1] = 0)               for all p, t
 *   (4) quota     sum_{p in P_g} v_p (z[p,s] + sum_{j=1..B} u[p,s+j]) <= Q_g        for all g, s = -B..S-1
 *   (5) deadline  by construction: x[o,t] exists only for t + d_o <= the class's deadline slot
 *                 (spot: the deadline less the slack for one more interruption, prune-options.ts)
 *   (6) min-time  z[p,t] <= M_p a[t];  a[t] >= a[t+1]
 *   (7) budget    (min-time) cost at budget prices c'_p <= budget
 *
 * (2) counts instances, not GPUs: a bundle occupies whole instances, so any schedule that
 * satisfies (2)-(4) decodes to concrete instances without moving a running job (see
 * `decode-plan.ts`). (4) holds at every moment: during the last B slots before t an
 * instance launched for t boots while the instances of those slots still run.
 */
import type { MilpModel } from "./api.ts";
import type { PlanningProblem } from "./planning-problem.ts";
import type { SlottedOption } from "./prune-options.ts";
import { launches, type SlotSchedule, slottedMakespanSlots } from "./slot-schedule.ts";
import type { TimeGrid } from "./time-grid.ts";

/** USD per slot of delay of one bundle's start: breaks ties only (see the objective). */
export const START_TIE_BREAK_USD = 1e-6;

export type ModelObjective = { readonly kind: "min-cost" } | { readonly kind: "min-time"; readonly budgetUsd: number };

export interface PlanModel extends MilpModel {
  /** The same model without integrality: its LP relaxation. */
  readonly relaxation: MilpModel;
  /** Options the relaxation's solution uses (sum over slots of x[o,t] > 0). */
  readonly usedOptions: (values: ReadonlyMap<string, number>) => Set<number>;
  readonly rows: number;
  readonly integerColumns: number;
  /** Reads a solver's column values back into a schedule. */
  readonly read: (values: ReadonlyMap<string, number>) => SlotSchedule;
}

/** Column-name helpers; names stay readable so that an infeasibility report can be read by a person. */
function optionName(problem: PlanningProblem, option: SlottedOption): string {
  const pool = problem.pools[option.poolIndex];
  const label = `c${option.classIndex}_${pool?.key ?? "pool"}_${option.technique}_n${option.nodes}g${option.gpusPerNode}`;
  return sanitize(`x_${label}_o${option.index}`);
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

export function buildPlanModel(
  problem: PlanningProblem,
  grid: TimeGrid,
  options: readonly SlottedOption[],
  objective: ModelObjective,
  start: SlotSchedule | undefined,
): PlanModel {
  const S = grid.slots;
  const B = grid.bootSlots;
  const D = grid.slotSeconds;
  const usedPools = [...new Set(options.map((option) => option.poolIndex))].sort((a, b) => a - b);
  const poolNames = new Map(usedPools.map((index) => [index, sanitize(problem.pools[index]?.key ?? `pool${index}`)]));
  const x = (option: SlottedOption, t: number) => `${optionName(problem, option)}_t${t}`;
  const z = (pool: number, t: number) => `z_${poolNames.get(pool)}_t${t}`;
  const u = (pool: number, t: number) => `u_${poolNames.get(pool)}_t${t}`;
  const a = (t: number) => `a_t${t}`;

  const columns: string[] = [];
  const integers: string[] = [];
  const binaries: string[] = [];
  const bounds: string[] = [];
  const rows: string[] = [];

  // Cost terms at expected prices (objectives) and at budget prices (the budget row (7)).
  const costTerms: [number, string][] = [];
  const budgetTerms: [number, string][] = [];
  for (const p of usedPools) {
    const pool = problem.pools[p];
    if (pool === undefined) continue;
    for (let t = 0; t < S; t++) {
      costTerms.push([(pool.priceUsdPerHour * D) / 3600, z(p, t)]);
      costTerms.push([(pool.priceUsdPerHour * problem.bootSeconds) / 3600, u(p, t)]);
      budgetTerms.push([(pool.budgetPriceUsdPerHour * D) / 3600, z(p, t)]);
      budgetTerms.push([(pool.budgetPriceUsdPerHour * problem.bootSeconds) / 3600, u(p, t)]);
      columns.push(z(p, t), u(p, t));
      integers.push(z(p, t));
      bounds.push(` 0 <= ${z(p, t)} <= ${pool.maxInstances}`, ` ${u(p, t)} >= 0`);
    }
  }
  for (const option of options) {
    const jobClass = problem.classes[option.classIndex];
    const most = Math.ceil((jobClass?.jobs.length ?? 0) / option.jobsPerBundle);
    const transferUsd = option.transferUsd * Math.min(option.jobsPerBundle, jobClass?.jobs.length ?? 1);
    for (let t = 0; t <= option.lastStart; t++) {
      if (transferUsd > 0) {
        costTerms.push([transferUsd, x(option, t)]);
        budgetTerms.push([transferUsd, x(option, t)]);
      }
      columns.push(x(option, t));
      integers.push(x(option, t));
      bounds.push(` 0 <= ${x(option, t)} <= ${most}`);
    }
  }

  // Time symmetry: a schedule shifted later costs the same. A tiny charge per start slot
  // (at most START_TIE_BREAK_USD x slots per bundle, far below any price difference) makes
  // the earliest of equal schedules the unique optimum, which prunes the search.
  const startTerms: [number, string][] = [];
  for (const option of options) {
    for (let t = 1; t <= option.lastStart; t++) startTerms.push([START_TIE_BREAK_USD * t, x(option, t)]);
  }
  let objectiveTerms: [number, string][];
  if (objective.kind === "min-cost") {
    objectiveTerms = [...costTerms, ...startTerms];
  } else {
    const eps = (0.01 * D) / Math.max(objective.budgetUsd, 1e-9);
    objectiveTerms = costTerms.map(([coefficient, name]) => [coefficient * eps, name]);
    for (let t = 0; t < S; t++) {
      objectiveTerms.push([D, a(t)]);
      columns.push(a(t));
      binaries.push(a(t));
    }
  }

  // (1) demand
  for (const jobClass of problem.classes) {
    const terms: [number, string][] = [];
    for (const option of options) {
      if (option.classIndex !== jobClass.index) continue;
      // Coefficient reduction: a bundle never holds more than the class's n_k jobs.
      const jobs = Math.min(option.jobsPerBundle, jobClass.jobs.length);
      for (let t = 0; t <= option.lastStart; t++) terms.push([jobs, x(option, t)]);
    }
    rows.push(row(`c1_demand_c${jobClass.index}`, terms, ">=", jobClass.jobs.length));
  }
  // (2) capacity
  for (const p of usedPools) {
    const poolOptions = options.filter((option) => option.poolIndex === p);
    for (let t = 0; t < S; t++) {
      const terms: [number, string][] = [[-1, z(p, t)]];
      for (const option of poolOptions) {
        for (let start = Math.max(0, t - option.slots + 1); start <= Math.min(t, option.lastStart); start++) {
          terms.push([option.nodes, x(option, start)]);
        }
      }
      if (terms.length > 1) rows.push(row(`c2_capacity_${poolNames.get(p)}_t${t}`, terms, "<=", 0));
    }
  }
  // (3) launch
  for (const p of usedPools) {
    for (let t = 0; t < S; t++) {
      const terms: [number, string][] = [
        [1, z(p, t)],
        [-1, u(p, t)],
      ];
      if (t > 0) terms.push([-1, z(p, t - 1)]);
      rows.push(row(`c3_launch_${poolNames.get(p)}_t${t}`, terms, "<=", 0));
    }
  }
  // (4) quota
  const cells = new Map<string, number[]>();
  for (const p of usedPools) {
    const pool = problem.pools[p];
    if (pool === undefined) continue;
    // Single-region models keep their pre-region row names.
    const key = pool.region === problem.workload.region ? `${pool.quotaGroup}_${pool.market}` : pool.quotaCell;
    const same = cells.get(key);
    if (same === undefined) cells.set(key, [p]);
    else same.push(p);
  }
  for (const [key, members] of cells) {
    const first = problem.pools[members[0] as number];
    if (first === undefined) continue;
    const limit = first.quotaVcpus;
    for (let s = -B; s < S; s++) {
      const terms: [number, string][] = [];
      for (const p of members) {
        const vcpus = problem.pools[p]?.type.vcpus ?? 0;
        if (s >= 0) terms.push([vcpus, z(p, s)]);
        for (let j = 1; j <= B; j++) if (s + j >= 0 && s + j < S) terms.push([vcpus, u(p, s + j)]);
      }
      if (terms.length > 0) rows.push(row(`c4_quota_${sanitize(key)}_s${s < 0 ? `m${-s}` : s}`, terms, "<=", limit));
    }
  }
  // (6) and (7) for min-time
  if (objective.kind === "min-time") {
    for (let t = 0; t < S; t++) {
      for (const p of usedPools) {
        const most = problem.pools[p]?.maxInstances ?? 0;
        rows.push(
          row(
            `c6_used_${poolNames.get(p)}_t${t}`,
            [
              [1, z(p, t)],
              [-most, a(t)],
            ],
            "<=",
            0,
          ),
        );
      }
      if (t + 1 < S)
        rows.push(
          row(
            `c6_order_t${t}`,
            [
              [1, a(t)],
              [-1, a(t + 1)],
            ],
            ">=",
            0,
          ),
        );
    }
    rows.push(row("c7_budget", budgetTerms, "<=", objective.budgetUsd));
  }

  const head = [
    "Minimize",
    ` obj: ${expression(mergeTerms(objectiveTerms)) || "0 a_dummy"}`,
    "Subject To",
    ...rows,
    "Bounds",
    ...bounds,
    ...binaries.map((name) => ` 0 <= ${name} <= 1`),
  ];
  const lp = [
    ...head,
    ...(integers.length > 0 ? ["Generals", ...wrap(integers)] : []),
    ...(binaries.length > 0 ? ["Binaries", ...wrap(binaries)] : []),
    "End",
    "",
  ].join("\n");
  const relaxation: MilpModel = { lp: [...head, "End", ""].join("\n"), columns };
  const usedOptions = (values: ReadonlyMap<string, number>): Set<number> => {
    const used = new Set<number>();
    for (const { option, name } of optionColumns) {
      for (let t = 0; t <= option.lastStart; t++) {
        if ((values.get(name(t)) ?? 0) > 1e-6) {
          used.add(option.index);
          break;
        }
      }
    }
    return used;
  };

  const optionColumns = options.map((option) => ({ option, name: (t: number) => x(option, t) }));
  const read = (values: ReadonlyMap<string, number>): SlotSchedule => {
    const bundles: SlotSchedule["bundles"][number][] = [];
    const remaining = new Map(problem.classes.map((jobClass) => [jobClass.index, jobClass.jobs.length]));
    for (const { option, name } of optionColumns) {
      for (let t = 0; t <= option.lastStart; t++) {
        const count = Math.round(values.get(name(t)) ?? 0);
        for (let i = 0; i < count; i++) {
          const left = remaining.get(option.classIndex) ?? 0;
          const jobs = Math.min(left, option.jobsPerBundle);
          if (jobs <= 0) continue; // (1) is >=: a surplus bundle holds no job and is dropped
          remaining.set(option.classIndex, left - jobs);
          bundles.push({ option, slot: t, jobs });
        }
      }
    }
    const alive = problem.pools.map((pool) =>
      Array.from({ length: S }, (_, t) =>
        poolNames.has(pool.index) ? Math.round(values.get(z(pool.index, t)) ?? 0) : 0,
      ),
    );
    return { bundles, alive };
  };

  let initialSolution: Map<string, number> | undefined;
  if (start !== undefined) {
    initialSolution = new Map();
    const counts = new Map<string, number>();
    for (const bundle of start.bundles) {
      const name = x(bundle.option, bundle.slot);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    for (const [name, count] of counts) initialSolution.set(name, count);
    for (const p of usedPools) {
      const alive = start.alive[p] ?? [];
      for (let t = 0; t < S; t++) {
        initialSolution.set(z(p, t), alive[t] ?? 0);
        initialSolution.set(u(p, t), launches(alive, t));
      }
    }
    if (objective.kind === "min-time") {
      const used = slottedMakespanSlots(start.alive);
      for (let t = 0; t < S; t++) initialSolution.set(a(t), t < used ? 1 : 0);
    }
  }

  return {
    lp,
    columns,
    relaxation,
    usedOptions,
    rows: rows.length,
    integerColumns: integers.length + binaries.length,
    read,
    ...(initialSolution === undefined ? {} : { initialSolution }),
  };
}

/** One term per column (a transfer charge and a start tie-break may name the same x). */
function mergeTerms(terms: readonly [number, string][]): [number, string][] {
  const merged = new Map<string, number>();
  for (const [coefficient, name] of terms) merged.set(name, (merged.get(name) ?? 0) + coefficient);
  return [...merged].map(([name, coefficient]) => [coefficient, name]);
}

function row(name: string, terms: readonly [number, string][], sense: "<=" | ">=", rhs: number): string {
  return ` ${name}: ${expression(terms)} ${sense} ${number(rhs)}`;
}

function expression(terms: readonly [number, string][]): string {
  const parts: string[] = [];
  terms.forEach(([coefficient, name], index) => {
    if (coefficient === 0) return;
    const sign = coefficient < 0 ? "-" : index === 0 || parts.length === 0 ? "" : "+";
    parts.push(`${sign}${sign === "" ? "" : " "}${number(Math.abs(coefficient))} ${name}`);
  });
  // Long rows are split over lines: the LP format allows it and HiGHS reads it faster.
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 16) lines.push(parts.slice(i, i + 16).join(" "));
  return lines.join("\n   ");
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(12)).toString();
}

function wrap(names: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += 16) lines.push(` ${names.slice(i, i + 16).join(" ")}`);
  return lines;
}
