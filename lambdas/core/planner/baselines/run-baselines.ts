/** All four baselines of issue 3 on one context, keyed by name, for the benchmark and the report. */
import type { Plan } from "../plan.ts";
import type { BaselineContext } from "./baseline-context.ts";
import { CURRENT_PRACTICE, currentPracticePlan } from "./current-practice.ts";
import { FIXED_CLUSTER, fixedClusterPlan } from "./fixed-cluster.ts";
import { GREEDY, greedyPlan } from "./greedy.ts";
import { PER_JOB_CHEAPEST, perJobCheapestPlan } from "./per-job-cheapest.ts";

export const BASELINE_NAMES = [CURRENT_PRACTICE, PER_JOB_CHEAPEST, FIXED_CLUSTER, GREEDY] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

export interface BaselineOptions {
  /** Size of the p4d pool of the fixed-cluster baselines and of current practice (default: what the quota admits). */
  readonly instances?: number;
}

export function runBaseline(name: BaselineName, context: BaselineContext, options: BaselineOptions = {}): Plan {
  switch (name) {
    case CURRENT_PRACTICE:
      return currentPracticePlan(context, options);
    case PER_JOB_CHEAPEST:
      return perJobCheapestPlan(context);
    case FIXED_CLUSTER:
      return fixedClusterPlan(context, options);
    case GREEDY:
      return greedyPlan(context, options);
  }
}
