/**
 * What the worker-event ingest does after storing a batch: the workloads whose events
 * change what the reconciler would do now (an attempt ended, an instance was told it will
 * be reclaimed) get a pass at once; heartbeats, checkpoints and measurements wait for the
 * schedule (they change projections, not the next action).
 */
import type { WorkerEvent, WorkerEventKind } from "../protocol/worker-protocol.ts";

const PROMPTING: ReadonlySet<WorkerEventKind> = new Set(["completed", "failed", "stopped", "interruption-notice"]);

export function workloadsToReconcile(events: readonly WorkerEvent[]): string[] {
  return [...new Set(events.filter((event) => PROMPTING.has(event.kind)).map((event) => event.workloadId))];
}
