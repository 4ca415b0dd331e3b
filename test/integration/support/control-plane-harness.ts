/**
 * The whole control plane in one test process against moto: the real handlers, built by
 * the real composition root from the stack's environment, with the suite's clock
 * (accelerated time: tests move it, nothing sleeps) and the EC2 client wrapped at its seam
 * (capacity and quota errors moto cannot produce). Queues are pumped the way Lambda's
 * event source mappings would: receive, invoke the function, delete what it did not
 * report as failed.
 */
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { VirtualTimeEc2 } from "../../../cli/local/virtual-time-ec2.ts";
import type { DynamoDbStore } from "../../../lambdas/adapters/dynamodb-store.ts";
import type { Ec2ClientPort } from "../../../lambdas/adapters/ec2-fleet.ts";
import { SqsControlQueues } from "../../../lambdas/adapters/sqs-control-queues.ts";
import { ENV, type EnvName } from "../../../lambdas/config/stack-contract.ts";
import {
  bucketLayout,
  type InstanceOrders,
  instanceOrdersSchema,
} from "../../../lambdas/core/protocol/worker-protocol.ts";
import { createApiHandler } from "../../../lambdas/handlers/api.ts";
import { type ControlPlane, controlPlane } from "../../../lambdas/handlers/composition-root.ts";
import { createEc2EventsHandler } from "../../../lambdas/handlers/ec2-events.ts";
import { createPlannerHandler } from "../../../lambdas/handlers/planner.ts";
import { createReconcilerHandler } from "../../../lambdas/handlers/reconciler.ts";
import { createSweeperHandler } from "../../../lambdas/handlers/sweeper.ts";
import { createWorkerEventsHandler } from "../../../lambdas/handlers/worker-events.ts";
import { emulatorClientConfig, TEST_REGION } from "../../support/aws.ts";
import { FaultyEc2 } from "../../support/faulty-ec2.ts";
import { apiEvent, lambdaContext } from "./api-events.ts";
import { quietObservability } from "./quiet-observability.ts";
import { SimulatedAgents } from "./simulated-agents.ts";

/** Quotas as Service Quotas would answer (moto does not serve it): generous, so specs decide. */
const AWS_QUOTAS = {
  G: { spot: 1024, "on-demand": 1024 },
  P: { spot: 1024, "on-demand": 1024 },
  P5: { spot: 1024 },
};

export class ControlPlaneHarness {
  /** The suite's clock, seconds since the epoch; starts at the real time so moto's launch times line up. */
  now = Math.floor(Date.now() / 1000);
  readonly env: Readonly<Record<EnvName, string>>;
  readonly region: string;
  readonly faulty: FaultyEc2;
  readonly ec2: EC2Client;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly root: ControlPlane;
  readonly store: DynamoDbStore;
  readonly agents: SimulatedAgents;
  readonly queues: SqsControlQueues;
  /** Optional extra seam between the adapters and the fault injector (crash simulations). */
  wrapEc2: ((client: Ec2ClientPort) => Ec2ClientPort) | undefined;
  readonly failures: { queue: string; messageId: string }[] = [];

  readonly api;
  readonly planner;
  readonly reconciler;
  readonly workerEvents;
  readonly ec2Events;
  readonly sweeper;

  /**
   * `clientConfig`: where the stack lives (default: the suite's moto server in `region`;
   * the deployed stack's own server when the suite runs against it).
   */
  constructor(
    env: Readonly<Record<EnvName, string>>,
    region = TEST_REGION,
    clientConfig: ReturnType<typeof emulatorClientConfig> = emulatorClientConfig(region),
  ) {
    this.env = env;
    this.region = region;
    this.faulty = new FaultyEc2(clientConfig);
    this.ec2 = new EC2Client({ ...clientConfig, maxAttempts: 1 });
    this.s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    this.sqs = new SQSClient(clientConfig);
    const clock = () => this.now * 1000;
    // moto stamps launch times with the real clock; the suite's clock runs ahead of it in
    // ticks. Launches through the control plane read at the suite's instant (as LocalStack
    // does: cli/local/virtual-time-ec2.ts); instances launched outside it keep moto's time.
    const virtual = new VirtualTimeEc2(
      { send: (command) => this.faulty.send(command) },
      { nowMs: clock, virtualAt: (realMs) => realMs },
    );
    this.root = controlPlane(
      { ...env, AWS_REGION: this.region },
      {
        clock,
        clientConfig,
        wrapEc2: () => ({
          send: (command) => (this.wrapEc2 === undefined ? virtual : this.wrapEc2(virtual)).send(command),
        }),
        awsQuotas: AWS_QUOTAS,
        planSeconds: 2,
        replanSeconds: 1,
      },
    );
    this.store = this.root.planner().store as DynamoDbStore;
    // One logger and metrics per function, as each Lambda function has its own.
    this.api = createApiHandler(this.root.api, quietObservability());
    this.planner = createPlannerHandler(this.root.planner, quietObservability());
    this.reconciler = createReconcilerHandler(this.root.reconciler, quietObservability());
    this.workerEvents = createWorkerEventsHandler(this.root.workerEvents, quietObservability());
    this.ec2Events = createEc2EventsHandler(this.root.ec2Events, quietObservability());
    this.sweeper = createSweeperHandler(this.root.sweeper, quietObservability());
    this.queues = new SqsControlQueues({
      client: this.sqs,
      planQueueUrl: env[ENV.planQueueUrl],
      reconcileQueueUrl: env[ENV.reconcileQueueUrl],
    });
    this.agents = new SimulatedAgents({
      ec2: this.ec2,
      s3: this.s3,
      sqs: this.sqs,
      bucket: env[ENV.bucketName],
      queueUrl: env[ENV.workerEventsQueueUrl],
    });
  }

  async call(method: string, path: string, options: Parameters<typeof apiEvent>[2] = {}) {
    const response = await this.api(apiEvent(method, path, options), lambdaContext());
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  }

  /** Receives one batch from a queue; an empty array when it is drained. */
  async receive(queueUrl: string, max = 10): Promise<SQSRecord[]> {
    const answer = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    return (answer.Messages ?? []).map((message) => ({
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: message.Attributes?.SentTimestamp ?? "0",
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${this.region}:123456789012:queue`,
      awsRegion: this.region,
    }));
  }

  /** Receives and deletes whatever a queue holds, running nothing. */
  async drain(queueUrl: string): Promise<void> {
    for (let records = await this.receive(queueUrl); records.length > 0; records = await this.receive(queueUrl)) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
  }

  async #pump(
    queue: EnvName,
    invoke: (event: SQSEvent) => Promise<SQSBatchResponse>,
    maxBatches: number,
    batchSize = 10,
  ): Promise<number> {
    const queueUrl = this.env[queue];
    let handled = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const records = await this.receive(queueUrl, batchSize);
      if (records.length === 0) return handled;
      const response = await invoke({ Records: records });
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const id of failed) this.failures.push({ queue, messageId: id });
      const done = records.filter((record) => !failed.has(record.messageId));
      if (done.length > 0) {
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
      }
      // A failed message comes back after its visibility timeout on AWS; in accelerated time
      // at once (and after the queue's receive limit it moves to the dead-letter queue).
      if (failed.size > 0) {
        await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: records
              .filter((record) => failed.has(record.messageId))
              .map((record, index) => ({
                Id: String(index),
                ReceiptHandle: record.receiptHandle,
                VisibilityTimeout: 0,
              })),
          }),
        );
      }
      handled += records.length;
    }
    return handled;
  }

  pumpPlans(): Promise<number> {
    return this.#pump(
      ENV.planQueueUrl,
      async (event) => (await this.planner(event, lambdaContext())) ?? { batchItemFailures: [] },
      5,
      1,
    );
  }

  /** Runs reconcile passes until the queue is drained (each pass may ask for a follow-up). */
  pumpReconciles(maxBatches = 30): Promise<number> {
    return this.#pump(
      ENV.reconcileQueueUrl,
      async (event) => {
        const response = await this.reconciler(event, lambdaContext());
        return "batchItemFailures" in response ? response : { batchItemFailures: [] };
      },
      maxBatches,
      1,
    );
  }

  pumpWorkerEvents(maxBatches = 50): Promise<number> {
    return this.#pump(ENV.workerEventsQueueUrl, (event) => this.workerEvents(event, lambdaContext()), maxBatches);
  }

  /** Submits, plans and approves; returns the workload id. */
  async submitAndApprove(body: string, principal?: string): Promise<string> {
    const submitted = await this.call("POST", "/workloads", {
      body,
      ...(principal === undefined ? {} : { principal }),
    });
    if (submitted.status !== 201)
      throw new Error(`submit answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
    const id = String(submitted.body.id);
    await this.pumpPlans();
    const approved = await this.call("POST", `/workloads/${id}/approve`, principal === undefined ? {} : { principal });
    if (approved.status !== 200)
      throw new Error(`approve answered ${approved.status}: ${JSON.stringify(approved.body)}`);
    return id;
  }

  /**
   * One tick of accelerated time: the clock moves, the agents poll and report, their
   * events are ingested, and the reconcile passes they (and the schedule) ask for run.
   */
  async tick(workloadId: string, seconds: number): Promise<void> {
    this.now += seconds;
    await this.agents.step(workloadId, this.now);
    await this.pumpWorkerEvents();
    await this.queues.requestReconcile([workloadId], "schedule");
    await this.pumpReconciles();
  }

  async status(workloadId: string): Promise<string | undefined> {
    return (await this.store.get(workloadId))?.status;
  }

  /** Ticks until the workload is final or `maxTicks` passed; returns the final status. */
  async runToEnd(workloadId: string, seconds = 900, maxTicks = 80): Promise<string | undefined> {
    for (let k = 0; k < maxTicks; k++) {
      const status = await this.status(workloadId);
      if (status !== "approved" && status !== "running") return status;
      await this.tick(workloadId, seconds);
    }
    return this.status(workloadId);
  }

  async instances(workloadId: string) {
    const answer = await this.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "tag:saturn:workload", Values: [workloadId] }],
      }),
    );
    return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  /** The orders document of one instance, as its agent reads it (undefined: never written). */
  async orders(workloadId: string, instanceId: string): Promise<InstanceOrders | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.env[ENV.bucketName], Key: bucketLayout.orders(workloadId, instanceId) }),
      );
      return instanceOrdersSchema.parse(JSON.parse((await object.Body?.transformToString()) ?? ""));
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  }
}
