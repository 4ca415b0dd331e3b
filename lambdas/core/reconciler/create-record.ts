/** The record of a workload about to run its first plan. */
import type { Plan } from "../planner/plan.ts";
import type { Workload } from "../spec/workload.ts";
import type { ExecutionRecord, JobRecord } from "./execution-record.ts";

/** `planVersion`: the approved plan's (2 and up after a profiling phase re-planned). */
export function createExecutionRecord(workload: Workload, plan: Plan, now: number, planVersion = 1): ExecutionRecord {
  const jobs: Record<string, JobRecord> = {};
  for (const job of workload.jobs) {
    jobs[job.id] = {
      status: "pending",
      reason: undefined,
      finishedAt: undefined,
      onDemandOnly: false,
      deviationReportedInPlan: undefined,
      throughputReportedForAttempt: undefined,
    };
  }
  return {
    version: 0,
    workloadName: workload.name,
    objective: workload.objective,
    startedAt: now,
    status: "running",
    statusReason: undefined,
    cancelRequested: false,
    planVersion,
    plan,
    planOrigin: now,
    bindings: {},
    jobs,
    excludedOffers: [],
    quotaCuts: [],
    failedLaunchTokens: [],
    interruptedInstanceIds: [],
    replanRequest: undefined,
    replans: [],
    lastReplanAt: now,
    measured: [],
    approvedCostUsd: plan.totals.budgetCostUsd ?? plan.totals.expectedCostUsd,
  };
}

/** Cancelling keeps every record: jobs stay pending with their checkpoints, nothing is deleted. */
export function requestCancel(record: ExecutionRecord): ExecutionRecord {
  return record.cancelRequested ? record : { ...record, cancelRequested: true };
}
