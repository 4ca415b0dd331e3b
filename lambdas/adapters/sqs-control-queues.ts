/**
 * The control plane's own queues on SQS: plan requests (standard queue) and reconcile
 * requests (FIFO, message group = workload id, so passes of one workload are delivered one
 * at a time). Message bodies are `{"workloadId", "reason"}` (`control-message.ts`).
 */
import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ControlQueues } from "../core/control-plane/control-queues.ts";

export interface SqsControlQueuesOptions {
  readonly client: SQSClient;
  readonly planQueueUrl: string;
  readonly reconcileQueueUrl: string;
}

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;

export class SqsControlQueues implements ControlQueues {
  readonly #client: SQSClient;
  readonly #planQueueUrl: string;
  readonly #reconcileQueueUrl: string;

  constructor(options: SqsControlQueuesOptions) {
    this.#client = options.client;
    this.#planQueueUrl = options.planQueueUrl;
    this.#reconcileQueueUrl = options.reconcileQueueUrl;
  }

  async requestPlan(workloadId: string): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#planQueueUrl,
        MessageBody: JSON.stringify({ workloadId, reason: "submitted" }),
        ...fifoFields(this.#planQueueUrl, workloadId),
      }),
    );
  }

  async requestReconcile(workloadIds: readonly string[], reason: string): Promise<void> {
    const ids = [...new Set(workloadIds)];
    for (let k = 0; k < ids.length; k += BATCH) {
      const entries = ids.slice(k, k + BATCH).map((workloadId, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify({ workloadId, reason }),
        ...fifoFields(this.#reconcileQueueUrl, workloadId),
      }));
      const answer = await this.#client.send(
        new SendMessageBatchCommand({ QueueUrl: this.#reconcileQueueUrl, Entries: entries }),
      );
      const failed = answer.Failed ?? [];
      if (failed.length > 0) {
        const detail = failed.map((f) => `${f.Id}: ${f.Code} ${f.Message ?? ""}`).join("; ");
        throw new Error(`SQS refused ${failed.length} reconcile request(s): ${detail}`);
      }
    }
  }

  /**
   * Makes received reconcile requests visible again after `seconds` (a failed pass). The
   * queue's visibility timeout is six times the function's (AWS's advice for event source
   * mappings): left at that, a failed pass's message would block its workload's message
   * group, so every later pass of the workload, for 18 minutes while its instances run.
   */
  async retryReconcileSoon(receiptHandles: readonly string[], seconds: number): Promise<void> {
    for (let start = 0; start < receiptHandles.length; start += BATCH) {
      const entries = receiptHandles.slice(start, start + BATCH).map((handle, index) => ({
        Id: `m${start + index}`,
        ReceiptHandle: handle,
        VisibilityTimeout: seconds,
      }));
      await this.#client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.#reconcileQueueUrl, Entries: entries }),
      );
    }
  }
}

/**
 * A FIFO queue needs a group (the workload: one pass at a time per workload) and a
 * deduplication id. Every request is its own message (a random id): a request made after
 * a pass began must still cause a later pass, and a duplicate pass changes nothing.
 */
function fifoFields(queueUrl: string, workloadId: string) {
  return queueUrl.endsWith(".fifo") ? { MessageGroupId: workloadId, MessageDeduplicationId: randomUUID() } : {};
}
