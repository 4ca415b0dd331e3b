/**
 * Runs the four baselines of issue 3 on a workload with the planner's candidates and spot
 * rule, and checks each plan with `validatePlan` (without the deadline or budget, which
 * baselines do not promise; whether they met them is reported beside).
 */

import { resolveQuotas } from "../lambdas/core/catalog/quotas.ts";
import type { Catalog } from "../lambdas/core/catalog/types.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import { checkPromises, withoutDeadlineOrBudget } from "../lambdas/core/planner/baselines/baseline-promises.ts";
import { planningBaselineContext } from "../lambdas/core/planner/baselines/planning-baseline-context.ts";
import { BASELINE_NAMES, type BaselineName, runBaseline } from "../lambdas/core/planner/baselines/run-baselines.ts";
import { type WorkloadBounds, workloadBounds } from "../lambdas/core/planner/baselines/workload-bounds.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import { validatePlan } from "../lambdas/core/planner/validate-plan.ts";
import type { Workload } from "../lambdas/core/spec/workload.ts";

export type BaselineResult =
  | {
      readonly name: BaselineName;
      readonly ok: true;
      readonly plan: Plan;
      readonly violations: readonly string[];
      readonly meetsDeadline: boolean | undefined;
      readonly seconds: number;
    }
  | { readonly name: BaselineName; readonly ok: false; readonly error: string; readonly seconds: number };

export interface BaselineRun {
  readonly baselines: BaselineResult[];
  /** Lower bounds that hold for any plan on the same candidates, prices and quotas. */
  readonly bounds: WorkloadBounds;
}

export function runBaselines(workload: Workload, catalog: Catalog): BaselineRun {
  const { quotas } = resolveQuotas(workload.quotas, undefined);
  const clock = (): number => performance.now() / 1000;
  const context = planningBaselineContext({ workload, catalog, quotas, profiles: new InMemoryProfileStore([]), clock });
  const relaxed = { workload: withoutDeadlineOrBudget(workload), catalog, quotas };
  const baselines = BASELINE_NAMES.map((name): BaselineResult => {
    const started = clock();
    try {
      const plan = runBaseline(name, context);
      return {
        name,
        ok: true,
        plan,
        violations: validatePlan(plan, relaxed),
        meetsDeadline: checkPromises(plan, workload).meetsDeadline,
        seconds: clock() - started,
      };
    } catch (error) {
      return {
        name,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        seconds: clock() - started,
      };
    }
  });
  return { baselines, bounds: workloadBounds(context) };
}

/** The baseline's plan when it was produced and is valid; its figures count only then. */
export function validBaselinePlan(results: readonly BaselineResult[], name: BaselineName): Plan | undefined {
  const result = results.find((entry) => entry.name === name);
  return result?.ok && result.violations.length === 0 ? result.plan : undefined;
}
