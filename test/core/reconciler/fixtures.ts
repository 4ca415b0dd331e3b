/** Hand-made plans, instances and reports for the reconciler's unit tests. */
import { type CloudInstance, SATURN_TAGS } from "../../../lambdas/core/cloud/cloud-port.ts";
import type { AttemptReport, JobReport } from "../../../lambdas/core/cloud/worker-port.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { createExecutionRecord } from "../../../lambdas/core/reconciler/create-record.ts";
import type { ExecutionRecord, ObservedState } from "../../../lambdas/core/reconciler/execution-record.ts";
import type { ReconcileContext } from "../../../lambdas/core/reconciler/reconcile-context.ts";
import { DEFAULT_RECONCILER_RULES } from "../../../lambdas/core/reconciler/reconciler-rules.ts";
import type { Workload } from "../../../lambdas/core/spec/workload.ts";
import { OPEN_QUOTAS, smallWorkload } from "../../sim/fixtures/workloads.ts";

/** Two jobs: job-1 on spot g5.xlarge slot s1 from t=240; job-2 on on-demand g5.xlarge slot s2 starting at 3600. */
export function twoJobPlan(): Plan {
  return {
    schemaVersion: 1,
    workload: "sim-test",
    objective: "min-cost",
    instances: [
      {
        id: "s1",
        instanceType: "g5.xlarge",
        market: "spot",
        availabilityZone: "us-east-1a",
        start: 0,
        end: 7440,
        hourlyPriceUsd: 0.42,
      },
      {
        id: "s2",
        instanceType: "g5.xlarge",
        market: "on-demand",
        availabilityZone: undefined,
        start: 3600,
        end: 13000,
        hourlyPriceUsd: 1.006,
      },
    ],
    assignments: [
      {
        jobId: "job-1",
        technique: "ddp",
        instanceIds: ["s1"],
        gpusPerInstance: 1,
        start: 240,
        end: 7440,
        samplesPerSecond: 1,
        throughputSource: "estimated",
      },
      {
        jobId: "job-2",
        technique: "ddp",
        instanceIds: ["s2"],
        gpusPerInstance: 1,
        start: 3840,
        end: 12840,
        samplesPerSecond: 1,
        throughputSource: "estimated",
      },
    ],
    totals: { expectedCostUsd: 3.5, makespanSeconds: 12840 },
    lowerBound: 3.5,
    gap: 0,
    solveSeconds: 0,
    considered: [],
  };
}

export function twoJobWorkload(objective?: Workload["objective"]): Workload {
  const workload = smallWorkload({ jobs: 2 });
  return objective === undefined ? workload : { ...workload, objective };
}

export function context(workload: Workload = twoJobWorkload()): ReconcileContext {
  return {
    workload,
    instanceTypes: new Map([
      ["g5.xlarge", { gpus: 1, vcpus: 4, quotaGroups: { spot: "G", "on-demand": "G" } }],
      ["p4d.24xlarge", { gpus: 8, vcpus: 96, quotaGroups: { spot: "P", "on-demand": "P" } }],
    ]),
    quotas: OPEN_QUOTAS,
    rules: DEFAULT_RECONCILER_RULES,
  };
}

export function freshRecord(workload: Workload = twoJobWorkload(), plan: Plan = twoJobPlan()): ExecutionRecord {
  return createExecutionRecord(workload, plan, 0);
}

export function instance(record: ExecutionRecord, slot: string, overrides: Partial<CloudInstance> = {}): CloudInstance {
  const planned = record.plan.instances.find((p) => p.id === slot);
  return {
    id: `i-${slot}`,
    instanceType: planned?.instanceType ?? "g5.xlarge",
    market: planned?.market ?? "spot",
    availabilityZone: "us-east-1a",
    state: "running",
    tags: {
      [SATURN_TAGS.workload]: record.workloadName,
      [SATURN_TAGS.plan]: String(record.planVersion),
      [SATURN_TAGS.role]: "worker",
      [SATURN_TAGS.slot]: slot,
    },
    launchedAt: 0,
    runningSince: 200,
    hourlyPriceUsd: planned?.hourlyPriceUsd ?? 1,
    interruptionNoticeAt: undefined,
    ...overrides,
  };
}

export function idleReport(jobId: string, overrides: Partial<JobReport> = {}): JobReport {
  return {
    jobId,
    checkpointSamples: 0,
    completed: false,
    completedAt: undefined,
    attempt: undefined,
    attemptsStarted: 0,
    lostAttempts: [],
    ...overrides,
  };
}

export function runningReport(
  jobId: string,
  instanceIds: readonly string[],
  attempt: Partial<AttemptReport> = {},
): JobReport {
  return idleReport(jobId, {
    attemptsStarted: 1,
    attempt: {
      attemptId: `${jobId}#1`,
      instanceIds,
      gpusPerInstance: 1,
      startedAt: 240,
      samplesDone: 500,
      samplesPerSecond: 1,
      lastHeartbeatAt: 740,
      ...attempt,
    },
  });
}

export function observed(now: number, parts: Partial<ObservedState> = {}): ObservedState {
  return {
    now,
    instances: [],
    jobs: [idleReport("job-1"), idleReport("job-2")],
    launchFailures: [],
    events: [],
    spendUsd: 0,
    ...parts,
  };
}
