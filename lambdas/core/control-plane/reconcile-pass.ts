/**
 * One reconcile pass of one workload: what the reconciler Lambda does per message.
 *
 *   lease -> load (workload, plan, execution record) -> observe -> reconcile -> act ->
 *   save (conditional on the record's version) -> workload status, plan, audit trail
 *
 * The engine keeps nothing between passes: the record (with the launch failures the pass
 * saw after observing) is stored whole, and the next pass resumes from it. Passes of one
 * workload never overlap: the reconcile queue is FIFO with the workload id as message
 * group, and the store's lease keeps them apart wherever that does not hold (two
 * invocations at once, in-process runs). A pass that cannot take the lease does nothing;
 * a pass whose save loses the race (its lease expired under it) stores nothing, and its
 * actions were idempotent (client tokens, tags, attempt ids), so the next pass adopts them.
 */

import type { Catalog } from "../catalog/types.ts";
import type { CloudPort } from "../cloud/cloud-port.ts";
import type { ProfileWorkerPort } from "../cloud/profile-worker-port.ts";
import type { WorkerPort } from "../cloud/worker-port.ts";
import { ExecutionEngine, type PassResult, type RemainingWorkPlanner } from "../engine/execution-engine.ts";
import type { QuotaTable } from "../planner/api.ts";
import type { Plan } from "../planner/plan.ts";
import { createExecutionRecord, requestCancel } from "../reconciler/create-record.ts";
import type { Action, ExecutionRecord, ObservationSnapshot, ObservedState } from "../reconciler/execution-record.ts";
import { slotOf } from "../reconciler/plan-view.ts";
import { instanceShapes, type ReconcileContext } from "../reconciler/reconcile-context.ts";
import { DEFAULT_RECONCILER_RULES, type ReconcilerRules } from "../reconciler/reconciler-rules.ts";
import type { Workload } from "../spec/workload.ts";
import {
  type AuditEntry,
  type ProfilingPhaseStore,
  VersionConflictError,
  type WorkloadRecord,
  type WorkloadStatus,
  type WorkloadStore,
} from "../store/workload-store.ts";
import { updateWorkload } from "./conditional-update.ts";
import type { ConsideredReports } from "./considered-report.ts";
import type { ControlQueues } from "./control-queues.ts";
import { type ProfilingPassOutcome, runProfilingPass } from "./profiling-pass.ts";
import { storePlanVersion } from "./store-plan-version.ts";
import { type StackLimits, storedWorkload } from "./stored-workload.ts";

export interface WorkersInput {
  readonly workloadId: string;
  readonly workload: Workload;
  readonly record: ExecutionRecord;
}

/** The home region's quotas and every planning region's (EC2 quotas are per region). */
export interface WorkloadQuotas {
  readonly quotas: QuotaTable;
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
}

export interface ReconcileDeps {
  readonly store: WorkloadStore & ProfilingPhaseStore;
  /** The cloud as one workload's passes see it (its cloud events, its spend ledger). */
  readonly cloudFor: (workloadId: string) => CloudPort;
  /** The worker port of one workload (orders in S3, reports from its stored worker events). */
  readonly workersFor: (input: WorkersInput) => WorkerPort;
  /** Where profile runs get their orders (the profiling phase; docs/plan.md). */
  readonly profileWorkersFor: (input: {
    readonly workloadId: string;
    readonly workload: Workload;
    readonly planVersion: number;
  }) => ProfileWorkerPort;
  readonly planner: RemainingWorkPlanner;
  readonly catalog: Catalog;
  readonly limits: StackLimits;
  /** The quotas the planner used for this workload (spec overrides, AWS values, assumptions), per region. */
  readonly quotasFor: (workload: Workload) => Promise<WorkloadQuotas>;
  readonly queues: ControlQueues;
  readonly rules?: Partial<ReconcilerRules>;
  /** Where a re-plan's considered report goes (the bucket); without it the plan is stored whole. */
  readonly reports?: ConsideredReports;
}

export interface PassInput {
  readonly workloadId: string;
  /** Seconds since the epoch: the pass's clock (tests run accelerated time through it). */
  readonly now: number;
  readonly toIso: (seconds: number) => string;
  /** Who holds the lease (the Lambda request id). */
  readonly holder: string;
  readonly leaseSeconds?: number;
}

export type PassOutcome =
  | { readonly kind: "busy" }
  | ProfilingPassOutcome
  | { readonly kind: "skipped"; readonly reason: string }
  | { readonly kind: "lost-race" }
  | {
      readonly kind: "passed";
      readonly status: WorkloadStatus;
      readonly actions: readonly Action[];
      readonly finished: boolean;
      readonly record: ExecutionRecord;
    };

/** Longer than any pass (a re-plan included) takes: the Lambda's timeout is below it. */
export const DEFAULT_LEASE_SECONDS = 900;

export async function runReconcilePass(deps: ReconcileDeps, input: PassInput): Promise<PassOutcome> {
  const { store } = deps;
  const { workloadId, now } = input;
  const held = await store.acquireLease(workloadId, input.holder, now, input.leaseSeconds ?? DEFAULT_LEASE_SECONDS);
  if (!held) return { kind: "busy" };
  try {
    return await passUnderLease(deps, input);
  } finally {
    await store.releaseLease(workloadId, input.holder);
  }
}

async function passUnderLease(deps: ReconcileDeps, input: PassInput): Promise<PassOutcome> {
  const { store } = deps;
  const { workloadId, now } = input;
  const summary = await store.get(workloadId);
  if (summary === undefined) return { kind: "skipped", reason: `workload '${workloadId}' does not exist` };
  if (summary.status !== "approved" && summary.status !== "running" && summary.status !== "profiling") {
    return { kind: "skipped", reason: `workload is ${summary.status}` };
  }
  const workload = storedWorkload(summary, deps.catalog, deps.limits);
  const stored = await store.getExecution(workloadId);
  if (stored === undefined) {
    // The approved plan came with a profiling phase: it runs first, and it has ended only
    // once the planner stored the plan made from its measurements.
    const profiling = await store.getProfilingPhase(workloadId);
    const pending =
      profiling !== undefined &&
      (profiling.phase.status === "proposed" ||
        profiling.phase.status === "running" ||
        summary.planVersion === profiling.phase.chosenOnPlanVersion);
    if (profiling !== undefined && pending) {
      return runProfilingPass(
        {
          store,
          cloud: deps.cloudFor(workloadId),
          workers: deps.profileWorkersFor({ workloadId, workload, planVersion: summary.planVersion }),
          queues: deps.queues,
        },
        {
          workloadId,
          region: workload.region,
          planVersion: summary.planVersion,
          cancelRequested: summary.cancelRequested,
          phase: profiling.phase,
          phaseVersion: profiling.version,
          now,
          toIso: input.toIso,
        },
      );
    }
  }
  let record: ExecutionRecord;
  if (stored !== undefined) {
    record = stored.record;
  } else {
    const plan = await store.getPlan(workloadId, summary.planVersion);
    if (plan === undefined)
      throw new Error(`workload '${workloadId}' is ${summary.status} but plan v${summary.planVersion} is missing`);
    record = createExecutionRecord(workload, withoutConsidered(plan), now, summary.planVersion);
  }
  if (summary.cancelRequested) record = requestCancel(record);

  const context: ReconcileContext = {
    workload,
    instanceTypes: instanceShapes(deps.catalog),
    ...(await deps.quotasFor(workload)),
    rules: { ...DEFAULT_RECONCILER_RULES, ...deps.rules },
  };
  const ports = {
    cloud: deps.cloudFor(workloadId),
    workers: deps.workersFor({ workloadId, workload, record }),
    planner: deps.planner,
  };
  const engine = ExecutionEngine.resume(ports, context, record);
  const result = await engine.runPass(now);
  if (engine.record.planVersion !== record.planVersion) {
    await storePlanVersion(deps, workloadId, engine.record.planVersion, engine.record.plan);
  }
  // The worker fold moves with the record: saved by the same conditional write below.
  const workerFold = ports.workers.workerFold?.();
  const next: ExecutionRecord = {
    ...engine.record,
    plan: withoutConsidered(engine.record.plan),
    pendingLaunchFailures: engine.pendingLaunchFailures,
    observation: snapshotOf(result.observed, engine.record),
    ...(workerFold === undefined ? {} : { workerFold }),
  };
  try {
    await store.saveExecution(workloadId, stored?.version ?? 0, next);
  } catch (error) {
    if (error instanceof VersionConflictError) return { kind: "lost-race" };
    throw error;
  }
  const status: WorkloadStatus = result.finished ? next.status : "running";
  await updateWorkload(store, workloadId, (current) => summaryChange(current, next, status));
  const entries = auditEntries(result, next, input.toIso(now));
  if (entries.length > 0) await store.appendAudit(workloadId, entries);
  // A pass that changed the world usually leaves the next step ready (launch -> assign,
  // re-plan -> launch): ask for it now instead of waiting for the schedule.
  if (result.acted && !result.finished) await deps.queues.requestReconcile([workloadId], "follow-up");
  return { kind: "passed", status, actions: result.actions, finished: result.finished, record: next };
}

/**
 * The plan as the execution record keeps it: without the planner's per-job report of the
 * configurations it considered, which no pass reads and which grows with jobs x candidates
 * (207 MB of JSON for a 1,000-job sweep). The stored plan version keeps it for
 * `GET /workloads/{id}/plan`; the record is read and written by every pass.
 */
export function withoutConsidered(plan: Plan): Plan {
  return plan.considered.length === 0 ? plan : { ...plan, considered: [] };
}

function summaryChange(current: WorkloadRecord, record: ExecutionRecord, status: WorkloadStatus) {
  const statusReason = record.statusReason ?? current.statusReason;
  if (
    current.status === status &&
    current.planVersion === record.planVersion &&
    current.statusReason === statusReason
  ) {
    return undefined;
  }
  return { status, planVersion: record.planVersion, statusReason };
}

function auditEntries(result: PassResult, record: ExecutionRecord, at: string): AuditEntry[] {
  return result.actions.map((action) => {
    const { kind, ...detail } = action;
    return { at, planVersion: record.planVersion, kind, detail };
  });
}

export function snapshotOf(observed: ObservedState, record: ExecutionRecord): ObservationSnapshot {
  const jobs: Record<string, ObservationSnapshot["jobs"][string]> = {};
  for (const report of observed.jobs) {
    jobs[report.jobId] = {
      samplesDone: Math.max(report.checkpointSamples, report.attempt?.samplesDone ?? 0),
      checkpointSamples: report.checkpointSamples,
      attemptId: report.attempt?.attemptId,
      samplesPerSecond: report.attempt?.samplesPerSecond,
      attemptsStarted: report.attemptsStarted,
    };
  }
  return {
    at: observed.now,
    spendUsd: observed.spendUsd,
    instances: observed.instances.map((instance) => ({
      id: instance.id,
      instanceType: instance.instanceType,
      market: instance.market,
      ...(instance.region === undefined ? {} : { region: instance.region }),
      availabilityZone: instance.availabilityZone,
      state: instance.state,
      slot: slotOf(record, instance),
      launchedAt: instance.launchedAt,
      interruptionNoticeAt: instance.interruptionNoticeAt,
    })),
    jobs,
  };
}
