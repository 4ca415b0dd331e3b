/**
 * What `GET /workloads/{id}` answers: status, per-job progress, spend against the budget
 * (or time against the deadline), instances, recent actions. Built from the store alone
 * (the record keeps the last pass's observation), so reading a status calls no cloud API
 * and the API function needs no EC2 permission.
 */
import type { Plan } from "../planner/plan.ts";
import { objectiveBudgetUsd, objectiveDeadlineHours } from "../reconciler/deadlines.ts";
import type { ExecutionRecord, ObservationSnapshot } from "../reconciler/execution-record.ts";
import { parseWorkloadText } from "../spec/workload.ts";
import type { AuditEntry, WorkloadRecord, WorkloadSummary } from "../store/workload-store.ts";
import type { ProfilingPhase } from "./profiling-phase-record.ts";

export interface JobView {
  readonly id: string;
  readonly status: "pending" | "running" | "done" | "failed";
  readonly samplesDone: number;
  readonly totalSamples: number;
  /** 0..1 */
  readonly progress: number;
  readonly attemptId: string | null;
  readonly samplesPerSecond: number | null;
  readonly reason: string | null;
}

export interface WorkloadView extends Omit<WorkloadSummary, "statusReason"> {
  readonly statusReason: string | null;
  readonly objective: string;
  readonly plan: {
    readonly version: number;
    readonly expectedCostUsd: number;
    readonly worstCaseCostUsd: number;
    readonly makespanSeconds: number;
    readonly instances: number;
  } | null;
  readonly spend: {
    readonly spentUsd: number;
    readonly budgetUsd: number | null;
    /** Epoch seconds; null without a deadline or before the run started. */
    readonly deadlineAt: number | null;
    readonly startedAt: number | null;
  };
  readonly jobs: readonly JobView[];
  readonly instances: ObservationSnapshot["instances"];
  /** Epoch seconds of the observation the progress and instances come from. */
  readonly observedAt: number | null;
  readonly recentActions: readonly AuditEntry[];
  /**
   * The profiling phase, when the plan came with one: proposed (its price is part of what
   * approving the plan approves), running, or ended with each run's outcome. Null without.
   */
  readonly profiling: ProfilingPhase | null;
}

/** How many audit entries the view shows, newest last. */
const RECENT_ACTIONS = 20;

export function workloadView(
  summary: WorkloadRecord,
  plan: Plan | undefined,
  execution: ExecutionRecord | undefined,
  audit: readonly AuditEntry[],
  profiling?: ProfilingPhase,
): WorkloadView {
  const workload = parseWorkloadText(summary.specText);
  const observation = execution?.observation;
  const jobs: JobView[] = workload.jobs.map((job) => {
    const state = execution?.jobs[job.id];
    const seen = observation?.jobs[job.id];
    const done = state?.status === "done";
    const samplesDone = done ? job.totalSamples : Math.min(job.totalSamples, seen?.samplesDone ?? 0);
    const running = !done && state?.status !== "failed" && seen?.attemptId !== undefined;
    return {
      id: job.id,
      status: done ? "done" : state?.status === "failed" ? "failed" : running ? "running" : "pending",
      samplesDone,
      totalSamples: job.totalSamples,
      progress: job.totalSamples > 0 ? samplesDone / job.totalSamples : 0,
      attemptId: running ? (seen?.attemptId ?? null) : null,
      samplesPerSecond: running ? (seen?.samplesPerSecond ?? null) : null,
      reason: state?.reason ?? null,
    };
  });
  const hours = objectiveDeadlineHours(workload.objective);
  const { specText: _specText, statusReason, ...rest } = summary;
  return {
    ...rest,
    statusReason: statusReason ?? null,
    objective: workload.objective.kind,
    plan:
      plan === undefined
        ? null
        : {
            version: execution?.planVersion ?? summary.planVersion,
            expectedCostUsd: plan.totals.expectedCostUsd,
            worstCaseCostUsd: plan.totals.budgetCostUsd ?? plan.totals.expectedCostUsd,
            makespanSeconds: plan.totals.makespanSeconds,
            instances: plan.instances.length,
          },
    spend: {
      spentUsd: observation?.spendUsd ?? 0,
      budgetUsd: objectiveBudgetUsd(workload.objective) ?? null,
      deadlineAt: hours === undefined || execution === undefined ? null : execution.startedAt + hours * 3600,
      startedAt: execution?.startedAt ?? null,
    },
    jobs,
    instances: observation?.instances ?? [],
    observedAt: observation?.at ?? null,
    recentActions: audit.slice(-RECENT_ACTIONS),
    profiling: profiling ?? null,
  };
}
