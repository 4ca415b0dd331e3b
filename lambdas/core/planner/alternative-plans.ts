/**
 * Plans the planner compares with its MILP's (docs/plan.md, "Plans compared"): the
 * continuous-time list schedule and the four baselines (current practice, per-job cheapest,
 * fixed cluster, greedy), all on the same candidates, prices and quotas. Whatever the solver
 * managed within its time limit, the returned plan is never worse than a valid one of these.
 * A baseline that cannot run on this workload (no p4d in the catalog, a job that fits on no
 * single p4d) is simply absent.
 */
import type { Catalog, InstanceType } from "../catalog/types.ts";
import type { Candidate } from "../estimator/types.ts";
import type { Workload } from "../spec/workload.ts";
import type { QuotaTable } from "./api.ts";
import type { BaselineContext } from "./baselines/baseline-context.ts";
import { BASELINE_NAMES, type BaselineName, runBaseline } from "./baselines/run-baselines.ts";
import { listSchedulePlan, markChosen } from "./list-schedule.ts";
import type { Plan, PlanSource } from "./plan.ts";
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
  readonly instanceTypes: readonly InstanceType[];
  readonly candidates: ReadonlyMap<string, readonly Candidate[]>;
  readonly deadlineSeconds: number | undefined;
  readonly considered: Plan["considered"];
}

export function alternativePlans(input: AlternativeInput): AlternativePlan[] {
  const plans: AlternativePlan[] = [];
  const listed = listSchedulePlan(input.problem, {
    deadlineSeconds: input.deadlineSeconds,
    considered: input.considered,
  });
  if (listed !== undefined) plans.push({ source: "list-schedule", plan: listed });
  const context = baselineContext(input);
  for (const name of BASELINE_NAMES) {
    const plan = tryBaseline(name, context);
    if (plan === undefined) continue;
    const considered = markChosen(input.considered, plan.assignments, plan.instances);
    plans.push({ source: name, plan: { ...plan, objective: input.workload.objective.kind, considered } });
  }
  return plans;
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
  };
}
