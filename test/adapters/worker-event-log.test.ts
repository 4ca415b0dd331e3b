import { beforeEach, describe, expect, it } from "vitest";
import { AwsWorkers } from "../../lambdas/adapters/aws-workers.ts";
import {
  type DocumentClientPort,
  DynamoDbStore,
  WORKER_LOG_OVERLAP_MS,
  WORKER_LOG_WRITE_LIMIT_MS,
  WorkerLogWriteLateError,
} from "../../lambdas/adapters/dynamodb-store.ts";
import { S3Orders } from "../../lambdas/adapters/s3-orders.ts";
import type { CloudInstance } from "../../lambdas/core/cloud/cloud-port.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import type { AttemptStart } from "../../lambdas/core/reconciler/worker-events-fold.ts";
import { smallWorkload } from "../sim/fixtures/workloads.ts";
import { createTestTable } from "../support/dynamodb-table.ts";
import { createTestBucket } from "../support/s3-bucket.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z");
const workload = smallWorkload({ jobs: 2 });
const [jobA, jobB] = workload.jobs.map((job) => job.id) as [string, string];

function heartbeat(eventId: string, jobId: string, seconds: number, samplesDone: number): WorkerEvent {
  return {
    protocol: WORKER_PROTOCOL,
    eventId,
    workloadId: "w1",
    instanceId: "i-0aaa",
    sentAt: new Date(T0 + seconds * 1000).toISOString(),
    kind: "heartbeat",
    jobId,
    attemptId: `${jobId}#1`,
    samplesDone,
    samplesPerSecond: 2,
    peakGpuMemoryBytes: null,
  };
}

function checkpoint(eventId: string, jobId: string, seconds: number, samples: number): WorkerEvent {
  return {
    protocol: WORKER_PROTOCOL,
    eventId,
    workloadId: "w1",
    instanceId: "i-0aaa",
    sentAt: new Date(T0 + seconds * 1000).toISOString(),
    kind: "checkpoint-saved",
    jobId,
    attemptId: `${jobId}#1`,
    samples,
    uri: `s3://bucket-x/ck/${jobId}/${samples}`,
  };
}

const start = (jobId: string, seconds: number): AttemptStart => ({
  workloadId: "w1",
  jobId,
  attemptId: `${jobId}#1`,
  instanceIds: ["i-0aaa"],
  gpusPerInstance: 1,
  fromSamples: 0,
  startedAt: T0 / 1000 + seconds,
});

/** Counts the items every Query hands back (what a pass pays to read). */
class CountingClient implements DocumentClientPort {
  items = 0;
  readonly #inner: DocumentClientPort;
  constructor(inner: DocumentClientPort) {
    this.#inner = inner;
  }
  async send(command: object): Promise<unknown> {
    const result = await this.#inner.send(command);
    if (command.constructor.name === "QueryCommand") this.items += (result as { Items?: unknown[] }).Items?.length ?? 0;
    return result;
  }
}

describe("the worker event log", () => {
  let clockMs: number;
  let store: DynamoDbStore;
  let counting: CountingClient;

  beforeEach(async () => {
    const table = await createTestTable();
    clockMs = T0;
    counting = new CountingClient(table.client);
    store = new DynamoDbStore({ tableName: table.tableName, client: counting, now: () => new Date(clockMs) });
  });

  it("hands back starts and events after a cursor, with an overlap for writes still in flight", async () => {
    await store.putAttemptStart(start(jobA, 0));
    await store.putWorkerEvent(heartbeat("evt-hb-00001", jobA, 10, 10));
    const first = await store.workerLogSince("w1", "");
    expect(first.starts.map((s) => s.attemptId)).toEqual([`${jobA}#1`]);
    expect(first.events.map((e) => e.eventId)).toEqual(["evt-hb-00001"]);

    // Within the overlap of the first read: handed back again.
    clockMs = T0 + WORKER_LOG_OVERLAP_MS / 2;
    await store.putWorkerEvent(heartbeat("evt-hb-00002", jobA, 30, 60));
    const second = await store.workerLogSince("w1", first.cursor);
    expect(second.events.map((e) => e.eventId)).toEqual(["evt-hb-00001", "evt-hb-00002"]);

    // Once a read ran past the overlap, what came before it is not read again.
    clockMs = T0 + WORKER_LOG_OVERLAP_MS + 60_000;
    await store.putWorkerEvent(heartbeat("evt-hb-00003", jobA, 200, 400));
    const third = await store.workerLogSince("w1", second.cursor);
    expect(third.events).toHaveLength(3);
    expect(third.cursor > second.cursor).toBe(true);
    const fourth = await store.workerLogSince("w1", third.cursor);
    expect(fourth.starts).toEqual([]);
    expect(fourth.events.map((e) => e.eventId)).toEqual(["evt-hb-00003"]);
    expect(fourth.cursor).toBe(third.cursor);
  });

  it("refuses a log write that took longer than the limit, so the caller's retry logs it afresh", async () => {
    const table = await createTestTable();
    let ms = T0;
    const slow: DocumentClientPort = {
      send: async (command) => {
        const result = await table.client.send(command as never);
        ms += WORKER_LOG_WRITE_LIMIT_MS + 1;
        return result;
      },
    };
    const late = new DynamoDbStore({ tableName: table.tableName, client: slow, now: () => new Date(ms) });
    await expect(late.putWorkerEvent(heartbeat("evt-hb-late1", jobA, 0, 1))).rejects.toBeInstanceOf(
      WorkerLogWriteLateError,
    );
    // Nothing was recorded as seen: the retry is not answered as a duplicate.
    expect(await late.workerEvents("w1")).toEqual([]);
  });

  it("still answers a repeated event as a duplicate", async () => {
    const event = checkpoint("evt-ck-00001", jobA, 5, 100);
    expect(await store.putWorkerEvent(event)).toBe(true);
    expect(await store.putWorkerEvent(event)).toBe(false);
    expect((await store.workerEvents("w1")).map((e) => e.eventId)).toEqual(["evt-ck-00001"]);
  });

  describe("AwsWorkers reading it", () => {
    const instances: CloudInstance[] = [
      {
        id: "i-0aaa",
        instanceType: "g5.xlarge",
        market: "on-demand",
        availabilityZone: "us-east-1a",
        state: "running",
        launchedAt: T0 / 1000,
        runningSince: T0 / 1000,
        tags: {},
        hourlyPriceUsd: 1.006,
        interruptionNoticeAt: undefined,
      },
    ];

    async function workers(fold: ReturnType<AwsWorkers["workerFold"]>) {
      const { s3, bucketName } = await createTestBucket();
      return new AwsWorkers({
        workloadId: "w1",
        workload,
        plan: undefined,
        planVersion: 1,
        bucketName,
        orders: new S3Orders({ bucketName, s3 }),
        store,
        instances: async () => instances,
        ...(fold === undefined ? {} : { fold }),
      });
    }

    it("folds only what was logged after the stored cursor, and reports what a full fold reports", async () => {
      await store.putAttemptStart(start(jobA, 0));
      await store.putAttemptStart(start(jobB, 0));
      for (let k = 1; k <= 10; k++) await store.putWorkerEvent(checkpoint(`evt-ck-a${k}`, jobA, k * 10, k * 100));
      clockMs = T0 + WORKER_LOG_OVERLAP_MS + 1000;
      const firstPass = await workers(undefined);
      await firstPass.reports([jobA, jobB]);
      const stored = firstPass.workerFold();
      expect(stored).toBeDefined();

      // The next pass comes after the overlap: only the heartbeat logged since is read.
      clockMs = T0 + 2 * WORKER_LOG_OVERLAP_MS;
      await store.putWorkerEvent(heartbeat("evt-hb-b0001", jobB, 300, 700));
      counting.items = 0;
      const secondPass = await workers(stored);
      const incremental = await secondPass.reports([jobA, jobB]);
      expect(counting.items).toBe(1);

      const full = await (await workers(undefined)).reports([jobA, jobB]);
      expect(incremental).toEqual(full);
      expect(incremental.map((r) => [r.checkpointSamples, r.attempt?.samplesDone])).toEqual([
        [1000, 1000],
        [0, 700],
      ]);
    });
  });
});
