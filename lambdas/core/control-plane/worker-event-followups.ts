/**
 * What the worker-event ingest does after storing a batch: the workloads whose events
 * change what the reconciler would do now (an attempt ended, an instance was told it will
 * be reclaimed) get a pass at once; heartbeats, checkpoints and measurements wait for the
 * schedule (they change projections, not the next action). An agent's own spot notice
 * (from IMDS) is written onto the instance as the same tag the EventBridge warning writes.
 */
import { type CloudPort, SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { WorkerEvent, WorkerEventKind } from "../protocol/worker-protocol.ts";
import type { ControlQueues } from "./control-queues.ts";
import { INTERRUPTION_NOTICE_TAG } from "./interruption-notices.ts";

const PROMPTING: ReadonlySet<WorkerEventKind> = new Set(["completed", "failed", "stopped", "interruption-notice"]);

export function workloadsToReconcile(events: readonly WorkerEvent[]): string[] {
  return [...new Set(events.filter((event) => PROMPTING.has(event.kind)).map((event) => event.workloadId))];
}

export async function followUpWorkerEvents(
  deps: { readonly cloud: CloudPort; readonly queues: ControlQueues },
  events: readonly WorkerEvent[],
): Promise<readonly string[]> {
  for (const event of events) {
    if (event.kind !== "interruption-notice" || event.notice !== "spot-instance-action") continue;
    // Only an instance of the event's own workload is tagged: a message cannot mark another's.
    const instances = await deps.cloud.describe({ [SATURN_TAGS.workload]: event.workloadId });
    const instance = instances.find((candidate) => candidate.id === event.instanceId);
    if (instance !== undefined && instance.tags[INTERRUPTION_NOTICE_TAG] === undefined) {
      await deps.cloud.tag(event.instanceId, { [INTERRUPTION_NOTICE_TAG]: event.sentAt });
    }
  }
  const workloads = workloadsToReconcile(events);
  if (workloads.length > 0) await deps.queues.requestReconcile(workloads, "worker events");
  return workloads;
}
