/**
 * The store port: everything the control plane keeps about a workload. The DynamoDB
 * adapter (`lambdas/adapters/dynamodb-store.ts`) implements it against the stack's table;
 * `docs/control-plane.md` gives the item layout. Rules every implementation keeps:
 *
 * - every state change is a conditional write on `version`: a writer that read version v
 *   writes v + 1 only if the stored version is still v, else `VersionConflictError` and
 *   nothing changed;
 * - a caller sees only what it owns: `list` filters by owner, and the handlers check
 *   `owner` on every read of a single workload;
 * - large documents (a 5,000-job spec, its plan, the execution record) are split so that
 *   no item passes DynamoDB's 400 KB limit, and are read back whole or not at all.
 */

import type { ConsideredSummary } from "../control-plane/considered-report.ts";
import type { ProfilingPhase } from "../control-plane/profiling-phase-record.ts";
import type { ProfileRecord } from "../estimator/types.ts";
import type { Plan } from "../planner/plan.ts";
import type { WorkerEvent } from "../protocol/worker-protocol.ts";
import type { ExecutionRecord } from "../reconciler/execution-record.ts";
import type { AttemptStart } from "../reconciler/worker-events-fold.ts";

export type WorkloadStatus =
  | "planning"
  | "planned"
  | "infeasible"
  /** Approved, and the profiling phase runs before the measured plan is made (docs/plan.md). */
  | "profiling"
  | "approved"
  | "running"
  | "completed"
  | "failed"
  | "cancelled"
  | "stopped-for-budget";

/** Statuses after which nothing may run for the workload (the sweeper terminates leftovers). */
export const FINAL_STATUSES: ReadonlySet<WorkloadStatus> = new Set([
  "infeasible",
  "completed",
  "failed",
  "cancelled",
  "stopped-for-budget",
]);

export interface WorkloadSummary {
  readonly id: string;
  readonly name: string;
  /** The caller's IAM principal ARN at submit. */
  readonly owner: string;
  readonly status: WorkloadStatus;
  readonly statusReason: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Increases by one with every change; the condition of every write. */
  readonly version: number;
  /** The plan in force (0 before the first plan is stored). */
  readonly planVersion: number;
  readonly jobCount: number;
  readonly cancelRequested: boolean;
}

export interface WorkloadRecord extends WorkloadSummary {
  /** The spec as submitted (YAML or JSON text), re-parsed wherever it is needed. */
  readonly specText: string;
}

export interface StoredExecution {
  readonly record: ExecutionRecord;
  /** Version of the stored execution record; the condition of the next save. */
  readonly version: number;
}

/** One thing the control plane did, kept as an audit trail. */
export interface AuditEntry {
  readonly at: string;
  readonly planVersion: number;
  readonly kind: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export class VersionConflictError extends Error {
  override readonly name = "VersionConflictError";
  constructor(subject: string, expected: number, options?: { cause?: unknown }) {
    super(
      `${subject} changed since it was read (expected version ${expected}); re-read and try again`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

export interface WorkloadStore {
  /** Creates the workload; with an idempotency key, a repeat returns the first record instead. */
  create(record: WorkloadRecord, idempotencyKey: string | undefined): Promise<WorkloadRecord>;
  get(id: string): Promise<WorkloadRecord | undefined>;
  /** Every workload of the owner (undefined: every owner, for admins and the sweeper), newest first. */
  list(owner: string | undefined): Promise<readonly WorkloadSummary[]>;
  /** Conditional on `expectedVersion`; returns the new record. */
  update(
    id: string,
    expectedVersion: number,
    change: Partial<Pick<WorkloadSummary, "status" | "statusReason" | "planVersion" | "cancelRequested">>,
  ): Promise<WorkloadRecord>;

  /**
   * Stores a plan version once. `considered`: the summary of its considered report when the
   * report went to the bucket and `plan.considered` is empty (storePlanVersion), so the item
   * holds only what `GET /workloads/{id}/plan` answers.
   */
  putPlan(id: string, planVersion: number, plan: Plan, considered?: ConsideredSummary): Promise<void>;
  getPlan(id: string, planVersion: number): Promise<Plan | undefined>;
  /** The plan version and the summary of the report stored beside it (undefined: none was, or a plan stored whole). */
  getStoredPlan(
    id: string,
    planVersion: number,
  ): Promise<{ readonly plan: Plan; readonly considered: ConsideredSummary | undefined } | undefined>;

  getExecution(id: string): Promise<StoredExecution | undefined>;
  /** Conditional: `expectedVersion` 0 creates it. */
  saveExecution(id: string, expectedVersion: number, record: ExecutionRecord): Promise<void>;

  /** Records a validated worker event once (by eventId); returns false for a duplicate. */
  putWorkerEvent(event: WorkerEvent): Promise<boolean>;
  /** Every worker event of the workload not yet folded into the execution record. */
  workerEvents(id: string): Promise<readonly WorkerEvent[]>;
  /** A message that failed the protocol's schemas: kept for the user, never folded. */
  putRejectedMessage(body: string, issues: readonly string[], at: string): Promise<void>;

  appendAudit(id: string, entries: readonly AuditEntry[]): Promise<void>;
  audit(id: string): Promise<readonly AuditEntry[]>;

  putProfile(record: ProfileRecord): Promise<void>;
  profiles(jobSignatures: readonly string[]): Promise<readonly ProfileRecord[]>;

  /**
   * A lease that keeps reconcile passes of one workload apart: true when `holder` now holds
   * it until `now + ttlSeconds` (it was free, expired, or already the holder's).
   */
  acquireLease(id: string, holder: string, nowSeconds: number, ttlSeconds: number): Promise<boolean>;
  releaseLease(id: string, holder: string): Promise<void>;
}

/**
 * Attempts the workers adapter started (added with the DynamoDB store; kept out of
 * `WorkloadStore` so that existing implementations stay valid). With the worker events they
 * fold into job reports (`core/reconciler/worker-events-fold.ts`).
 */
export interface AttemptStartStore {
  /** Records the start once (by attempt id); false when it was already recorded. */
  putAttemptStart(start: AttemptStart): Promise<boolean>;
  attemptStarts(workloadId: string): Promise<readonly AttemptStart[]>;
}

/**
 * The worker event log (added with incremental reconcile passes; kept out of
 * `WorkloadStore` so that existing implementations stay valid): every stored worker event
 * and attempt start, in the order the store received them, so that a pass reads only what
 * came after its cursor and folds it onto the state it kept (worker-fold-state.ts).
 */
export interface WorkerEventLog {
  /**
   * What was logged after `cursor` ("" reads the whole log). An adapter may hand back some
   * items again (an overlap that covers writers still in flight); folding them again
   * changes nothing. The slice's cursor is passed to the next read.
   */
  workerLogSince(workloadId: string, cursor: string): Promise<WorkerLogSlice>;
}

export interface WorkerLogSlice {
  readonly starts: readonly AttemptStart[];
  readonly events: readonly WorkerEvent[];
  /** Where the next read starts; the given cursor when nothing was logged after it. */
  readonly cursor: string;
}

/**
 * The profiling phase's document (added with it; kept out of `WorkloadStore` so that
 * existing implementations stay valid): one per workload, conditional on its version like
 * the execution record.
 */
export interface ProfilingPhaseStore {
  getProfilingPhase(id: string): Promise<StoredProfilingPhase | undefined>;
  /** Conditional: `expectedVersion` 0 creates it; a stale version is `VersionConflictError`. */
  saveProfilingPhase(id: string, expectedVersion: number, phase: ProfilingPhase): Promise<void>;
}

export interface StoredProfilingPhase {
  readonly phase: ProfilingPhase;
  readonly version: number;
}

export interface RejectedMessage {
  readonly at: string;
  /** The body as received, cut to 64 KiB (`bodyBytes` says how long it was). */
  readonly body: string;
  readonly bodyBytes: number;
  readonly issues: readonly string[];
}

export interface RejectedMessageReader {
  /** The most recent rejected messages, newest first. */
  rejectedMessages(limit: number): Promise<readonly RejectedMessage[]>;
}
