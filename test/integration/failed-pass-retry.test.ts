/**
 * A reconcile pass that fails must not block its workload's FIFO message group for the
 * queue's whole visibility timeout (six times the function's: 18 minutes, while the
 * workload's instances run unreconciled). The handler reports the failure and makes the
 * message visible again after a short retry delay. Against a real FIFO queue in moto.
 */
import { randomUUID } from "node:crypto";
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { SqsControlQueues } from "../../lambdas/adapters/sqs-control-queues.ts";
import { createReconcilerHandler, type ReconcilerRuntime } from "../../lambdas/handlers/reconciler.ts";
import { emulatorClientConfig } from "../support/aws.ts";
import { lambdaContext } from "./support/api-events.ts";
import { quietObservability } from "./support/quiet-observability.ts";

/** A store that fails every call: the pass fails as it would on a DynamoDB outage. */
const failingStore = new Proxy(
  {},
  {
    get: () => () => Promise.reject(new Error("simulated DynamoDB outage")),
  },
) as ReconcilerRuntime["store"];

async function receiveWithin(sqs: SQSClient, queueUrl: string, seconds: number): Promise<Message | undefined> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    if (Messages?.[0] !== undefined) return Messages[0];
  }
  return undefined;
}

describe("a failed reconcile pass", { timeout: 60_000 }, () => {
  it("is reported and delivered again after the retry delay, not after the queue's visibility timeout", async () => {
    const sqs = new SQSClient(emulatorClientConfig());
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `saturn-reconcile-retry-${randomUUID().slice(0, 8)}.fifo`,
        Attributes: { FifoQueue: "true", VisibilityTimeout: "1080" },
      }),
    );
    const queueUrl = QueueUrl ?? "";
    const queues = new SqsControlQueues({ client: sqs, planQueueUrl: queueUrl, reconcileQueueUrl: queueUrl });
    await queues.requestReconcile(["wl-retry"], "test");
    const first = await receiveWithin(sqs, queueUrl, 5);
    expect(first?.ReceiptHandle).toBeDefined();

    const runtime = {
      store: failingStore,
      queues,
      clock: () => Date.now(),
      retrySoon: (handles: readonly string[], seconds: number) => queues.retryReconcileSoon(handles, seconds),
      failedPassRetrySeconds: 1,
    } as unknown as ReconcilerRuntime;
    const handler = createReconcilerHandler(() => runtime, quietObservability());
    const event: SQSEvent = {
      Records: [
        {
          messageId: first?.MessageId ?? "",
          receiptHandle: first?.ReceiptHandle ?? "",
          body: first?.Body ?? "",
          attributes: {} as SQSEvent["Records"][number]["attributes"],
          messageAttributes: {},
          md5OfBody: "",
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:queue",
          awsRegion: "us-east-1",
        },
      ],
    };
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: first?.MessageId }] });

    // Without the shortened visibility the message would stay hidden for 1,080 s.
    const again = await receiveWithin(sqs, queueUrl, 15);
    expect(again?.MessageId).toBe(first?.MessageId);
    sqs.destroy();
  });
});
