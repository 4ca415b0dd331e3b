import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_AGENT_MODEL, SimulatedAgents } from "../../cli/local/simulated-agents.ts";
import { VirtualClock } from "../../cli/local/virtual-clock.ts";
import {
  type AssignmentMessage,
  bucketLayout,
  type InstanceOrders,
  WORKER_PROTOCOL,
  type WorkerEvent,
  workerEventSchema,
} from "../../lambdas/core/protocol/worker-protocol.ts";
import { emulatorClientConfig, resetEmulator } from "../support/aws.ts";

const ec2 = new EC2Client(emulatorClientConfig());
const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
const sqs = new SQSClient(emulatorClientConfig());
const BUCKET = "saturn-agents-test";
const START = Date.UTC(2026, 11, 1, 12, 0, 0);

afterAll(() => {
  ec2.destroy();
  s3.destroy();
  sqs.destroy();
});

interface World {
  readonly agents: SimulatedAgents;
  readonly clock: VirtualClock;
  readonly queueUrl: string;
  readonly instanceId: string;
  readonly ec2Events: string[];
}

async function world(spotRate = 0): Promise<World> {
  await resetEmulator();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: "worker-events" }));
  // One of moto's built-in images (DescribeImages is slow: it lists thousands).
  const image = "ami-12c6146b";
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: image,
      InstanceType: "g6e.xlarge",
      MinCount: 1,
      MaxCount: 1,
      ...(spotRate > 0 ? { InstanceMarketOptions: { MarketType: "spot" } } : {}),
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "saturn:workload", Value: "w-1" }] }],
    }),
  );
  const clock = new VirtualClock(START);
  const ec2Events: string[] = [];
  const agents = new SimulatedAgents({
    ec2,
    s3,
    sqs,
    bucketName: BUCKET,
    workerEventsQueueUrl: queue.QueueUrl ?? "",
    clock,
    model: { ...DEFAULT_AGENT_MODEL, throughputSigma: 0, interruptionRatePerHour: () => spotRate },
    onEc2Event: async (kind, instance) => {
      ec2Events.push(`${kind} ${instance.id}`);
    },
  });
  return { agents, clock, queueUrl: queue.QueueUrl ?? "", instanceId: run.Instances?.[0]?.InstanceId ?? "", ec2Events };
}

function assignment(instanceId: string, overrides: Partial<AssignmentMessage> = {}): AssignmentMessage {
  return {
    workloadId: "w-1",
    jobId: "job-a",
    attemptId: "job-a.1",
    planVersion: 1,
    technique: "ddp",
    instanceIds: [instanceId],
    gpusPerInstance: 1,
    gpuIndices: [0],
    rendezvous: null,
    task: {
      model: "gpt2-xl",
      method: "full",
      batchSize: 16,
      sequenceLength: 1024,
      totalSamples: 10_000,
      entrypoint: { recipe: "causal-lm" },
      hyperparameters: { lr: 0.001 },
    },
    checkpoint: { prefix: `s3://${BUCKET}/workloads/w-1/checkpoints/job-a/`, intervalSeconds: 600, resumeFrom: null },
    checkpointable: true,
    plannedSamplesPerSecond: 2,
    profile: null,
    ...overrides,
  };
}

async function writeOrders(w: World, sequence: number, orders: Partial<InstanceOrders>): Promise<void> {
  const document: InstanceOrders = {
    protocol: WORKER_PROTOCOL,
    workloadId: "w-1",
    instanceId: w.instanceId,
    sequence,
    writtenAt: new Date(w.clock.nowMs()).toISOString(),
    assignments: [],
    stops: [],
    shutdown: false,
    ...orders,
  };
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: bucketLayout.orders("w-1", w.instanceId),
      Body: JSON.stringify(document),
    }),
  );
}

async function drain(queueUrl: string): Promise<WorkerEvent[]> {
  const events: WorkerEvent[] = [];
  while (true) {
    const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if ((answer.Messages ?? []).length === 0) return events;
    for (const message of answer.Messages ?? []) events.push(workerEventSchema.parse(JSON.parse(message.Body ?? "")));
  }
}

describe("SimulatedAgents", () => {
  it("boots, trains an assigned attempt with checkpoints and reports completion, in protocol messages", async () => {
    const w = await world();
    await w.agents.step();
    expect(await drain(w.queueUrl)).toEqual([]); // still booting

    await writeOrders(w, 1, { assignments: [assignment(w.instanceId)] });
    w.clock.advanceBy(DEFAULT_AGENT_MODEL.bootSeconds * 1000);
    await w.agents.step();
    const first = await drain(w.queueUrl);
    expect(first.map((e) => e.kind).sort()).toEqual(["agent-alive", "heartbeat"]);

    // 10,000 samples at 2 samples/s: 5,000 s of training, a checkpoint every 600 s.
    w.clock.advanceBy(1300 * 1000);
    await w.agents.step();
    const middle = await drain(w.queueUrl);
    const saved = middle.find((e) => e.kind === "checkpoint-saved");
    expect(saved).toMatchObject({ kind: "checkpoint-saved", jobId: "job-a", samples: 2400 });

    w.clock.advanceBy(5000 * 1000);
    await w.agents.step();
    const last = await drain(w.queueUrl);
    const completed = last.find((e) => e.kind === "completed");
    expect(completed).toMatchObject({ kind: "completed", attemptId: "job-a.1", samples: 10_000 });
    expect(completed?.sentAt).toBe(new Date(START + (180 + 5000) * 1000).toISOString());
  });

  it("starts an order written at the instant of its last turn when called again at that instant, and then answers that it is settled", async () => {
    const w = await world();
    await w.agents.step();
    w.clock.advanceBy(DEFAULT_AGENT_MODEL.bootSeconds * 1000);
    expect(await w.agents.step()).toBe(1); // agent-alive
    expect(await w.agents.step()).toBe(0);
    const orderedAt = w.clock.nowMs();
    // The pass that answers agent-alive writes the orders at the same virtual instant.
    await writeOrders(w, 1, { assignments: [assignment(w.instanceId)] });
    expect(await w.agents.step()).toBe(2); // the new orders document and the attempt's first heartbeat
    expect(await w.agents.step()).toBe(0);

    w.clock.advanceBy(5000 * 1000);
    await w.agents.step();
    const events = await drain(w.queueUrl);
    const heartbeat = events.find((e) => e.kind === "heartbeat");
    expect(heartbeat).toMatchObject({ samplesDone: 0, sentAt: new Date(orderedAt).toISOString() });
    // 10,000 samples at 2 samples/s from the instant of the order.
    const completed = events.find((e) => e.kind === "completed");
    expect(completed?.sentAt).toBe(new Date(orderedAt + 5000 * 1000).toISOString());
  });

  it("checkpoints and stops on a stop order, and never starts the same attempt twice", async () => {
    const w = await world();
    await writeOrders(w, 1, { assignments: [assignment(w.instanceId)] });
    await w.agents.step();
    w.clock.advanceBy(180_000);
    await w.agents.step();
    w.clock.advanceBy(100_000);
    await writeOrders(w, 2, {
      assignments: [assignment(w.instanceId)],
      stops: [{ attemptId: "job-a.1", mode: "checkpoint", reason: "re-plan" }],
    });
    await w.agents.step();
    w.clock.advanceBy(10_000_000);
    await w.agents.step();

    const events = await drain(w.queueUrl);
    const stopped = events.find((e) => e.kind === "stopped");
    expect(stopped).toMatchObject({ kind: "stopped", samples: 200, reason: "stop-order" });
    expect(events.some((e) => e.kind === "completed")).toBe(false);
    expect(events.filter((e) => e.kind === "checkpoint-saved").map((e) => (e as { samples: number }).samples)).toEqual([
      200,
    ]);
  });

  it("interrupts a spot instance: notice, the EventBridge warning, then the emulator terminates it", async () => {
    const w = await world(1000); // ~one interruption every 3.6 s of virtual time
    await writeOrders(w, 1, { assignments: [assignment(w.instanceId)] });
    await w.agents.step();
    w.clock.advanceBy(180_000 + 3_600_000);
    await w.agents.step();
    expect(w.ec2Events).toEqual([`spot-interruption-warning ${w.instanceId}`]);
    // Turns at the notice's instant are one step: the reclaim waits for a later instant.
    await w.agents.step();
    expect(w.ec2Events).toEqual([`spot-interruption-warning ${w.instanceId}`]);
    w.clock.advanceBy(120_000);
    await w.agents.step();

    expect(w.ec2Events).toEqual([`spot-interruption-warning ${w.instanceId}`, `state-terminated ${w.instanceId}`]);
    const state = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [w.instanceId] }));
    expect(state.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("terminated");
    const kinds = (await drain(w.queueUrl)).map((e) => e.kind);
    expect(kinds).toContain("interruption-notice");
  });
});
