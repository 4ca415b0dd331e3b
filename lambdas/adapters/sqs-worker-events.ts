/**
 * The core of the worker-events Lambda: one SQS batch of worker messages into the store.
 *
 * - a valid event is stored once (`putWorkerEvent` dedupes by event id);
 * - a malformed message is recorded (`putRejectedMessage`, on its first receive only, so a
 *   message retried to the dead-letter queue is recorded once) and reported as a batch item
 *   failure: SQS redelivers it until `maxReceiveCount`, then moves it to the DLQ;
 * - a store failure for one message fails that message only (retried), never the batch;
 * - a `throughput-measured` record (a profile run's measurement, or its does-not-fit) goes
 *   to the profile store too, where the planner reads it (putProfile keeps the newest per
 *   job signature and configuration, so a redelivery changes nothing);
 * - an agent's own spot-interruption notice is also recorded as a cloud event (when a sink is
 *   given), so the EC2 adapter marks the instance even before EventBridge's warning arrives.
 *
 * Handlers wire it with `@middy/sqs-partial-batch-failure` or return the response directly
 * (the function needs `ReportBatchItemFailures` on its event source mapping).
 */
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";
import type { CloudEventSink } from "../core/cloud/cloud-event-source.ts";
import { parseWorkerEvent } from "../core/protocol/parse-worker-event.ts";
import type { WorkerEvent } from "../core/protocol/worker-protocol.ts";
import { eventSeconds } from "../core/reconciler/worker-events-fold.ts";
import type { WorkloadStore } from "../core/store/workload-store.ts";

/** The fields of an SQS record the ingest reads. */
export type WorkerEventRecord = Pick<SQSRecord, "messageId" | "body"> & {
  readonly attributes?: Partial<Pick<SQSRecord["attributes"], "ApproximateReceiveCount">>;
};

export interface WorkerEventIngestResult extends SQSBatchResponse {
  readonly stored: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failed: number;
}

export interface WorkerEventIngestOptions {
  readonly store: Pick<WorkloadStore, "putWorkerEvent" | "putRejectedMessage" | "putProfile">;
  readonly cloudEvents?: CloudEventSink;
  readonly now?: () => Date;
  /** Called for each message that failed for another reason than its content (logged by the handler). */
  readonly onError?: (messageId: string, error: unknown) => void;
}

/** Spot reclaims come two minutes after the notice (EC2 user guide, "Spot Instance interruption notices"). */
const SPOT_NOTICE_SECONDS = 120;

export async function ingestWorkerEvents(
  records: readonly WorkerEventRecord[],
  options: WorkerEventIngestOptions,
): Promise<WorkerEventIngestResult> {
  const now = options.now ?? (() => new Date());
  const failures: { itemIdentifier: string }[] = [];
  let stored = 0;
  let duplicates = 0;
  let rejected = 0;
  let failed = 0;
  for (const record of records) {
    const parsed = parseWorkerEvent(record.body);
    if (!parsed.ok) {
      rejected++;
      failures.push({ itemIdentifier: record.messageId });
      const receives = Number(record.attributes?.ApproximateReceiveCount ?? "1");
      if (receives <= 1) {
        try {
          await options.store.putRejectedMessage(record.body, parsed.issues, now().toISOString());
        } catch (error) {
          options.onError?.(record.messageId, error);
        }
      }
      continue;
    }
    try {
      // The profile first: a failure retries the message, and the event dedupe would then skip it.
      if (parsed.event.kind === "throughput-measured") await options.store.putProfile(parsed.event.record);
      if (await options.store.putWorkerEvent(parsed.event)) stored++;
      else duplicates++;
      await recordNotice(parsed.event, options.cloudEvents);
    } catch (error) {
      failed++;
      failures.push({ itemIdentifier: record.messageId });
      options.onError?.(record.messageId, error);
    }
  }
  return { batchItemFailures: failures, stored, duplicates, rejected, failed };
}

async function recordNotice(event: WorkerEvent, sink: CloudEventSink | undefined): Promise<void> {
  if (sink === undefined || event.kind !== "interruption-notice" || event.notice !== "spot-instance-action") return;
  const at = eventSeconds(event);
  const reclaimAt = event.actionAt === null ? at + SPOT_NOTICE_SECONDS : Date.parse(event.actionAt) / 1000;
  await sink.putCloudEvent(event.workloadId, {
    kind: "spot-interruption-warning",
    instanceId: event.instanceId,
    at,
    reclaimAt,
  });
}
