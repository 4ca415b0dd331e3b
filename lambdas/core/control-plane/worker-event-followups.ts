/**
 * What the worker-event ingest does after storing a batch: the workloads whose events
 * change what the reconciler would do now (an attempt ended, an instance was told it will
 * be reclaimed) get a pass at once; heartbeats, checkpoints and measurements wait for the
 * schedule (they change projections, not the next action). An agent's own spot notice
 * (from IMDS) is recorded as the same cloud event the EventBridge warning records, so
 * whichever arrives first marks the instance.
 */
import type { CloudEventSink } from "../cloud/cloud-event-source.ts";
import type { WorkerEvent, WorkerEventKind } from "../protocol/worker-protocol.ts";
import { SPOT_WARNING_SECONDS } from "./cloud-event-intake.ts";
import type { ControlQueues } from "./control-queues.ts";

const PROMPTING: ReadonlySet<WorkerEventKind> = new Set(["completed", "failed", "stopped", "interruption-notice"]);

export function workloadsToReconcile(events: readonly WorkerEvent[]): string[] {
  return [...new Set(events.filter((event) => PROMPTING.has(event.kind)).map((event) => event.workloadId))];
}

export async function followUpWorkerEvents(
  deps: { readonly events: CloudEventSink; readonly queues: ControlQueues },
  events: readonly WorkerEvent[],
): Promise<readonly string[]> {
  for (const event of events) {
    if (event.kind !== "interruption-notice" || event.notice !== "spot-instance-action") continue;
    const at = Date.parse(event.sentAt) / 1000;
    const reclaimAt = event.actionAt === null ? at + SPOT_WARNING_SECONDS : Date.parse(event.actionAt) / 1000;
    await deps.events.putCloudEvent(event.workloadId, {
      kind: "spot-interruption-warning",
      instanceId: event.instanceId,
      at,
      reclaimAt,
    });
  }
  const workloads = workloadsToReconcile(events);
  if (workloads.length > 0) await deps.queues.requestReconcile(workloads, "worker events");
  return workloads;
}
