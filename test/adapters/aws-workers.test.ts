import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsWorkers } from "../../lambdas/adapters/aws-workers.ts";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import { S3Orders } from "../../lambdas/adapters/s3-orders.ts";
import type { CloudInstance } from "../../lambdas/core/cloud/cloud-port.ts";
import type { StartJobRequest } from "../../lambdas/core/cloud/worker-port.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import {
  bucketLayout,
  instanceOrdersSchema,
  WORKER_PROTOCOL,
  type WorkerEvent,
} from "../../lambdas/core/protocol/worker-protocol.ts";
import { smallWorkload } from "../sim/fixtures/workloads.ts";
import { createTestTable } from "../support/dynamodb-table.ts";
import { createTestBucket } from "../support/s3-bucket.ts";

const workload = smallWorkload({ jobs: 2 });
const plan: Plan = {
  schemaVersion: 1,
  workload: workload.name,
  objective: "min-cost",
  instances: [],
  assignments: [
    {
      jobId: "job-1",
      technique: "fsdp",
      instanceIds: ["s1", "s2"],
      gpusPerInstance: 4,
      start: 0,
      end: 3600,
      samplesPerSecond: 3,
      throughputSource: "estimated",
      gpuIndices: [0, 1, 2, 3],
    },
  ],
  totals: { expectedCostUsd: 1, makespanSeconds: 3600 },
  lowerBound: 1,
  gap: 0,
  solveSeconds: 0,
  considered: [],
};

function instance(id: string, state: CloudInstance["state"], ip: string): CloudInstance {
  return {
    id,
    instanceType: "g6e.12xlarge",
    market: "spot",
    availabilityZone: "us-east-1a",
    state,
    tags: {},
    launchedAt: 0,
    runningSince: 0,
    hourlyPriceUsd: 1,
    interruptionNoticeAt: undefined,
    privateIpAddress: ip,
  };
}

const request: StartJobRequest = {
  jobId: "job-1",
  attemptId: "job-1#1",
  instanceIds: ["i-0node0", "i-0node1"],
  gpusPerInstance: 4,
  fromSamples: 0,
  totalSamples: 7200,
  plannedSamplesPerSecond: 3,
  checkpointIntervalSeconds: 900,
  checkpointable: true,
};

describe("AwsWorkers against the emulator", () => {
  let s3: S3Client;
  let bucketName: string;
  let store: DynamoDbStore;
  let orders: S3Orders;
  let instances: CloudInstance[];
  let workers: AwsWorkers;

  beforeEach(async () => {
    ({ s3, bucketName } = await createTestBucket());
    const table = await createTestTable();
    store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    orders = new S3Orders({ bucketName, s3, now: () => new Date("2026-12-01T12:00:00Z") });
    instances = [instance("i-0node0", "running", "10.0.0.5"), instance("i-0node1", "running", "10.0.0.6")];
    workers = new AwsWorkers({
      workloadId: "w1",
      workload,
      plan,
      planVersion: 1,
      bucketName,
      orders,
      store,
      instances: async () => instances,
      now: () => 1_765_000_000,
    });
  });

  async function storedOrders(instanceId: string) {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucketName, Key: bucketLayout.orders("w1", instanceId) }),
    );
    return instanceOrdersSchema.parse(JSON.parse((await object.Body?.transformToString()) ?? ""));
  }

  it("writes a schema-valid assignment to every node's orders, with node 0's rendezvous", async () => {
    await workers.startJob(request);
    for (const id of request.instanceIds) {
      const doc = await storedOrders(id);
      expect(doc).toMatchObject({
        protocol: WORKER_PROTOCOL,
        workloadId: "w1",
        instanceId: id,
        sequence: 0,
        shutdown: false,
      });
      expect(doc.assignments).toHaveLength(1);
      expect(doc.assignments[0]).toMatchObject({
        attemptId: "job-1#1",
        technique: "fsdp",
        instanceIds: ["i-0node0", "i-0node1"],
        gpuIndices: [0, 1, 2, 3],
        rendezvous: { endpoint: "10.0.0.5:29500", id: "job-1#1" },
        checkpoint: {
          prefix: `s3://${bucketName}/workloads/w1/checkpoints/job-1/`,
          intervalSeconds: 900,
          resumeFrom: null,
        },
        task: { model: "gpt2-xl", batchSize: 16, totalSamples: 7200 },
      });
    }
  });

  it("gives an attempt of a plug-in technique the plug-in's declaration from the spec", async () => {
    const plugin = { name: "ddp-accumulate", module: "s3://saturn-plugins/accumulation_plugin.py" };
    const withPlugin = {
      ...workload,
      plugins: [plugin],
      jobs: workload.jobs.map((job) => ({ ...job, techniques: [...job.techniques, plugin.name] })),
    };
    const pluginPlan: Plan = {
      ...plan,
      assignments: plan.assignments.map((a) => ({ ...a, technique: plugin.name })),
    };
    const pluginWorkers = new AwsWorkers({
      workloadId: "w1",
      workload: withPlugin,
      plan: pluginPlan,
      planVersion: 1,
      bucketName,
      orders,
      store,
      instances: async () => instances,
      now: () => 1_765_000_000,
    });
    await pluginWorkers.startJob(request);
    const [assignment] = (await storedOrders("i-0node0")).assignments;
    expect(assignment).toMatchObject({ technique: "ddp-accumulate", plugin });
    await workers.startJob({ ...request, jobId: "job-2", attemptId: "job-2#1" });
    const builtIn = (await storedOrders("i-0node0")).assignments.find((a) => a.jobId === "job-2");
    expect(builtIn?.plugin).toBeNull();
  });

  it("starts an attempt once: a repeat writes nothing and the report shows it running", async () => {
    await workers.startJob(request);
    await workers.startJob(request);
    expect((await storedOrders("i-0node0")).sequence).toBe(0);
    const [report] = await workers.reports(["job-1"]);
    expect(report).toMatchObject({
      attemptsStarted: 1,
      attempt: { attemptId: "job-1#1", samplesDone: 0, startedAt: 1_765_000_000 },
    });
  });

  it("adds a stop order once to the attempt's instances, bumping the sequence", async () => {
    await workers.startJob(request);
    await workers.checkpointAndStop("job-1", "job-1#1");
    await workers.checkpointAndStop("job-1", "job-1#1");
    const doc = await storedOrders("i-0node1");
    expect(doc.sequence).toBe(1);
    expect(doc.stops).toEqual([{ attemptId: "job-1#1", mode: "checkpoint", reason: "the reconciler moves the job" }]);
  });

  it("tells each instance to shut down once, keeping its assignments and stops", async () => {
    await workers.startJob(request);
    await workers.shutdown(["i-0node0", "i-0spare"]);
    await workers.shutdown(["i-0node0"]);
    const node0 = await storedOrders("i-0node0");
    expect(node0).toMatchObject({ shutdown: true, sequence: 1 });
    expect(node0.assignments.map((a) => a.attemptId)).toEqual(["job-1#1"]);
    expect(await storedOrders("i-0spare")).toMatchObject({ shutdown: true, assignments: [], sequence: 0 });
    expect((await storedOrders("i-0node1")).shutdown).toBe(false);
  });

  it("resumes from the checkpoint the workers reported", async () => {
    const saved: WorkerEvent = {
      protocol: WORKER_PROTOCOL,
      eventId: "evt-ck-0001",
      workloadId: "w1",
      instanceId: "i-0node0",
      sentAt: "2026-12-01T12:30:00Z",
      kind: "checkpoint-saved",
      jobId: "job-1",
      attemptId: "job-1#1",
      samples: 3000,
      uri: `s3://${bucketName}/workloads/w1/checkpoints/job-1/step-3000`,
    };
    await store.putWorkerEvent(saved);
    await workers.startJob({ ...request, attemptId: "job-1#2", fromSamples: 3000 });
    const [assignment] = (await storedOrders("i-0node0")).assignments;
    expect(assignment?.checkpoint.resumeFrom).toEqual({ uri: saved.uri, samples: 3000 });
  });

  it("reports an attempt lost when one of its instances ended", async () => {
    await workers.startJob(request);
    instances = [instance("i-0node0", "running", "10.0.0.5"), instance("i-0node1", "terminated", "10.0.0.6")];
    const [report] = await workers.reports(["job-1"]);
    expect(report?.attempt).toBeUndefined();
    expect(report?.lostAttempts.map((lost) => lost.cause)).toEqual(["instance-lost"]);
  });

  it("keeps both of two concurrent changes to one orders document (conditional on the ETag)", async () => {
    const other = new S3Orders({ bucketName, s3 });
    await Promise.all([
      orders.update("w1", "i-0node0", (doc) => ({
        ...doc,
        stops: [...doc.stops, { attemptId: "a-1", mode: "abandon", reason: "x" }],
      })),
      other.update("w1", "i-0node0", (doc) => ({
        ...doc,
        stops: [...doc.stops, { attemptId: "a-2", mode: "abandon", reason: "y" }],
      })),
      orders.update("w1", "i-0node0", (doc) => ({
        ...doc,
        stops: [...doc.stops, { attemptId: "a-3", mode: "abandon", reason: "z" }],
      })),
    ]);
    const doc = await storedOrders("i-0node0");
    expect(doc.stops.map((stop) => stop.attemptId).sort()).toEqual(["a-1", "a-2", "a-3"]);
    expect(doc.sequence).toBe(2);
  });

  it("refuses a multi-node start without node 0's address, writing nothing", async () => {
    instances = [];
    await expect(workers.startJob(request)).rejects.toThrow(/private address for node 0/);
    await expect(orders.read("w1", "i-0node0")).resolves.toBeUndefined();
  });
});
