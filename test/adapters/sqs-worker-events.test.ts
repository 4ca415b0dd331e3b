import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import { ingestWorkerEvents, type WorkerEventRecord } from "../../lambdas/adapters/sqs-worker-events.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import { emulatorClientConfig } from "../support/aws.ts";
import { createTestTable } from "../support/dynamodb-table.ts";

const heartbeat: WorkerEvent = {
  protocol: WORKER_PROTOCOL,
  eventId: "evt-0000001",
  workloadId: "w1",
  instanceId: "i-0abc",
  sentAt: "2026-12-01T12:00:00Z",
  kind: "heartbeat",
  jobId: "job-a",
  attemptId: "job-a#1",
  samplesDone: 10,
  samplesPerSecond: null,
  peakGpuMemoryBytes: null,
};
const completed: WorkerEvent = {
  protocol: WORKER_PROTOCOL,
  eventId: "evt-0000002",
  workloadId: "w1",
  instanceId: "i-0abc",
  sentAt: "2026-12-01T12:10:00Z",
  kind: "completed",
  jobId: "job-a",
  attemptId: "job-a#1",
  samples: 100,
  finalUri: null,
};

describe("ingestWorkerEvents", () => {
  let store: DynamoDbStore;

  beforeEach(async () => {
    const table = await createTestTable();
    store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
  });

  const record = (messageId: string, body: string, receives = "1"): WorkerEventRecord => ({
    messageId,
    body,
    attributes: { ApproximateReceiveCount: receives },
  });

  it("stores valid events once, rejects malformed ones without stopping the batch", async () => {
    const result = await ingestWorkerEvents(
      [
        record("m1", "{not json"),
        record("m2", JSON.stringify(heartbeat)),
        record("m3", JSON.stringify({ ...completed, samples: -1 })),
        record("m4", JSON.stringify(heartbeat)),
        record("m5", JSON.stringify(completed)),
      ],
      { store, now: () => new Date("2026-12-01T12:30:00Z") },
    );
    expect(result).toMatchObject({ stored: 2, duplicates: 1, rejected: 2, failed: 0 });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m1" }, { itemIdentifier: "m3" }]);
    expect((await store.workerEvents("w1")).map((e) => e.kind).sort()).toEqual(["completed", "heartbeat"]);
    const rejected = await store.rejectedMessages(10);
    expect(rejected.map((r) => r.body).sort()).toEqual(
      ["{not json", JSON.stringify({ ...completed, samples: -1 })].sort(),
    );
    const issues = rejected.flatMap((r) => r.issues);
    expect(issues.some((issue) => issue.startsWith("(body): expected a JSON worker event"))).toBe(true);
    expect(issues.some((issue) => issue.startsWith("samples:") && issue.includes("-1"))).toBe(true);
  });

  it("records a redelivered malformed message once", async () => {
    await ingestWorkerEvents([record("m1", "[]", "1")], { store });
    await ingestWorkerEvents([record("m1", "[]", "2")], { store });
    expect(await store.rejectedMessages(10)).toHaveLength(1);
  });

  it("fails only the message whose store write failed", async () => {
    const failing = {
      putWorkerEvent: async (event: WorkerEvent) => {
        if (event.eventId === completed.eventId) throw new Error("ProvisionedThroughputExceededException");
        return true;
      },
      putRejectedMessage: async () => {},
      putProfile: async () => {},
    };
    const errors: string[] = [];
    const result = await ingestWorkerEvents(
      [record("m1", JSON.stringify(completed)), record("m2", JSON.stringify(heartbeat))],
      { store: failing, onError: (id) => errors.push(id) },
    );
    expect(result).toMatchObject({ stored: 1, failed: 1, batchItemFailures: [{ itemIdentifier: "m1" }] });
    expect(errors).toEqual(["m1"]);
  });

  it("records an agent's spot notice as a cloud event", async () => {
    const notice: WorkerEvent = {
      protocol: WORKER_PROTOCOL,
      eventId: "evt-notice-1",
      workloadId: "w1",
      instanceId: "i-0abc",
      sentAt: "2026-12-01T12:00:00Z",
      kind: "interruption-notice",
      notice: "spot-instance-action",
      actionAt: "2026-12-01T12:02:00Z",
    };
    await ingestWorkerEvents([record("m1", JSON.stringify(notice))], { store, cloudEvents: store });
    const t = Date.parse("2026-12-01T12:00:00Z") / 1000;
    expect(await store.cloudEvents("w1", 0)).toEqual([
      { kind: "spot-interruption-warning", instanceId: "i-0abc", at: t, reclaimAt: t + 120 },
    ]);
  });
});

describe("ingestWorkerEvents on an SQS queue with a dead-letter queue", () => {
  it("moves a malformed message to the DLQ after its receives while valid ones are deleted", async () => {
    const table = await createTestTable();
    const store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    const sqs = new SQSClient(emulatorClientConfig());
    const suffix = randomUUID().slice(0, 8);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `worker-events-dlq-${suffix}` }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: `worker-events-${suffix}`,
        Attributes: {
          VisibilityTimeout: "0",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.QueueUrl,
        Entries: [
          { Id: "a", MessageBody: JSON.stringify(heartbeat) },
          { Id: "b", MessageBody: '{"kind":"heartbeat"}' },
          { Id: "c", MessageBody: JSON.stringify(completed) },
        ],
      }),
    );
    // Play the Lambda event source mapping: receive, ingest, delete what did not fail.
    for (let round = 0; round < 4; round++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.QueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      const result = await ingestWorkerEvents(
        messages.map((m) => ({
          messageId: m.MessageId ?? "",
          body: m.Body ?? "",
          attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1" },
        })),
        { store },
      );
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.QueueUrl,
            Entries: done.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10 }));
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['{"kind":"heartbeat"}']);
    expect((await store.workerEvents("w1")).map((e) => e.kind).sort()).toEqual(["completed", "heartbeat"]);
    expect((await store.rejectedMessages(10)).map((r) => r.body)).toEqual(['{"kind":"heartbeat"}']);
  });
});
