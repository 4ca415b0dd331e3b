/**
 * Stores a plan version so that reading it back costs what the plan route answers: the
 * planner's `considered` report (every job's candidate configurations; ~207 MB of JSON at
 * 1,000 jobs before grouping) goes to the bucket once, grouped (ConsideredReports), and the
 * table gets the plan without it plus the report's summary. The report is written first,
 * so a stored plan that names a report always has one; a retry writes the same objects.
 * Without a report store (tests that give none) the plan is stored whole, as before.
 */
import type { Plan } from "../planner/plan.ts";
import type { WorkloadStore } from "../store/workload-store.ts";
import {
  type ConsideredReports,
  groupConsidered,
  summarizeConsidered,
  withoutConsidered,
} from "./considered-report.ts";

export interface PlanVersionDeps {
  readonly store: Pick<WorkloadStore, "putPlan">;
  readonly reports?: Pick<ConsideredReports, "put"> | undefined;
}

export async function storePlanVersion(
  deps: PlanVersionDeps,
  workloadId: string,
  planVersion: number,
  plan: Plan,
): Promise<void> {
  if (plan.considered.length === 0 || deps.reports === undefined) {
    await deps.store.putPlan(workloadId, planVersion, plan);
    return;
  }
  const grouped = groupConsidered(workloadId, planVersion, plan.considered);
  await deps.reports.put(grouped);
  await deps.store.putPlan(workloadId, planVersion, withoutConsidered(plan), summarizeConsidered(grouped));
}
