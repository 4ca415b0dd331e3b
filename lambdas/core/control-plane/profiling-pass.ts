/**
 * A reconcile pass of a workload in its profiling phase (the reconcile pass calls it under
 * the workload's lease while the phase is proposed or running):
 *
 *   observe (the phase's instances by tag, worker events) -> advance (pure,
 *   profiling-step.ts) -> act (launch, assign, terminate) -> save the phase (conditional)
 *   -> workload status, audit trail
 *
 * When the phase ends the workload goes back to `planning` and a plan request is sent: the
 * planner plans again with the records the worker-event ingest stored, and the new plan
 * waits in `planned` for a second approval (it may cost more than the first). A cancelled
 * phase ends the workload `cancelled`. Launches are idempotent (client tokens), orders by
 * attempt id, terminations always: a pass that loses the save race acted harmlessly.
 */
import { type CloudPort, SATURN_TAGS } from "../cloud/cloud-port.ts";
import { LaunchError } from "../cloud/launch-errors.ts";
import type { ProfileWorkerPort } from "../cloud/profile-worker-port.ts";
import {
  type AuditEntry,
  type ProfilingPhaseStore,
  VersionConflictError,
  type WorkloadStatus,
  type WorkloadStore,
} from "../store/workload-store.ts";
import { updateWorkload } from "./conditional-update.ts";
import type { ControlQueues } from "./control-queues.ts";
import { PROFILER_ROLE, type ProfilingPhase, summarizeOutcome } from "./profiling-phase-record.ts";
import { advanceProfilingPhase, DEFAULT_GUARD_SECONDS, launchRefused, type ProfilingAction } from "./profiling-step.ts";

export interface ProfilingPassDeps {
  readonly store: WorkloadStore & ProfilingPhaseStore;
  readonly cloud: CloudPort;
  readonly workers: ProfileWorkerPort;
  readonly queues: ControlQueues;
  readonly guardSeconds?: number;
}

export interface ProfilingPassInput {
  readonly workloadId: string;
  readonly region: string;
  readonly planVersion: number;
  readonly cancelRequested: boolean;
  readonly phase: ProfilingPhase;
  /** The stored phase's version: the condition of the save. */
  readonly phaseVersion: number;
  readonly now: number;
  readonly toIso: (seconds: number) => string;
}

export type ProfilingPassOutcome =
  | { readonly kind: "lost-race" }
  | {
      readonly kind: "profiled";
      readonly status: WorkloadStatus;
      readonly phase: ProfilingPhase;
      readonly actions: readonly ProfilingAction[];
    };

export async function runProfilingPass(
  deps: ProfilingPassDeps,
  input: ProfilingPassInput,
): Promise<ProfilingPassOutcome> {
  const { store, cloud } = deps;
  const { workloadId, now } = input;
  const tags = { [SATURN_TAGS.workload]: workloadId, [SATURN_TAGS.role]: PROFILER_ROLE };
  const [instances, events] = await Promise.all([cloud.describe(tags), store.workerEvents(workloadId)]);
  const step = advanceProfilingPhase(
    input.phase,
    { now, instances, events, cancelRequested: input.cancelRequested },
    {
      workloadId,
      region: input.region,
      planVersion: input.planVersion,
      guardSeconds: deps.guardSeconds ?? DEFAULT_GUARD_SECONDS,
    },
  );
  let phase = step.phase;
  const refused = new Set<number>();
  for (const action of step.actions) {
    if (action.kind === "terminate") {
      await cloud.terminate(action.instanceIds);
    } else if (action.kind === "launch-profile") {
      if (refused.has(action.run)) continue;
      try {
        await cloud.launch(action.request);
      } catch (error) {
        if (!(error instanceof LaunchError)) throw error;
        // A refused profile run ends that run, not the workload; its other nodes go too.
        refused.add(action.run);
        phase = launchRefused(phase, action.run, `launch refused: ${error.message}`, now);
      }
    } else {
      await deps.workers.startProfile(action.request);
    }
  }
  if (refused.size > 0) {
    const launched = await cloud.describe(tags);
    const slots = new Set([...refused].map((run) => `profile-${run}-`));
    const orphans = launched.filter((i) => [...slots].some((prefix) => i.tags[SATURN_TAGS.slot]?.startsWith(prefix)));
    if (orphans.length > 0) await cloud.terminate(orphans.map((instance) => instance.id));
  }
  try {
    await store.saveProfilingPhase(workloadId, input.phaseVersion, phase);
  } catch (error) {
    if (error instanceof VersionConflictError) return { kind: "lost-race" };
    throw error;
  }

  const ended = phase.status === "done" || phase.status === "cancelled";
  const status: WorkloadStatus = phase.status === "cancelled" ? "cancelled" : ended ? "planning" : "profiling";
  const statusReason = ended
    ? phase.status === "cancelled"
      ? `${summarizeOutcome(phase)}; cancelled`
      : `${summarizeOutcome(phase)}; planning again with the measurements`
    : `profiling: ${phase.runs.filter((run) => run.status === "assigned" || run.status === "launched").length} profile runs under way, $${phase.spentUsd.toFixed(2)} of $${phase.settings.budgetUsd.toFixed(2)} spent`;
  await updateWorkload(store, workloadId, (current) => {
    if (current.status === status && current.statusReason === statusReason) return undefined;
    if (current.status !== "approved" && current.status !== "profiling") return undefined;
    return { status, statusReason };
  });
  const at = input.toIso(now);
  const entries: AuditEntry[] = step.actions.map((action) => ({
    at,
    planVersion: input.planVersion,
    kind: `profiling-${action.kind}`,
    detail: auditDetail(action),
  }));
  if (ended) {
    entries.push({ at, planVersion: input.planVersion, kind: "profiling-ended", detail: { statusReason } });
  }
  if (entries.length > 0) await store.appendAudit(workloadId, entries);
  if (ended && phase.status === "done") await deps.queues.requestPlan(workloadId);
  // Launch -> assign -> terminate -> end: each step is ready at once after the one before.
  else if (step.actions.length > 0) await deps.queues.requestReconcile([workloadId], "profiling follow-up");
  return { kind: "profiled", status, phase, actions: step.actions };
}

function auditDetail(action: ProfilingAction): Readonly<Record<string, unknown>> {
  if (action.kind === "terminate") return { instanceIds: action.instanceIds, reason: action.reason };
  if (action.kind === "launch-profile") {
    return { run: action.run, instanceType: action.request.instanceType, slot: action.request.tags[SATURN_TAGS.slot] };
  }
  return { run: action.run, attemptId: action.request.attemptId, instanceIds: action.request.instanceIds };
}
