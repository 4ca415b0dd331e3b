/**
 * The worker-event function: one SQS batch of agent messages. The ingest (8b's
 * `ingestWorkerEvents`) stores each valid event once, records and dead-letters malformed
 * ones, and reports partial batch failures; then every workload whose events ended an
 * attempt or announced a reclaim gets a reconcile pass at once.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { ingestWorkerEvents, type WorkerEventIngestOptions } from "../adapters/sqs-worker-events.ts";
import type { ControlQueues } from "../core/control-plane/control-queues.ts";
import { workloadsToReconcile } from "../core/control-plane/worker-event-followups.ts";
import { parseWorkerEvent } from "../core/protocol/parse-worker-event.ts";
import type { WorkerEvent } from "../core/protocol/worker-protocol.ts";
import { workerEventsRuntime } from "./composition-root.ts";
import { type Observability, observability } from "./observability.ts";

export interface WorkerEventsRuntime {
  readonly ingest: Omit<WorkerEventIngestOptions, "onError">;
  readonly queues: ControlQueues;
}

export function createWorkerEventsHandler(runtime: () => WorkerEventsRuntime, { logger, metrics }: Observability) {
  const handle = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const deps = runtime();
    // First, so that an invocation that fails still emits a metric (logMetrics flushes on error).
    metrics.addMetric("WorkerEventsReceived", MetricUnit.Count, event.Records.length);
    const result = await ingestWorkerEvents(event.Records, {
      ...deps.ingest,
      onError: (messageId, error) =>
        logger.error("worker event not stored; SQS will retry it", { messageId, error: error as Error }),
    });
    const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
    const accepted: WorkerEvent[] = [];
    for (const record of event.Records) {
      if (failed.has(record.messageId)) continue;
      const parsed = parseWorkerEvent(record.body);
      if (parsed.ok) accepted.push(parsed.event);
    }
    const workloads = workloadsToReconcile(accepted);
    if (workloads.length > 0) await deps.queues.requestReconcile(workloads, "worker events");
    metrics.addMetric("WorkerEventsStored", MetricUnit.Count, result.stored);
    metrics.addMetric("WorkerEventsRejected", MetricUnit.Count, result.rejected);
    logger.info("worker events", {
      stored: result.stored,
      duplicates: result.duplicates,
      rejected: result.rejected,
      failed: result.failed,
      reconcileRequested: workloads,
    });
    return { batchItemFailures: result.batchItemFailures };
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createWorkerEventsHandler(workerEventsRuntime, observability("saturn-worker-events"));
