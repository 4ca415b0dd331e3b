/**
 * Test scaffolding for the agent: a fresh bucket and queue in moto per test (other files
 * reset moto, so names are unique and everything is created here), a fake IMDS, a work
 * root in a temp folder, and the real agent loop with real AWS SDK clients, the real
 * process runner and the real clock. Only the self-termination action is recorded instead
 * of performed.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type AssignmentMessage,
  bucketLayout,
  type InstanceOrders,
  WORKER_PROTOCOL,
  type WorkerEvent,
  workerEventSchema,
} from "../../lambdas/core/protocol/worker-protocol.ts";
import { type AgentOutcome, runAgent } from "../../worker/agent/agent.ts";
import { type AgentConfig, parseAgentConfig } from "../../worker/agent/agent-config.ts";
import { jsonLineLog, silentLog } from "../../worker/agent/agent-log.ts";
import { systemClock } from "../../worker/agent/clock.ts";
import { ControlPlaneClient, type ControlPlanePort } from "../../worker/agent/control-plane-client.ts";
import { ImdsClient } from "../../worker/agent/imds-client.ts";
import { nodeProcessRunner } from "../../worker/agent/process-runner.ts";
import type { TerminationReason } from "../../worker/agent/self-termination.ts";
import { emulatorClientConfig } from "../support/aws.ts";
import { type FakeImds, startFakeImds } from "./fake-imds.ts";

export const FAKE_PYTHON = new URL("./fixtures/fake-python", import.meta.url).pathname;
export const WORKLOAD = "wl-agent-test";

export interface AgentSession {
  readonly bucket: string;
  readonly queueUrl: string;
  readonly instanceId: string;
  readonly workRoot: string;
  readonly imds: FakeImds;
  readonly s3: S3Client;
  readonly terminations: TerminationReason[];
  /** Every event received so far, each already checked against the worker protocol. */
  readonly events: WorkerEvent[];
  writeOrders(orders: Partial<InstanceOrders> & { sequence: number }): Promise<void>;
  writeRawOrders(body: string): Promise<void>;
  start(
    overrides?: Partial<AgentConfig>,
    controlPlane?: ControlPlanePort,
    extraEnv?: Readonly<Record<string, string>>,
  ): Promise<AgentOutcome>;
  /** Polls the queue until `predicate` holds for the events received so far. */
  waitFor(predicate: (events: readonly WorkerEvent[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  assignment(overrides?: Partial<AssignmentMessage>, task?: Partial<AssignmentMessage["task"]>): AssignmentMessage;
  dispose(): Promise<void>;
}

export async function openAgentSession(): Promise<AgentSession> {
  const suffix = randomUUID().slice(0, 8);
  const bucket = `saturn-agent-${suffix}`;
  const instanceId = `i-0${suffix}`;
  const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
  const sqs = new SQSClient(emulatorClientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `saturn-events-${suffix}` }));
  if (!QueueUrl) throw new Error("moto created no queue");
  const queueUrl = QueueUrl;
  const imds = await startFakeImds({
    "meta-data/instance-id": instanceId,
    "meta-data/local-ipv4": "10.0.0.12",
    "meta-data/instance-type": "g6e.12xlarge",
    "meta-data/tags/instance/saturn:workload": WORKLOAD,
    "meta-data/tags/instance/saturn:slot": "i0",
  });
  const workRoot = await mkdtemp(join(tmpdir(), "saturn-agent-"));
  const terminations: TerminationReason[] = [];
  const events: WorkerEvent[] = [];
  const abort = new AbortController();
  let running: Promise<AgentOutcome> | undefined;

  const receive = async () => {
    const answer = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = answer.Messages ?? [];
    for (const message of messages) {
      // The strict parse is the assertion that every event the agent sends obeys the protocol.
      events.push(workerEventSchema.parse(JSON.parse(message.Body ?? "")));
    }
    // Deleted once read, so a message is never seen twice after its visibility timeout.
    if (messages.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
  };

  const session: AgentSession = {
    bucket,
    queueUrl,
    instanceId,
    workRoot,
    imds,
    s3,
    terminations,
    events,
    async writeOrders(orders) {
      const document: InstanceOrders = {
        protocol: WORKER_PROTOCOL,
        workloadId: WORKLOAD,
        instanceId,
        writtenAt: "2026-12-01T12:00:00Z",
        assignments: [],
        stops: [],
        shutdown: false,
        ...orders,
      };
      await session.writeRawOrders(JSON.stringify(document));
    },
    async writeRawOrders(body) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: bucketLayout.orders(WORKLOAD, instanceId), Body: body }),
      );
    },
    start(overrides = {}, controlPlane, extraEnv = {}) {
      const config = {
        ...parseAgentConfig(
          {
            bucket,
            queueUrl,
            region: "us-east-1",
            python: FAKE_PYTHON,
            workRoot,
            imdsEndpoint: imds.endpoint,
            efa: "off",
            ordersPollSeconds: 0.1,
            interruptionPollSeconds: 0.1,
            heartbeatSeconds: 0.3,
            progressPollSeconds: 0.05,
            idleShutdownSeconds: 30,
            unreachableShutdownSeconds: 30,
            stopTimeoutSeconds: 10,
            killGraceSeconds: 2,
          },
          {},
        ),
        ...overrides,
      };
      running = runAgent({
        config,
        imds: new ImdsClient({ endpoint: imds.endpoint, clock: systemClock }),
        controlPlane: controlPlane ?? new ControlPlaneClient({ s3, sqs, bucket, queueUrl }),
        runner: nodeProcessRunner,
        clock: systemClock,
        // SATURN_AGENT_TEST_LOG=1 prints the agent's log lines while debugging a test.
        log: process.env.SATURN_AGENT_TEST_LOG
          ? jsonLineLog((line) => process.stderr.write(line), systemClock.now)
          : silentLog,
        selfTerminate: async (reason) => {
          terminations.push(reason);
        },
        efaPresent: async () => false,
        baseEnv: { ...process.env, ...extraEnv },
        signal: abort.signal,
      });
      return running;
    },
    async waitFor(predicate, what, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        await receive();
        if (predicate(events)) return;
        if (Date.now() > until)
          throw new Error(`timed out waiting for ${what}; events: ${events.map((event) => event.kind).join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    assignment(overrides = {}, task = {}) {
      const attemptId = overrides.attemptId ?? `att-${randomUUID().slice(0, 8)}`;
      return {
        workloadId: WORKLOAD,
        jobId: "job-1",
        attemptId,
        planVersion: 1,
        technique: "ddp",
        instanceIds: [instanceId],
        gpusPerInstance: 2,
        gpuIndices: [2, 3],
        rendezvous: null,
        task: {
          model: "tiny",
          method: "full",
          batchSize: 4,
          sequenceLength: 16,
          totalSamples: 40,
          entrypoint: { recipe: "causal-lm" },
          hyperparameters: {},
          ...task,
        },
        checkpoint: {
          prefix: `s3://${bucket}/${bucketLayout.checkpointPrefix(WORKLOAD, "job-1")}`,
          intervalSeconds: 1,
          resumeFrom: null,
        },
        checkpointable: true,
        plannedSamplesPerSecond: 100,
        profile: null,
        ...overrides,
      };
    },
    async dispose() {
      abort.abort();
      await running?.catch(() => undefined);
      await imds.close();
      s3.destroy();
      sqs.destroy();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
  return session;
}
