/**
 * The report after `saturn run`: planned against executed cost and makespan, interruptions
 * and re-plans, job outcomes, and the check that no instance of the workload is left
 * running (read back from the cloud by tag, not from the record).
 */
import type { SimRunResult } from "../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { jobDeadlineAt, objectiveBudgetUsd } from "../../lambdas/core/reconciler/deadlines.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";
import type { ExecutedRun } from "../report/executed-run.ts";

export interface RunSummary {
  readonly workload: string;
  readonly status: string;
  readonly statusReason: string;
  readonly seed: number;
  readonly planned: { readonly costUsd: number; readonly makespanSeconds: number };
  readonly executed: { readonly costUsd: number; readonly makespanSeconds: number };
  readonly costDeviation: number;
  readonly deadlineHours: number | undefined;
  readonly lateJobs: readonly string[];
  readonly budgetUsd: number | undefined;
  readonly interruptions: number;
  readonly capacityErrors: number;
  readonly replans: readonly {
    readonly at: number;
    readonly reason: string;
    readonly adopted: boolean;
    readonly detail: string;
  }[];
  readonly jobs: {
    readonly completed: number;
    readonly failed: readonly { readonly id: string; readonly reason: string }[];
    readonly pending: number;
  };
  readonly instancesLaunched: number;
  readonly instancesLeftRunning: number;
}

export function summarizeRun(workload: Workload, plan: Plan, result: SimRunResult, seed: number): RunSummary {
  const record = result.record;
  const jobs = Object.entries(record.jobs);
  const lateJobs = workload.jobs
    .filter((job) => {
      const deadline = jobDeadlineAt(job, workload.objective, result.startedAt);
      const finished = record.jobs[job.id]?.finishedAt;
      return deadline !== undefined && record.jobs[job.id]?.status === "done" && (finished ?? Infinity) > deadline;
    })
    .map((job) => job.id);
  const deadlines = workload.jobs
    .map((job) => jobDeadlineAt(job, workload.objective, 0))
    .filter((d): d is number => d !== undefined);
  return {
    workload: workload.name,
    status: record.status,
    statusReason: record.statusReason ?? "",
    seed,
    planned: { costUsd: plan.totals.expectedCostUsd, makespanSeconds: plan.totals.makespanSeconds },
    executed: { costUsd: result.spendUsd, makespanSeconds: result.makespanSeconds },
    costDeviation: result.spendUsd / plan.totals.expectedCostUsd - 1,
    deadlineHours: deadlines.length > 0 ? Math.max(...deadlines) / 3600 : undefined,
    lateJobs,
    budgetUsd: objectiveBudgetUsd(workload.objective),
    interruptions: result.interruptions,
    capacityErrors: record.failedLaunchTokens.length,
    replans: record.replans.map(({ at, reason, adopted, detail }) => ({ at, reason, adopted, detail })),
    jobs: {
      completed: jobs.filter(([, job]) => job.status === "done").length,
      failed: jobs.filter(([, job]) => job.status === "failed").map(([id, job]) => ({ id, reason: job.reason ?? "" })),
      pending: jobs.filter(([, job]) => job.status === "pending").length,
    },
    instancesLaunched: result.cloud.allInstances().length,
    instancesLeftRunning: result.instancesLeftRunning,
  };
}

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(2)} h`;
}

function signedPercent(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
}

export function formatRunSummary(summary: RunSummary): string {
  const { planned, executed } = summary;
  const lines = [
    "",
    `Workload ${summary.workload}: ${summary.status} (${summary.statusReason})`,
    "",
    "                 planned      executed",
    `  cost       ${`$${planned.costUsd.toFixed(2)}`.padStart(12)}  ${`$${executed.costUsd.toFixed(2)}`.padStart(12)}  (${signedPercent(summary.costDeviation)})`,
    `  makespan   ${hours(planned.makespanSeconds).padStart(12)}  ${hours(executed.makespanSeconds).padStart(12)}  (${signedPercent(executed.makespanSeconds / planned.makespanSeconds - 1)})`,
  ];
  if (summary.deadlineHours !== undefined) {
    lines.push(
      `  deadline   ${`${summary.deadlineHours} h`.padStart(12)}  ${summary.lateJobs.length === 0 ? "met".padStart(12) : `${summary.lateJobs.length} late`.padStart(12)}`,
    );
  }
  if (summary.budgetUsd !== undefined) {
    lines.push(
      `  budget     ${`$${summary.budgetUsd.toFixed(2)}`.padStart(12)}  ${executed.costUsd <= summary.budgetUsd ? "within".padStart(12) : "EXCEEDED".padStart(12)}`,
    );
  }
  const adopted = summary.replans.filter((replan) => replan.adopted).length;
  lines.push(
    "",
    `Jobs: ${summary.jobs.completed} completed, ${summary.jobs.failed.length} failed, ${summary.jobs.pending} not finished`,
    ...summary.jobs.failed.map((job) => `  ${job.id}: ${job.reason}`),
    `Spot interruptions: ${summary.interruptions} · capacity/quota launch errors: ${summary.capacityErrors} · re-plans: ${summary.replans.length} (${adopted} adopted)`,
    ...summary.replans.map((replan) => `  ${hours(replan.at)}  ${replan.reason}: ${replan.detail}`),
    `Instances launched: ${summary.instancesLaunched}; left running: ${summary.instancesLeftRunning}` +
      (summary.instancesLeftRunning === 0
        ? ` (confirmed by describing every instance tagged saturn:workload=${summary.workload})`
        : " — TERMINATE THEM"),
  );
  return `${lines.join("\n")}\n`;
}

/** What actually ran, in the shape of the HTML report's "what actually ran" Gantt chart. */
export function executedRun(result: SimRunResult): ExecutedRun {
  const origin = result.startedAt;
  return {
    now: result.endedAt - origin,
    instances: result.cloud.allInstances().map((instance) => ({
      id: instance.id,
      instanceType: instance.instanceType,
      market: instance.market,
      start: instance.launchedAt - origin,
      end: instance.terminatedAt === undefined ? undefined : instance.terminatedAt - origin,
    })),
    intervals: result.cloud.attemptHistory().map((attempt) => ({
      jobId: attempt.jobId,
      instanceIds: attempt.instanceIds,
      start: attempt.start - origin,
      end: attempt.end - origin,
      outcome: attempt.outcome === "completed" ? "completed" : attempt.outcome === "failed" ? "failed" : "interrupted",
    })),
  };
}
