/**
 * Model-free lower bounds (docs/plan.md, "Lower bounds"): they hold for every plan on the
 * same candidates, prices, quotas and deadlines, whoever builds it (this planner's MILP,
 * its list schedule, a baseline, a person), in continuous time. The slotted model's own
 * bound holds only for slotted schedules, and the decoded plan can cost less than it (the
 * decode trims rounding), so it is reported apart, under `discretisation.lowerBound`.
 *
 * Cost: every job pays at least its GPU share (price x GPUs used / GPUs of the type) of
 * the instances it runs on, for its expected runtime, on the cheapest usable configuration
 * and market. "Usable": the pool exists (price, quota, not excluded, spot only for jobs
 * that checkpoint), boot + runtime fits before the job's deadline, and the quota holds its
 * nodes. Quota-forced markets: attributing to each job the same share of its instances'
 * vCPUs, a quota cell (group x market) holds at most Q x d vCPU-seconds of the jobs whose
 * deadline is d or earlier. The bound is the least total cost under those rows, an LP in
 * jobs per (class, configuration); on each (class, cell) only the lower convex hull of
 * (vCPU-seconds, cost) can be used, so the other configurations are left out exactly.
 * Boot, idle GPUs, bundling rules and the 60-second minimum only add to every plan's cost
 * and are not counted.
 *
 * Makespan: boot plus the longest of the classes' fastest usable runtimes.
 */
import type { MilpModel, SolverPort } from "./api.ts";
import type { Plan } from "./plan.ts";
import type { PlanningProblem } from "./planning-problem.ts";
import { spotLatestEndSeconds, spotSlowdown } from "./spot-overhead.ts";

/**
 * Which plans a bound holds for. "any": every plan on the same candidates, prices, quotas and
 * deadlines. "spot-rule": every such plan that also keeps the planner's spot rule (a spot run
 * ends by `spotLatestEndSeconds` of its deadline), which is every plan the planner builds
 * itself (MILP, slotted greedy, list schedule) and every baseline without spot runs that end
 * later; the planner reports it only for a plan that keeps the rule (`keepsSpotRule`).
 */
export type BoundScope = "any" | "spot-rule";

/** One usable configuration of a class, priced by GPU share. */
interface ShareOption {
  readonly classIndex: number;
  /** The pool's quota cell (region, group, market) and the vCPUs it admits. */
  readonly cell: string;
  readonly quotaVcpus: number;
  readonly costUsd: number;
  readonly vcpuSeconds: number;
  readonly runtimeSeconds: number;
  /** Latest end of the run: the deadline, or on spot under "spot-rule" its latest spot end. */
  readonly latestEndSeconds: number;
}

export interface CostBound {
  readonly usd: number;
  /** "gpu-share": the sum alone; "quota-lp": with the quota rows (at least as high). */
  readonly method: "gpu-share" | "quota-lp";
  /** Solver seconds the LP took (0 without it). */
  readonly seconds: number;
}

/**
 * A class's usable configurations as the bounds need them: per quota cell (first-seen
 * order) the lower hull of (vCPU-seconds, cost), which holds the class's cheapest option,
 * and the fastest usable runtime. The full list is dropped per class: at 5,000 jobs it was
 * about two million objects alive at once, built twice per bound.
 */
interface ClassShares {
  readonly cells: readonly { readonly cell: string; readonly quotaVcpus: number; readonly hull: ShareOption[] }[];
  /** Infinity when the class has no usable option. */
  readonly fastestSeconds: number;
}

function classShares(
  problem: PlanningProblem,
  deadlineSeconds: number | undefined,
  scope: BoundScope = "any",
): ClassShares[] {
  return shareOptions(problem, deadlineSeconds, scope, (list) => {
    const byCell = new Map<string, ShareOption[]>();
    let fastestSeconds = Number.POSITIVE_INFINITY;
    for (const option of list) {
      const same = byCell.get(option.cell);
      if (same === undefined) byCell.set(option.cell, [option]);
      else same.push(option);
      fastestSeconds = Math.min(fastestSeconds, option.runtimeSeconds);
    }
    const cells = [...byCell].map(([cell, options]) => ({
      cell,
      quotaVcpus: (options[0] as ShareOption).quotaVcpus,
      hull: lowerHull(options),
    }));
    return { cells, fastestSeconds };
  });
}

function shareOptions<T>(
  problem: PlanningProblem,
  deadlineSeconds: number | undefined,
  scope: BoundScope,
  summarise: (list: ShareOption[]) => T,
): T[] {
  const { workload, bootSeconds } = problem;
  // Every region's pool of a (type, market): the bound takes the cheapest usable one, each
  // against its own region's quota cell. Like `expectedCostUsd`, it leaves transfer out.
  const pools = new Map<string, PlanningProblem["pools"][number][]>();
  for (const pool of problem.pools) {
    const key = `${pool.type.name}|${pool.market}`;
    const same = pools.get(key);
    if (same === undefined) pools.set(key, [pool]);
    else same.push(pool);
  }

  return problem.classes.map((jobClass) => {
    const job = jobClass.jobs[0];
    const deadline = Math.min(
      jobClass.deadlineSeconds ?? Number.POSITIVE_INFINITY,
      deadlineSeconds ?? Number.POSITIVE_INFINITY,
    );
    const list: ShareOption[] = [];
    for (const candidate of jobClass.candidates) {
      if (!candidate.estimate.fits || candidate.runtimeSeconds === undefined) continue;
      if (job !== undefined && !job.techniques.includes(candidate.config.technique)) continue;
      for (const market of workload.markets) {
        if (market === "spot" && job?.checkpointable === false) continue;
        for (const pool of pools.get(`${candidate.config.instanceType}|${market}`) ?? []) {
          if (candidate.config.nodes > pool.maxInstances) continue;
          const runtime = candidate.runtimeSeconds * (market === "spot" ? spotSlowdown(pool.type, workload.spot) : 1);
          const latestEnd =
            market === "spot" && scope === "spot-rule" && Number.isFinite(deadline)
              ? spotLatestEndSeconds(deadline, bootSeconds, workload.spot)
              : deadline;
          if (bootSeconds + runtime > latestEnd + 1e-6) continue;
          const share = (candidate.config.nodes * candidate.config.gpusPerNode) / pool.type.gpus;
          list.push({
            classIndex: jobClass.index,
            cell: pool.quotaCell,
            quotaVcpus: pool.quotaVcpus,
            costUsd: (share * pool.priceUsdPerHour * runtime) / 3600,
            vcpuSeconds: share * pool.type.vcpus * runtime,
            runtimeSeconds: runtime,
            latestEndSeconds: latestEnd,
          });
        }
      }
    }
    return summarise(list);
  });
}

/** The GPU-share bound alone: no solver needed. Undefined when some class has no usable option. */
export function gpuShareCostBound(
  problem: PlanningProblem,
  deadlineSeconds?: number,
  scope: BoundScope = "any",
): number | undefined {
  return gpuShareSum(problem, classShares(problem, deadlineSeconds, scope));
}

function gpuShareSum(problem: PlanningProblem, shares: readonly ClassShares[]): number | undefined {
  let total = 0;
  for (const [index, { cells }] of shares.entries()) {
    if (cells.length === 0) return undefined;
    const n = problem.classes[index]?.jobs.length ?? 0;
    // Each cell's hull ends at its cheapest option.
    let cheapest = Number.POSITIVE_INFINITY;
    for (const { hull } of cells) for (const option of hull) cheapest = Math.min(cheapest, option.costUsd);
    total += n * cheapest;
  }
  return total;
}

/**
 * The cost bound with the quota rows where every job has a deadline; the GPU-share sum
 * when the LP cannot be solved (the sum is itself a valid bound, just looser).
 */
export async function costLowerBound(
  problem: PlanningProblem,
  solver: SolverPort,
  deadlineSeconds: number | undefined,
  timeLimitSeconds: number,
  scope: BoundScope = "any",
): Promise<CostBound> {
  const options = classShares(problem, deadlineSeconds, scope);
  const simple = gpuShareSum(problem, options) ?? 0;
  const deadlines = problem.classes.map((jobClass) =>
    Math.min(jobClass.deadlineSeconds ?? Number.POSITIVE_INFINITY, deadlineSeconds ?? Number.POSITIVE_INFINITY),
  );
  if (options.some((entry) => entry.cells.length === 0) || deadlines.every((d) => !Number.isFinite(d))) {
    return { usd: simple, method: "gpu-share", seconds: 0 };
  }
  const columns: string[] = [];
  const objective: string[] = [];
  const bounds: string[] = [];
  const demand: string[] = [];
  /** cell -> deadline -> terms of the classes with that deadline. */
  const usage = new Map<string, Map<number, string[]>>();
  const cellLimit = new Map<string, number>();
  for (const [classIndex, { cells }] of options.entries()) {
    const n = problem.classes[classIndex]?.jobs.length ?? 0;
    const row: string[] = [];
    for (const { cell, quotaVcpus, hull } of cells) {
      cellLimit.set(cell, quotaVcpus);
      for (const [k, option] of hull.entries()) {
        const name = `y_c${classIndex}_${cell.replace(/[^A-Za-z0-9]/g, "_")}_${k}`;
        columns.push(name);
        objective.push(`${signed(option.costUsd)} ${name}`);
        bounds.push(` 0 <= ${name} <= ${n}`);
        row.push(`+ 1 ${name}`);
        // The run's latest end (on spot under "spot-rule", before the deadline): the cell's
        // vCPU-seconds of every run due by then fit in Q x that end.
        const deadline = option.latestEndSeconds;
        if (Number.isFinite(deadline)) {
          // Appended in place: a copy per term was quadratic in a cell's terms (gigabytes of
          // garbage at 5,000 jobs, where most classes share a cell and a deadline).
          let byDeadline = usage.get(cell);
          if (byDeadline === undefined) {
            byDeadline = new Map<number, string[]>();
            usage.set(cell, byDeadline);
          }
          const due = byDeadline.get(deadline);
          if (due === undefined) byDeadline.set(deadline, [`${signed(option.vcpuSeconds)} ${name}`]);
          else due.push(`${signed(option.vcpuSeconds)} ${name}`);
        }
      }
    }
    demand.push(` demand_c${classIndex}: ${terms(row)} >= ${n}`);
  }
  // Per cell and deadline d_i: w_i = the vCPU-seconds of the classes due at d_i; then
  // w_1 + ... + w_i <= Q x d_i. Each column appears in one row only.
  const quotaRows: string[] = [];
  for (const [cell, byDeadline] of usage) {
    const limit = cellLimit.get(cell) ?? 0;
    const sorted = [...byDeadline.keys()].sort((a, b) => a - b);
    const cellName = cell.replace(/[^A-Za-z0-9]/g, "_");
    const sums: string[] = [];
    for (const [index, deadline] of sorted.entries()) {
      const w = `w_${cellName}_${index}`;
      columns.push(w);
      bounds.push(` ${w} >= 0`);
      quotaRows.push(` use_${cellName}_${index}: ${terms([...(byDeadline.get(deadline) ?? []), `- 1 ${w}`])} <= 0`);
      sums.push(`+ 1 ${w}`);
      quotaRows.push(` quota_${cellName}_${index}: ${terms(sums)} <= ${limit * deadline}`);
    }
  }
  const lp = [
    "Minimize",
    ` obj: ${terms(objective)}`,
    "Subject To",
    ...demand,
    ...quotaRows,
    "Bounds",
    ...bounds,
    "End",
    "",
  ].join("\n");
  const model: MilpModel = { lp, columns };
  const solution = await solver.solve(model, { timeLimitSeconds, mipGap: 0 });
  if (solution.status !== "optimal" || solution.objective === undefined) {
    return { usd: simple, method: "gpu-share", seconds: solution.seconds };
  }
  // Solver tolerances: a hair below the LP optimum, and never below the plain sum (the LP's rows only add).
  const lpBound = solution.objective * (1 - 1e-7);
  return lpBound > simple
    ? { usd: lpBound, method: "quota-lp", seconds: solution.seconds }
    : { usd: simple, method: "gpu-share", seconds: solution.seconds };
}

/** Boot plus the longest of the classes' fastest usable runtimes (0 when a class has none). */
export function makespanLowerBound(problem: PlanningProblem, deadlineSeconds?: number): number {
  let longest = 0;
  for (const fastest of shareOptions(problem, deadlineSeconds, "any", fastestOf)) {
    if (!Number.isFinite(fastest)) return 0;
    longest = Math.max(longest, fastest);
  }
  return problem.bootSeconds + longest;
}

function fastestOf(list: readonly ShareOption[]): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (const option of list) fastest = Math.min(fastest, option.runtimeSeconds);
  return fastest;
}

/**
 * The lower-left convex hull of (vCPU-seconds, cost): every other point is no better than
 * a mix of two hull points (no more of either), so the LP needs only these.
 */
export function lowerHull<T extends { readonly vcpuSeconds: number; readonly costUsd: number }>(
  options: readonly T[],
): T[] {
  const sorted = [...options].sort((a, b) => a.vcpuSeconds - b.vcpuSeconds || a.costUsd - b.costUsd);
  const hull: T[] = [];
  for (const point of sorted) {
    // Keep only points cheaper than every point with fewer vCPU-seconds.
    if (hull.length > 0 && point.costUsd >= (hull[hull.length - 1] as T).costUsd) continue;
    while (hull.length >= 2) {
      const a = hull[hull.length - 2] as T;
      const b = hull[hull.length - 1] as T;
      const cross =
        (b.vcpuSeconds - a.vcpuSeconds) * (point.costUsd - a.costUsd) -
        (b.costUsd - a.costUsd) * (point.vcpuSeconds - a.vcpuSeconds);
      if (cross <= 0) hull.pop();
      else break;
    }
    hull.push(point);
  }
  return hull;
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

/**
 * True when every spot run of the plan ends by `spotLatestEndSeconds` of its deadline (the
 * tighter of the job's class deadline and `deadlineSeconds`): the plan is one the
 * "spot-rule" bound holds for.
 */
export function keepsSpotRule(
  plan: Pick<Plan, "instances" | "assignments">,
  problem: PlanningProblem,
  deadlineSeconds: number | undefined,
): boolean {
  const spot = new Set(plan.instances.filter((instance) => instance.market === "spot").map((instance) => instance.id));
  if (spot.size === 0) return true;
  const classDeadline = new Map<string, number | undefined>();
  for (const jobClass of problem.classes) {
    for (const job of jobClass.jobs) classDeadline.set(job.id, jobClass.deadlineSeconds);
  }
  return plan.assignments.every((assignment) => {
    if (!assignment.instanceIds.some((id) => spot.has(id))) return true;
    const deadline = Math.min(
      classDeadline.get(assignment.jobId) ?? Number.POSITIVE_INFINITY,
      deadlineSeconds ?? Number.POSITIVE_INFINITY,
    );
    if (!Number.isFinite(deadline)) return true;
    return assignment.end <= spotLatestEndSeconds(deadline, problem.bootSeconds, problem.workload.spot) + 1e-6;
  });
}
