/**
 * The planner's use-case: a workload in `planning` gets plan v1 and waits in `planned`
 * for approval (nothing launches before the user saw the price), or ends `infeasible` with
 * the binding constraint in its status. Any other status means the request is a repeat
 * (SQS delivers at least once) or the workload was cancelled meanwhile: nothing happens.
 *
 * With a `profiling` section, plan v1 (from estimates and the stored records) comes with a
 * proposed profiling phase: the runs `chooseProfilingRuns` picks, stored beside the plan,
 * their price in the status reason. Approving the plan approves that price; the phase runs
 * first (profiling-pass.ts), and when it ends the workload is back here: the next version
 * is planned from the measured records and waits in `planned` for a second approval.
 */

import type { Catalog } from "../catalog/types.ts";
import { InfeasibleWorkloadError, InvalidWorkloadError } from "../errors.ts";
import { jobSignature } from "../estimator/job-signature.ts";
import { InMemoryProfileStore } from "../estimator/profiles.ts";
import type { PlanningResult } from "../planner/api.ts";
import { chooseProfilingRuns } from "../planner/profiling-phase.ts";
import type { Workload } from "../spec/workload.ts";
import {
  type ProfilingPhaseStore,
  VersionConflictError,
  type WorkloadRecord,
  type WorkloadStore,
} from "../store/workload-store.ts";
import type { ConsideredReports } from "./considered-report.ts";
import { describeProposal, proposeProfilingPhase, summarizeOutcome } from "./profiling-phase-record.ts";
import { DEFAULT_GUARD_SECONDS } from "./profiling-step.ts";
import { storePlanVersion } from "./store-plan-version.ts";
import { type StackLimits, storedWorkload } from "./stored-workload.ts";

/**
 * What a profile run is billed on the control plane beyond boot and steps: up to a pass
 * interval (the one-minute schedule) before its assignment and another before its
 * terminate, plus the budget guard's two-minute look-ahead (profiling-step.ts), so that a
 * phase priced within its budget does not trip the guard.
 */
export const PROFILE_RUN_OVERHEAD_SECONDS = 2 * 60 + DEFAULT_GUARD_SECONDS;

export interface PlanDeps {
  readonly store: WorkloadStore & ProfilingPhaseStore;
  readonly catalog: Catalog;
  readonly limits: StackLimits;
  /** The MILP planner (HiGHS) under the spec's time limit. */
  readonly plan: (workload: Workload) => Promise<PlanningResult>;
  /** Where the plan's considered report goes (the bucket); without it the plan is stored whole. */
  readonly reports?: ConsideredReports;
}

export type PlanOutcome =
  | { readonly kind: "planned"; readonly record: WorkloadRecord; readonly warnings: readonly string[] }
  | { readonly kind: "infeasible"; readonly record: WorkloadRecord }
  | { readonly kind: "skipped"; readonly reason: string };

export async function planSubmittedWorkload(deps: PlanDeps, workloadId: string, now: string): Promise<PlanOutcome> {
  const record = await deps.store.get(workloadId);
  if (record === undefined) return { kind: "skipped", reason: `workload '${workloadId}' does not exist` };
  if (record.status !== "planning") return { kind: "skipped", reason: `workload is ${record.status}` };

  const workload = storedWorkload(record, deps.catalog, deps.limits);
  const version = record.planVersion + 1;
  let result: PlanningResult;
  try {
    result = await deps.plan(workload);
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
  await storePlanVersion(deps, workloadId, version, plan);
  const measured = plan.assignments.filter((a) => a.throughputSource === "measured").length;
  const figures = `${measured}/${plan.assignments.length} assignments on measured figures`;
  const head = `plan v${version}: $${plan.totals.expectedCostUsd.toFixed(2)} expected (up to $${worstCase.toFixed(2)}), ${(plan.totals.makespanSeconds / 3600).toFixed(2)} h, ${plan.instances.length} instances, ${figures}`;
  const existing = await deps.store.getProfilingPhase(workloadId);
  let statusReason = `${head}; approve to launch`;
  if (existing !== undefined) {
    statusReason = `${head} (after the ${summarizeOutcome(existing.phase)}); approve to launch`;
  } else if (workload.profiling !== undefined) {
    const signatures = [...new Set(workload.jobs.map((job) => jobSignature(job)))];
    const profiles = new InMemoryProfileStore(await deps.store.profiles(signatures));
    const choice = chooseProfilingRuns(
      plan,
      workload,
      profiles,
      { ...workload.profiling, overheadSeconds: PROFILE_RUN_OVERHEAD_SECONDS },
      deps.catalog,
    );
    if (choice.runs.length > 0) {
      const phase = proposeProfilingPhase(choice, workload.profiling, version);
      try {
        await deps.store.saveProfilingPhase(workloadId, 0, phase);
      } catch (error) {
        // A repeated request (SQS at least once) proposed the same phase first.
        if (!(error instanceof VersionConflictError)) throw error;
      }
      statusReason = `${head}; ${describeProposal(phase)}; approve to start profiling`;
    } else {
      statusReason = `${head}; no profile run is worth its price (${choice.leftOut.length} already measured or left out); approve to launch`;
    }
  }
  const planned = await settle(deps.store, record, { status: "planned", statusReason, planVersion: version });
  await deps.store.appendAudit(workloadId, [
    { at: now, planVersion: version, kind: "planned", detail: { statusReason, warnings: result.warnings } },
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
