/**
 * The planner's use-case: a workload in `planning` gets plan v1 and waits in `planned`
 * for approval (nothing launches before the user saw the price), or ends `infeasible` with
 * the binding constraint in its status. Any other status means the request is a repeat
 * (SQS delivers at least once) or the workload was cancelled meanwhile: nothing happens.
 */

import type { Catalog } from "../catalog/types.ts";
import { InfeasibleWorkloadError, InvalidWorkloadError } from "../errors.ts";
import type { PlanningResult } from "../planner/api.ts";
import type { Workload } from "../spec/workload.ts";
import { VersionConflictError, type WorkloadRecord, type WorkloadStore } from "../store/workload-store.ts";
import { type StackLimits, storedWorkload } from "./stored-workload.ts";

export interface PlanDeps {
  readonly store: WorkloadStore;
  readonly catalog: Catalog;
  readonly limits: StackLimits;
  /** The MILP planner (HiGHS) under the spec's time limit. */
  readonly plan: (workload: Workload) => Promise<PlanningResult>;
}

export type PlanOutcome =
  | { readonly kind: "planned"; readonly record: WorkloadRecord; readonly warnings: readonly string[] }
  | { readonly kind: "infeasible"; readonly record: WorkloadRecord }
  | { readonly kind: "skipped"; readonly reason: string };

export async function planSubmittedWorkload(deps: PlanDeps, workloadId: string, now: string): Promise<PlanOutcome> {
  const record = await deps.store.get(workloadId);
  if (record === undefined) return { kind: "skipped", reason: `workload '${workloadId}' does not exist` };
  if (record.status !== "planning") return { kind: "skipped", reason: `workload is ${record.status}` };

  let result: PlanningResult;
  try {
    result = await deps.plan(storedWorkload(record, deps.catalog, deps.limits));
  } catch (error) {
    if (!(error instanceof InfeasibleWorkloadError) && !(error instanceof InvalidWorkloadError)) throw error;
    const reason =
      error instanceof InfeasibleWorkloadError
        ? `${error.constraint}: ${error.message}`
        : `the spec cannot be planned in this stack: ${error.message}`;
    return {
      kind: "infeasible",
      record: await settle(deps.store, record, { status: "infeasible", statusReason: reason }),
    };
  }
  const plan = result.plan;
  const worstCase = plan.totals.budgetCostUsd ?? plan.totals.expectedCostUsd;
  const cap = deps.limits.budgetCapUsd;
  if (cap !== undefined && worstCase > cap) {
    const reason = `budget cap: the cheapest plan found costs up to $${worstCase.toFixed(2)} at worst-case prices, above the stack's cap of $${cap.toFixed(2)} (CDK context defaultBudgetCapUsd); raise the cap or shrink the workload`;
    return {
      kind: "infeasible",
      record: await settle(deps.store, record, { status: "infeasible", statusReason: reason }),
    };
  }
  await deps.store.putPlan(workloadId, 1, plan);
  const statusReason = `plan v1: $${plan.totals.expectedCostUsd.toFixed(2)} expected (up to $${worstCase.toFixed(2)}), ${(plan.totals.makespanSeconds / 3600).toFixed(2)} h, ${plan.instances.length} instances; approve to launch`;
  const planned = await settle(deps.store, record, { status: "planned", statusReason, planVersion: 1 });
  await deps.store.appendAudit(workloadId, [
    { at: now, planVersion: 1, kind: "planned", detail: { statusReason, warnings: result.warnings } },
  ]);
  return { kind: "planned", record: planned, warnings: result.warnings };
}

/**
 * Writes the planner's verdict unless the workload left `planning` meanwhile (a cancel):
 * conflicts re-read and re-check, so a concurrent cancel always wins.
 */
async function settle(
  store: WorkloadStore,
  first: WorkloadRecord,
  change: Parameters<WorkloadStore["update"]>[2],
): Promise<WorkloadRecord> {
  let record = first;
  for (;;) {
    if (record.status !== "planning" || record.cancelRequested) return record;
    try {
      return await store.update(record.id, record.version, change);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const fresh = await store.get(record.id);
      if (fresh === undefined) return record;
      record = fresh;
    }
  }
}
