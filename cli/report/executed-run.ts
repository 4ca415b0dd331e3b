/**
 * What actually ran, as the reconciler or the simulated cloud records it: the input of the
 * "what actually ran" Gantt chart. Times are seconds from the plan's start, like `Plan`.
 */
import type { Market } from "../../lambdas/core/spec/workload-schema.ts";

export interface ExecutedInstance {
  readonly id: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly start: number;
  /** Undefined while the instance is still running; the chart draws it to the horizon. */
  readonly end: number | undefined;
}

export type ExecutedOutcome = "completed" | "interrupted" | "failed" | "running";

export interface ExecutedInterval {
  readonly jobId: string;
  readonly instanceIds: readonly string[];
  readonly start: number;
  /** Undefined while the job is still running on these instances. */
  readonly end: number | undefined;
  readonly outcome: ExecutedOutcome;
}

export interface ExecutedRun {
  readonly instances: readonly ExecutedInstance[];
  readonly intervals: readonly ExecutedInterval[];
  /** The clock reading the record was taken at; open intervals end here. */
  readonly now: number;
}
