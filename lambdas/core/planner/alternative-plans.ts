/**
 * Plans the planner compares with its MILP's (docs/plan.md, "Plans compared"): the
 * continuous-time list schedule and the four baselines (current practice, per-job cheapest,
 * fixed cluster, greedy), all on the same candidates, prices and quotas. Whatever the solver
 * managed within its time limit, the returned plan is never worse than a valid one of these.
 * A baseline that cannot run on this workload (no p4d in the catalog, a job that fits on no
 * single p4d) is simply absent.
 */

import { expectedHourlyPrice } from "../catalog/select.ts";
import type { Catalog, InstanceType } from "../catalog/types.ts";
import type { Candidate } from "../estimator/types.ts";
import type { Workload } from "../spec/workload.ts";
import type { QuotaTable } from "./api.ts";
import { type BaselineContext, quotaInstanceLimit, REFERENCE_INSTANCE_TYPE } from "./baselines/baseline-context.ts";
import { perJobCheapestCostUsd } from "./baselines/per-job-cheapest.ts";
import { type BaselineName, runBaseline } from "./baselines/run-baselines.ts";
import { makespanLowerBound } from "./bounds.ts";
import { listScheduleByDeadline, listSchedulePlan, listScheduleWithinBudget } from "./list-schedule.ts";
import type { Plan, PlanSource } from "./plan.ts";
import { expectedSpendUsd } from "./plan-parts.ts";
import type { PlanningProblem } from "./planning-problem.ts";
import { spotSlowdown } from "./spot-overhead.ts";

export interface AlternativePlan {
  readonly source: PlanSource;
  readonly plan: Plan;
}

export interface AlternativeInput {
  readonly problem: PlanningProblem;
  /** The workload as this solve sees it (its deadline or budget). */
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  /** Each planning region's quotas, for the baselines that choose regions (per-job cheapest). */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly instanceTypes: readonly InstanceType[];
  readonly candidates: ReadonlyMap<string, readonly Candidate[]>;
  readonly deadlineSeconds: number | undefined;
  readonly considered: Plan["considered"];
  /** What "better" means in this solve. */
  readonly compareBy: "cost" | "makespan";
  /** The validator's verdict for this solve; only valid plans are returned. */
  readonly isValid: (plan: Plan) => boolean;
}

export function alternativePlans(input: AlternativeInput): AlternativePlan[] {
  const plans: AlternativePlan[] = [];
  // Min-time also tries the list schedule that prefers the earliest end (within the budget
  // only if the validator says so).
  const preferences = input.compareBy === "cost" ? (["cost"] as const) : (["time", "cost"] as const);
  for (const preference of preferences) {
    const context = { deadlineSeconds: input.deadlineSeconds, considered: input.considered, preference };
    // Cost-preferring schedules trade cost for time only when the cheapest choices miss the deadline.
    const listed =
      preference === "cost" ? listScheduleByDeadline(input.problem, context) : listSchedulePlan(input.problem, context);
    if (listed !== undefined && input.isValid(listed)) plans.push({ source: "list-schedule", plan: listed });
  }
  const budgetUsd = input.workload.objective.kind === "min-time" ? input.workload.objective.budgetUsd : undefined;
  if (input.compareBy === "makespan" && budgetUsd !== undefined) {
    // The cheapest list schedule at the shortest deadline the budget allows (exact runtimes).
    const searched = listScheduleWithinBudget(input.problem, {
      considered: input.considered,
      budgetUsd,
      lowSeconds: makespanLowerBound(input.problem),
    });
    if (searched !== undefined && input.isValid(searched)) plans.push({ source: "list-schedule", plan: searched });
  }
  const context = baselineContext(input);
  const value = (plan: Plan) => (input.compareBy === "cost" ? expectedSpendUsd(plan) : plan.totals.makespanSeconds);
  // Per-job cheapest first: it is the one most often close, and the p4d baselines are skipped
  // when their own lower bound cannot beat the best valid plan so far.
  const order: BaselineName[] = ["per-job-cheapest", "current-practice", "fixed-cluster", "greedy"];
  const bound = referencePoolBound(input, context);
  for (const name of order) {
    const best = Math.min(...plans.map((entry) => value(entry.plan)));
    if (name !== "per-job-cheapest" && bound !== undefined) {
      const least = input.compareBy === "cost" ? bound.costUsd : bound.makespanSeconds;
      if (least >= best) continue;
    }
    // Its cost is known before its schedule; no need to schedule a plan that cannot win.
    if (name === "per-job-cheapest" && input.compareBy === "cost" && Number.isFinite(best)) {
      const cost = tryCost(context);
      if (cost !== undefined && cost >= best) continue;
    }
    const plan = tryBaseline(name, context);
    // Baselines pick from the whole catalog; a plan on an offer this solve cannot use (one
    // excluded after a failed launch, or without price or quota) is no alternative.
    if (plan === undefined || !usesOnlyPools(plan, input.problem)) continue;
    // Unmarked, as every compared plan: the planner marks the one it returns.
    const full: Plan = { ...plan, objective: input.workload.objective.kind, considered: input.considered };
    if (input.isValid(full)) plans.push({ source: name, plan: full });
  }
  return plans;
}

/**
 * What any of the three p4d baselines (current practice, fixed cluster, greedy) costs and
 * takes at the least: each runs every job on GPUs of one on-demand p4d.24xlarge, so it pays
 * at least each job's cheapest share of one (GPUs / 8 x price x runtime), and on a pool of K
 * instances (what the quota admits, at most one per job) it needs at least boot plus the
 * longer of the slowest job's fastest run and the total GPU-seconds spread over all K x 8
 * GPUs. Undefined when the catalog has no such offer (the baselines do not apply then).
 */
function referencePoolBound(
  input: AlternativeInput,
  context: BaselineContext,
): { costUsd: number; makespanSeconds: number } | undefined {
  const type = input.instanceTypes.find((entry) => entry.name === REFERENCE_INSTANCE_TYPE);
  const price = type === undefined ? undefined : expectedHourlyPrice(type, input.workload.region, "on-demand");
  if (type === undefined || price === undefined) return undefined;
  const count = Math.min(quotaInstanceLimit(context, type, "on-demand"), input.workload.jobs.length);
  if (count < 1) return undefined;
  let costUsd = 0;
  let gpuSeconds = 0;
  let longest = 0;
  for (const job of input.workload.jobs) {
    let cheapest = Number.POSITIVE_INFINITY;
    let fewest = Number.POSITIVE_INFINITY;
    let fastest = Number.POSITIVE_INFINITY;
    for (const candidate of context.candidatesFor(job, [type])) {
      if (!candidate.estimate.fits || candidate.runtimeSeconds === undefined || candidate.config.nodes !== 1) continue;
      if (!job.techniques.includes(candidate.config.technique)) continue;
      const share = candidate.config.gpusPerNode / type.gpus;
      cheapest = Math.min(cheapest, (share * price * candidate.runtimeSeconds) / 3600);
      fewest = Math.min(fewest, candidate.config.gpusPerNode * candidate.runtimeSeconds);
      fastest = Math.min(fastest, candidate.runtimeSeconds);
    }
    if (!Number.isFinite(cheapest)) return undefined; // the baselines reject this workload
    costUsd += cheapest;
    gpuSeconds += fewest;
    longest = Math.max(longest, fastest);
  }
  const boot = input.problem.bootSeconds;
  return { costUsd, makespanSeconds: boot + Math.max(longest, gpuSeconds / (count * type.gpus)) };
}

/** True when every instance of the plan sits in one of the problem's pools (type, region, market). */
function usesOnlyPools(plan: Plan, problem: PlanningProblem): boolean {
  const home = problem.workload.region;
  const pools = new Set(problem.pools.map((pool) => `${pool.type.name}|${pool.market}|${pool.region}`));
  return plan.instances.every((instance) =>
    pools.has(`${instance.instanceType}|${instance.market}|${instance.region ?? home}`),
  );
}

function tryCost(context: BaselineContext): number | undefined {
  try {
    return perJobCheapestCostUsd(context);
  } catch (error) {
    if (error instanceof Error && error.name === "InfeasibleWorkloadError") return undefined;
    throw error;
  }
}

function tryBaseline(name: BaselineName, context: BaselineContext): Plan | undefined {
  try {
    return runBaseline(name, context);
  } catch (error) {
    // A baseline that does not apply to this workload (InfeasibleWorkloadError) is left out.
    if (error instanceof Error && error.name === "InfeasibleWorkloadError") return undefined;
    throw error;
  }
}

/** The baselines' context on the planner's own candidates and spot rule. */
function baselineContext(input: AlternativeInput): BaselineContext {
  const typesByName = new Map(input.instanceTypes.map((type) => [type.name, type]));
  const offered = new Set(input.instanceTypes.map((type) => type.name));
  const filtered = new Map<readonly Candidate[], Map<string, readonly Candidate[]>>();
  return {
    workload: input.workload,
    catalog: input.catalog,
    quotas: input.quotas,
    ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
    // Lean baselines read only configurations, estimates and runtimes: the class's shared
    // list is filtered once per set of types and never copied per job.
    candidatesFor: (job, types) => {
      const list = input.candidates.get(job.id) ?? [];
      const key = types.map((type) => type.name).join(",");
      let byTypes = filtered.get(list);
      if (byTypes === undefined) {
        byTypes = new Map();
        filtered.set(list, byTypes);
      }
      let kept = byTypes.get(key);
      if (kept === undefined) {
        const names = new Set(types.map((type) => type.name));
        kept = list.filter(
          (candidate) => names.has(candidate.config.instanceType) && offered.has(candidate.config.instanceType),
        );
        byTypes.set(key, kept);
      }
      return kept;
    },
    expectedRuntimeSeconds: (candidate, market) => {
      const runtime = candidate.runtimeSeconds ?? Number.POSITIVE_INFINITY;
      const type = typesByName.get(candidate.config.instanceType);
      return market === "spot" && type !== undefined ? runtime * spotSlowdown(type, input.workload.spot) : runtime;
    },
    // The planner fills in the considered list and the bound itself: a baseline's own copy
    // (one candidate object per job and candidate) held 0.7 GB at 5,000 jobs.
    lean: true,
  };
}
