/**
 * The sweeper: the last line of defence against paying for something no plan needs. Tags,
 * not the database, say what runs, so it reads every instance tagged `saturn:role`
 * (`worker`, and `profiler` for profiling-phase runs) and terminates each live one whose workload
 *   (1) is unknown (no record, or no `saturn:workload` tag at all),
 *   (2) is final (completed, failed, cancelled, stopped for budget, infeasible) or was never
 *       approved (planning, planned): nothing may run for it,
 *   (3) is approved, profiling or running, but the instance showed no sign of life (launch, or any
 *       worker event from it) for longer than the heartbeat timeout: its agent is gone, and
 *       the reconciler re-plans around the lost instance on its next pass.
 */
import { type CloudInstance, type CloudPort, SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { WorkerEvent } from "../protocol/worker-protocol.ts";
import { isLive } from "../reconciler/plan-view.ts";
import { lastHeardFrom } from "../reconciler/worker-fold-state.ts";
import {
  FINAL_STATUSES,
  type WorkerEventLog,
  type WorkloadStore,
  type WorkloadSummary,
} from "../store/workload-store.ts";
import { PROFILER_ROLE } from "./profiling-phase-record.ts";

export interface SweepDecision {
  readonly instanceId: string;
  readonly workloadId: string | undefined;
  readonly reason: string;
}

export interface SweepInput {
  readonly instances: readonly CloudInstance[];
  readonly workloads: ReadonlyMap<string, WorkloadSummary>;
  /** instance id -> latest `sentAt` of any worker event from it, epoch seconds. */
  readonly lastEventAt: ReadonlyMap<string, number>;
  readonly now: number;
  readonly heartbeatTimeoutSeconds: number;
}

/** Default heartbeat timeout: a boot (about 5 min on the DLAMI) plus several missed heartbeats. */
export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30 * 60;

export function sweepDecisions(input: SweepInput): SweepDecision[] {
  const decisions: SweepDecision[] = [];
  for (const instance of input.instances) {
    if (!isLive(instance)) continue;
    const workloadId = instance.tags[SATURN_TAGS.workload];
    const workload = workloadId === undefined ? undefined : input.workloads.get(workloadId);
    const decide = (reason: string) => decisions.push({ instanceId: instance.id, workloadId, reason });
    if (workload === undefined) {
      decide(workloadId === undefined ? "no saturn:workload tag" : `workload '${workloadId}' is unknown`);
    } else if (FINAL_STATUSES.has(workload.status)) {
      decide(`workload is ${workload.status}`);
    } else if (workload.status === "planning" || workload.status === "planned") {
      decide(`workload is ${workload.status}: nothing runs before approval`);
    } else {
      const lastSign = Math.max(instance.launchedAt, input.lastEventAt.get(instance.id) ?? Number.NEGATIVE_INFINITY);
      const silent = input.now - lastSign;
      if (silent > input.heartbeatTimeoutSeconds) {
        decide(
          `no heartbeat for ${Math.round(silent / 60)} min (timeout ${Math.round(input.heartbeatTimeoutSeconds / 60)} min)`,
        );
      }
    }
  }
  return decisions;
}

export interface SweepDeps {
  readonly store: WorkloadStore & WorkerEventLog;
  readonly cloud: CloudPort;
}

/** Reads tags and records, decides, terminates; returns what it terminated and why. */
export async function runSweep(
  deps: SweepDeps,
  options: { readonly now: number; readonly heartbeatTimeoutSeconds: number },
): Promise<SweepDecision[]> {
  const instances = [
    ...(await deps.cloud.describe({ [SATURN_TAGS.role]: "worker" })),
    ...(await deps.cloud.describe({ [SATURN_TAGS.role]: PROFILER_ROLE })),
  ];
  const live = instances.filter(isLive);
  const ids = [
    ...new Set(live.map((i) => i.tags[SATURN_TAGS.workload]).filter((id): id is string => id !== undefined)),
  ];
  const workloads = new Map<string, WorkloadSummary>();
  const lastEventAt = new Map<string, number>();
  for (const id of ids) {
    const record = await deps.store.get(id);
    if (record === undefined) continue;
    workloads.set(id, record);
    if (record.status !== "approved" && record.status !== "running" && record.status !== "profiling") continue;
    for (const [instanceId, at] of await lastHeard(deps.store, id)) {
      if (at > (lastEventAt.get(instanceId) ?? Number.NEGATIVE_INFINITY)) lastEventAt.set(instanceId, at);
    }
  }
  const decisions = sweepDecisions({ instances: live, workloads, lastEventAt, ...options });
  if (decisions.length > 0) await deps.cloud.terminate(decisions.map((decision) => decision.instanceId));
  return decisions;
}

/**
 * instance id -> latest `sentAt` of a worker event from it. With a worker fold in the
 * execution record (every pass stores one): the fold's per-node times and alive reports,
 * plus the events logged after its cursor; else (the profiling phase, a record not yet
 * passed) every stored event.
 */
async function lastHeard(store: SweepDeps["store"], workloadId: string): Promise<Map<string, number>> {
  const fold = (await store.getExecution(workloadId))?.record.workerFold;
  if (fold === undefined) return latestPerInstance(new Map(), await store.workerEvents(workloadId));
  const tail = await store.workerLogSince(workloadId, fold.cursor);
  return latestPerInstance(lastHeardFrom(fold.state), tail.events);
}

function latestPerInstance(heard: Map<string, number>, events: readonly WorkerEvent[]): Map<string, number> {
  for (const event of events) {
    const at = Date.parse(event.sentAt) / 1000;
    if (Number.isFinite(at) && at > (heard.get(event.instanceId) ?? Number.NEGATIVE_INFINITY)) {
      heard.set(event.instanceId, at);
    }
  }
  return heard;
}
