/** Absolute deadlines and budgets of a workload, on the cloud's clock. */

import type { Job } from "../spec/workload.ts";
import type { Objective } from "../spec/workload-schema.ts";

/** The workload-wide deadline in hours, if the objective has one. */
export function objectiveDeadlineHours(objective: Objective): number | undefined {
  if (objective.kind === "min-cost") return objective.deadlineHours;
  if (objective.kind === "pareto") return objective.deadlineHours;
  return undefined;
}

export function objectiveBudgetUsd(objective: Objective): number | undefined {
  if (objective.kind === "min-time") return objective.budgetUsd;
  if (objective.kind === "pareto") return objective.budgetUsd;
  return undefined;
}

/** The job's deadline in cloud seconds: the earlier of the workload's and its own; undefined: none. */
export function jobDeadlineAt(job: Job, objective: Objective, startedAt: number): number | undefined {
  const hours = [objectiveDeadlineHours(objective), job.deadlineHours].filter((h): h is number => h !== undefined);
  if (hours.length === 0) return undefined;
  return startedAt + Math.min(...hours) * 3600;
}
