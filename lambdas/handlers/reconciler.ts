/**
 * The reconciler function, fed by the FIFO reconcile queue (message group = workload id):
 * - a reconcile request `{"workloadId", "reason"}`: one engine pass per workload named in
 *   the batch (repeats in one batch collapse into one pass);
 * - the EventBridge schedule's event (the backstop, delivered through the same queue in
 *   its own message group, or invoked directly): one reconcile request per active
 *   workload, so every pass still goes through the queue and its per-workload ordering.
 * A pass that finds the lease taken does nothing and succeeds: the running pass, its
 * follow-up or the next tick covers what the message asked for (the reconciler is
 * level-triggered).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type ReconcileDeps, runReconcilePass } from "../core/control-plane/reconcile-pass.ts";
import { reconcilerRuntime } from "./composition-root.ts";
import { parseControlMessage } from "./control-message.ts";
import { type Observability, observability, withWorkloadId } from "./observability.ts";

export interface ReconcilerRuntime extends ReconcileDeps {
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /**
   * Makes the messages of a failed pass visible again soon (SQS ChangeMessageVisibility), so
   * the FIFO message group of the workload is not blocked for the queue's whole visibility
   * timeout. Absent: SQS's own timeout applies.
   */
  readonly retrySoon?: (receiptHandles: readonly string[], seconds: number) => Promise<void>;
  /** Default FAILED_PASS_RETRY_SECONDS. */
  readonly failedPassRetrySeconds?: number;
}

/** Seconds after which a failed pass's request is delivered again. */
export const FAILED_PASS_RETRY_SECONDS = 30;

export interface ScheduleResult {
  readonly requested: readonly string[];
}

const toIso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** An EventBridge scheduled event, as the schedule rule puts it on the queue. */
export function isScheduledEvent(body: string): boolean {
  try {
    const data = JSON.parse(body) as { source?: unknown; "detail-type"?: unknown };
    return data.source === "aws.events" && data["detail-type"] === "Scheduled Event";
  } catch {
    return false;
  }
}

export function createReconcilerHandler(runtime: () => ReconcilerRuntime, { logger, metrics }: Observability) {
  const schedule = async (): Promise<ScheduleResult> => {
    const deps = runtime();
    const active = (await deps.store.list(undefined)).filter(
      (w) => w.status === "approved" || w.status === "running" || w.status === "profiling",
    );
    const requested = active.map((w) => w.id);
    metrics.addMetric("ScheduledReconcileRequests", MetricUnit.Count, requested.length);
    if (requested.length > 0) await deps.queues.requestReconcile(requested, "schedule");
    logger.info("scheduled reconcile requests", { workloads: requested.length });
    return { requested };
  };

  const passes = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deps = runtime();
    // Every invocation emits this, whatever its records turn out to be (failed passes and
    // malformed requests included), so `logMetrics` never flushes an empty set.
    metrics.addMetric("ReconcileRequests", MetricUnit.Count, event.Records.length);
    const byWorkload = new Map<string, string[]>();
    const receiptOf = new Map(event.Records.map((record) => [record.messageId, record.receiptHandle]));
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      if (isScheduledEvent(record.body)) {
        try {
          await schedule();
        } catch (error) {
          logger.error("scheduled fan-out failed; SQS will retry it", error as Error);
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
        continue;
      }
      const message = parseControlMessage(record.body);
      if (typeof message === "string") {
        logger.error("malformed reconcile request; SQS will dead-letter it", { messageId: record.messageId, message });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      byWorkload.set(message.workloadId, [...(byWorkload.get(message.workloadId) ?? []), record.messageId]);
    }
    for (const [workloadId, messageIds] of byWorkload) {
      await withWorkloadId(logger, workloadId, async () => {
        try {
          const outcome = await runReconcilePass(deps, {
            workloadId,
            now: deps.clock() / 1000,
            toIso,
            holder: context.awsRequestId,
          });
          metrics.addMetric("ReconcilePasses", MetricUnit.Count, 1);
          if (outcome.kind === "passed") {
            const kinds = outcome.actions.map((action) => action.kind);
            logger.info("reconcile pass", { status: outcome.status, actions: kinds, finished: outcome.finished });
          } else {
            logger.info(`reconcile pass ${outcome.kind}`, outcome.kind === "skipped" ? { reason: outcome.reason } : {});
          }
        } catch (error) {
          metrics.addMetric("ReconcilePassesFailed", MetricUnit.Count, 1);
          const retrySeconds = deps.failedPassRetrySeconds ?? FAILED_PASS_RETRY_SECONDS;
          logger.error(`reconcile pass failed; SQS will retry it in ${retrySeconds} s`, error as Error);
          for (const id of messageIds) batchItemFailures.push({ itemIdentifier: id });
          const handles = messageIds.flatMap((id) => receiptOf.get(id) ?? []);
          try {
            if (handles.length > 0) await deps.retrySoon?.(handles, retrySeconds);
          } catch (visibility) {
            logger.error(
              "could not shorten the failed request's visibility; SQS's timeout applies",
              visibility as Error,
            );
          }
        }
      });
    }
    return { batchItemFailures };
  };

  const handle = async (
    event: SQSEvent | ScheduledEvent,
    context: Context,
  ): Promise<SQSBatchResponse | ScheduleResult> => ("Records" in event ? passes(event, context) : schedule());
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createReconcilerHandler(reconcilerRuntime, observability("saturn-reconciler"));
