/**
 * Baselines make no promise about the deadline or the budget (current practice does not
 * know either; per-job cheapest prefers but cannot guarantee the deadline). They are
 * validated without those bounds, and whether they met them is reported as a figure.
 */
import type { Workload } from "../../spec/workload.ts";
import type { Plan } from "../plan.ts";

/** The workload with no deadline (plan-wide or per job) and no budget: what a baseline is validated against. */
export function withoutDeadlineOrBudget(workload: Workload): Workload {
  return {
    ...workload,
    objective: { kind: "pareto", points: 7 },
    jobs: workload.jobs.map((job) => ({ ...job, deadlineHours: undefined })),
  };
}

export interface PromiseCheck {
  /** True, false, or undefined where the workload sets no deadline. */
  readonly meetsDeadline: boolean | undefined;
  readonly meetsBudget: boolean | undefined;
}

export function checkPromises(plan: Plan, workload: Workload): PromiseCheck {
  const objective = workload.objective;
  const deadlineHours = objective.kind === "min-time" ? undefined : objective.deadlineHours;
  const budgetUsd = objective.kind === "min-cost" ? undefined : objective.budgetUsd;
  const jobDeadlines = new Map(workload.jobs.map((job) => [job.id, job.deadlineHours]));
  const anyDeadline = deadlineHours !== undefined || workload.jobs.some((job) => job.deadlineHours !== undefined);
  const meetsDeadline = anyDeadline
    ? plan.assignments.every((assignment) => {
        const limit = jobDeadlines.get(assignment.jobId) ?? deadlineHours;
        return limit === undefined || assignment.end <= limit * 3600 + 1e-6;
      }) &&
      (deadlineHours === undefined || plan.totals.makespanSeconds <= deadlineHours * 3600 + 1e-6)
    : undefined;
  return {
    meetsDeadline,
    meetsBudget: budgetUsd === undefined ? undefined : plan.totals.expectedCostUsd <= budgetUsd * (1 + 1e-6),
  };
}
