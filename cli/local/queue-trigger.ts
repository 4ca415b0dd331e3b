/**
 * An SQS event source mapping, played in-process: receive up to 10 messages from a
 * deployed queue, hand them to the handler as one SQS event, delete those it did not
 * report in `batchItemFailures` (the partial-batch contract the stack's mappings use),
 * and leave the failures to reappear after the visibility timeout, and to reach the
 * dead-letter queue after the redrive policy's receives, as on AWS.
 */
import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { lambdaContext } from "./lambda-context.ts";

export type InvocationWrapper = <T>(functionName: string, invoke: () => Promise<T>) => Promise<T>;

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface QueueTriggerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsHandler;
  readonly functionName: string;
  readonly region: string;
  /** Wraps every invocation (the benchmark measures and meters each one). */
  readonly around?: InvocationWrapper;
}

export class QueueTrigger {
  readonly #options: QueueTriggerOptions;
  readonly #arn: string;
  /** SQS requests this mapping made: receives that returned messages, and delete batches. */
  requests = 0;

  constructor(options: QueueTriggerOptions) {
    this.#options = options;
    const name = options.queueUrl.split("/").pop() ?? "queue";
    this.#arn = `arn:aws:sqs:${options.region}:123456789012:${name}`;
  }

  /** One receive and, when anything came, one invocation; returns the number of messages handled. */
  async poll(): Promise<number> {
    const { sqs, queueUrl } = this.#options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    this.requests++;
    const records: SQSRecord[] = messages.map((message) => ({
      messageId: message.MessageId ?? randomUUID(),
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: (message.Attributes ?? {}) as unknown as SQSRecord["attributes"],
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: this.#arn,
      awsRegion: this.#options.region,
    }));
    const around = this.#options.around ?? ((_name, invoke) => invoke());
    let failed: Set<string>;
    try {
      const response = await around(this.#options.functionName, () =>
        this.#options.handler({ Records: records }, lambdaContext(this.#options.functionName, randomUUID())),
      );
      failed = new Set((response ?? { batchItemFailures: [] }).batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      // A thrown handler fails the whole batch: every message comes back after its visibility timeout.
      failed = new Set(records.map((record) => record.messageId));
    }
    const done = records.filter((record) => !failed.has(record.messageId));
    if (done.length > 0) {
      this.requests++;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((record, k) => ({ Id: String(k), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
    return records.length;
  }
}
