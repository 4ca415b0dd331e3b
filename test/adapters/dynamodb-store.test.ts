import { beforeEach, describe, expect, it } from "vitest";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import type { WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import { WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { createExecutionRecord } from "../../lambdas/core/reconciler/create-record.ts";
import { VersionConflictError, type WorkloadRecord } from "../../lambdas/core/store/workload-store.ts";
import { twoJobPlan } from "../core/reconciler/fixtures.ts";
import { smallWorkload } from "../sim/fixtures/workloads.ts";
import { createTestTable, type TestTable } from "../support/dynamodb-table.ts";
import { maxFixture } from "./fixtures/max-workload.ts";

const NOW = new Date("2026-12-01T12:00:00Z");

function workload(
  id: string,
  owner = "arn:aws:iam::123456789012:user/alice",
  createdAt = NOW.toISOString(),
): WorkloadRecord {
  return {
    id,
    name: `sweep-${id}`,
    owner,
    status: "planning",
    statusReason: undefined,
    createdAt,
    updatedAt: createdAt,
    version: 1,
    planVersion: 0,
    jobCount: 2,
    cancelRequested: false,
    specText: "name: tiny\njobs: []\n",
  };
}

function heartbeat(eventId: string, samplesDone: number, sentAt = "2026-12-01T12:01:00Z"): WorkerEvent {
  return {
    protocol: WORKER_PROTOCOL,
    eventId,
    workloadId: "w1",
    instanceId: "i-0abc",
    sentAt,
    kind: "heartbeat",
    jobId: "job-a",
    attemptId: "job-a#1",
    samplesDone,
    samplesPerSecond: 2.5,
    peakGpuMemoryBytes: null,
  };
}

describe("DynamoDbStore", () => {
  let table: TestTable;
  let store: DynamoDbStore;

  beforeEach(async () => {
    table = await createTestTable();
    store = new DynamoDbStore({ tableName: table.tableName, client: table.client, now: () => NOW });
  });

  it("creates, reads and lists workloads by owner, newest first", async () => {
    await store.create(workload("w1", "arn:alice", "2026-12-01T10:00:00Z"), undefined);
    await store.create(workload("w2", "arn:alice", "2026-12-01T11:00:00Z"), undefined);
    await store.create(workload("w3", "arn:bob"), undefined);
    expect((await store.get("w1"))?.specText).toBe("name: tiny\njobs: []\n");
    expect((await store.list("arn:alice")).map((w) => w.id)).toEqual(["w2", "w1"]);
    expect((await store.list("arn:bob")).map((w) => w.id)).toEqual(["w3"]);
    expect((await store.list(undefined)).map((w) => w.id)).toEqual(["w3", "w2", "w1"]);
    expect(await store.get("nope")).toBeUndefined();
  });

  it("returns the first workload for a repeated idempotency key and writes nothing new", async () => {
    const first = await store.create(workload("w1"), "key-1");
    const repeat = await store.create({ ...workload("w2"), name: "other" }, "key-1");
    expect(repeat.id).toBe(first.id);
    expect(await store.get("w2")).toBeUndefined();
    // The key is scoped by owner: another caller's key of the same text is its own.
    const other = await store.create(workload("w3", "arn:aws:iam::123456789012:user/bob"), "key-1");
    expect(other.id).toBe("w3");
  });

  it("refuses to create a workload id twice", async () => {
    await store.create(workload("w1"), undefined);
    await expect(store.create(workload("w1"), undefined)).rejects.toBeInstanceOf(VersionConflictError);
  });

  it("updates on the expected version and refuses a stale one without writing", async () => {
    await store.create(workload("w1"), undefined);
    const updated = await store.update("w1", 1, { status: "planned", planVersion: 1, statusReason: "ok" });
    expect(updated).toMatchObject({ status: "planned", planVersion: 1, version: 2, statusReason: "ok" });
    await expect(store.update("w1", 1, { status: "cancelled" })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get("w1"))?.status).toBe("planned");
    const cleared = await store.update("w1", 2, { statusReason: undefined });
    expect(cleared.statusReason).toBeUndefined();
  });

  it("saves the execution record conditionally: 0 creates, a stale version conflicts", async () => {
    const small = createExecutionRecord(smallWorkload({ jobs: 2 }), twoJobPlan(), 1000);
    await store.saveExecution("w1", 0, small);
    await expect(store.saveExecution("w1", 0, small)).rejects.toBeInstanceOf(VersionConflictError);
    await store.saveExecution("w1", 1, { ...small, version: 5 });
    await expect(store.saveExecution("w1", 1, small)).rejects.toBeInstanceOf(VersionConflictError);
    const stored = await store.getExecution("w1");
    expect(stored?.version).toBe(2);
    expect(stored?.record.version).toBe(5);
  });

  it("stores a sweep's shared considered lists once and reads the report back in its order", async () => {
    const candidate = (instanceType: string, chosen: boolean) => ({
      config: { technique: "ddp" as const, instanceType, nodes: 1, gpusPerNode: 1 },
      fits: true,
      reason: undefined,
      samplesPerSecond: 10,
      runtimeSeconds: 600,
      costUsd: { spot: 1 },
      chosen,
    });
    const shared = [candidate("g6e.xlarge", true), candidate("p4d.24xlarge", false)];
    const plan = {
      ...twoJobPlan(),
      considered: [
        { jobId: "b", candidates: shared },
        { jobId: "a", candidates: [candidate("g6e.xlarge", false), candidate("p4d.24xlarge", true)] },
        { jobId: "c", candidates: shared.map((c) => ({ ...c })) },
      ],
    };
    await store.putPlan("w1", 1, plan);
    expect(await store.getPlan("w1", 1)).toEqual(plan);
  });

  it("keeps plan versions immutable; a retried identical write is accepted", async () => {
    const small = twoJobPlan();
    await store.putPlan("w1", 1, small);
    await store.putPlan("w1", 1, small);
    await expect(store.putPlan("w1", 1, { ...small, gap: 0.5 })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.getPlan("w1", 1))?.gap).toBe(small.gap);
    expect(await store.getPlan("w1", 2)).toBeUndefined();
  });

  it("lets one holder at a time hold the lease until it expires or is released", async () => {
    expect(await store.acquireLease("w1", "pass-a", 1000, 60)).toBe(true);
    expect(await store.acquireLease("w1", "pass-b", 1010, 60)).toBe(false);
    expect(await store.acquireLease("w1", "pass-a", 1020, 60)).toBe(true);
    await store.releaseLease("w1", "pass-b");
    expect(await store.acquireLease("w1", "pass-b", 1030, 60)).toBe(false);
    expect(await store.acquireLease("w1", "pass-b", 1081, 60)).toBe(true);
    await store.releaseLease("w1", "pass-b");
    expect(await store.acquireLease("w1", "pass-c", 1082, 60)).toBe(true);
  });

  it("lets exactly one of two concurrent holders win the lease", async () => {
    const results = await Promise.all([
      store.acquireLease("w9", "pass-a", 2000, 60),
      store.acquireLease("w9", "pass-b", 2000, 60),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("records a worker event once by event id and keeps only the furthest heartbeat", async () => {
    const completed: WorkerEvent = {
      protocol: WORKER_PROTOCOL,
      eventId: "evt-completed-1",
      workloadId: "w1",
      instanceId: "i-0abc",
      sentAt: "2026-12-01T13:00:00Z",
      kind: "completed",
      jobId: "job-a",
      attemptId: "job-a#1",
      samples: 100,
      finalUri: null,
    };
    expect(await store.putWorkerEvent(completed)).toBe(true);
    expect(await store.putWorkerEvent(completed)).toBe(false);
    expect(await store.putWorkerEvent(heartbeat("evt-hb-0001", 50))).toBe(true);
    expect(await store.putWorkerEvent(heartbeat("evt-hb-0001", 50))).toBe(false);
    expect(await store.putWorkerEvent(heartbeat("evt-hb-0000", 20, "2026-12-01T12:00:30Z"))).toBe(false);
    expect(await store.putWorkerEvent(heartbeat("evt-hb-0002", 80, "2026-12-01T12:02:00Z"))).toBe(true);
    const events = await store.workerEvents("w1");
    expect(events.map((e) => e.eventId).sort()).toEqual(["evt-completed-1", "evt-hb-0002"]);
  });

  it("keeps rejected messages with their issues, newest first", async () => {
    await store.putRejectedMessage("{not json", ["body: expected JSON"], "2026-12-01T12:00:00Z");
    await store.putRejectedMessage("x".repeat(100_000), ["kind: expected a worker event"], "2026-12-01T12:00:01Z");
    const rejected = await store.rejectedMessages(10);
    expect(rejected.map((r) => r.issues[0])).toEqual(["kind: expected a worker event", "body: expected JSON"]);
    expect(rejected[0]?.bodyBytes).toBe(100_000);
    expect(rejected[0]?.body.length).toBe(65_536);
  });

  it("keeps the audit trail in time order and a retried append once", async () => {
    const entries = [
      { at: "2026-12-01T12:00:02Z", planVersion: 1, kind: "terminate", detail: { ids: ["i-1"] } },
      { at: "2026-12-01T12:00:01Z", planVersion: 1, kind: "launch", detail: { slot: "i0" } },
    ];
    await store.appendAudit("w1", entries);
    await store.appendAudit("w1", entries);
    expect((await store.audit("w1")).map((e) => e.kind)).toEqual(["launch", "terminate"]);
  });

  it("stores profiles by job signature and keeps the newest measurement", async () => {
    const base = {
      jobSignature: "gpt2-xl|full|b16",
      technique: "ddp" as const,
      instanceType: "g6e.xlarge",
      nodes: 1,
      gpusPerNode: 1,
      samplesPerSecond: 10,
      peakMemoryGiBPerGpu: 20,
      measuredAt: "2026-12-01T12:00:00Z",
      where: "sim",
    };
    await store.putProfile(base);
    await store.putProfile({ ...base, samplesPerSecond: 5, measuredAt: "2026-11-30T12:00:00Z" });
    await store.putProfile({ ...base, technique: "fsdp", samplesPerSecond: 7 });
    const found = await store.profiles(["gpt2-xl|full|b16", "unknown"]);
    expect(found.map((p) => `${p.technique}:${p.samplesPerSecond}`).sort()).toEqual(["ddp:10", "fsdp:7"]);
  });

  it("records cloud events once and reads them since a time", async () => {
    const warning = { kind: "spot-interruption-warning" as const, instanceId: "i-0abc", at: 1000, reclaimAt: 1120 };
    expect(await store.putCloudEvent("w1", warning)).toBe(true);
    expect(await store.putCloudEvent("w1", warning)).toBe(false);
    await store.putCloudEvent("w1", { kind: "instance-state", instanceId: "i-0abc", state: "terminated", at: 1200 });
    expect((await store.cloudEvents("w1", 0)).map((e) => e.kind)).toEqual([
      "spot-interruption-warning",
      "instance-state",
    ]);
    expect(await store.cloudEvents("w1", 1100)).toHaveLength(1);
  });

  it("records an attempt start once", async () => {
    const start = {
      workloadId: "w1",
      jobId: "job-a",
      attemptId: "job-a#1",
      instanceIds: ["i-0abc"],
      gpusPerInstance: 1,
      fromSamples: 0,
      startedAt: 1000,
    };
    expect(await store.putAttemptStart(start)).toBe(true);
    expect(await store.putAttemptStart({ ...start, startedAt: 2000 })).toBe(false);
    expect(await store.attemptStarts("w1")).toEqual([start]);
  });
});

describe("DynamoDbStore with a 5,000-job workload", () => {
  it("stores and loads the spec, the plan and the execution record whole", async () => {
    const table = await createTestTable();
    const store = new DynamoDbStore({ tableName: table.tableName, client: table.client, now: () => NOW });
    const { text, plan, record } = maxFixture();
    await store.create({ ...workload("big"), specText: text, jobCount: 5000 }, "big-key");
    await store.putPlan("big", 1, plan);
    await store.saveExecution("big", 0, record);
    await store.saveExecution("big", 1, { ...record, version: 1 });

    const fresh = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    expect((await fresh.get("big"))?.specText).toBe(text);
    expect(await fresh.getPlan("big", 1)).toEqual(plan);
    const stored = await fresh.getExecution("big");
    expect(stored?.version).toBe(2);
    expect(stored?.record).toEqual({ ...record, version: 1 });
  });

  it("writes documents beyond one transaction chunks-first and reads the flipped generation", async () => {
    const table = await createTestTable();
    // Limits that force the chunks-then-head path for the same documents.
    const limits = { chunkBytes: 100_000, transactionBytes: 250_000 };
    const store = new DynamoDbStore({ tableName: table.tableName, client: table.client, limits });
    const { record } = maxFixture();
    await store.saveExecution("big", 0, record);
    const second = { ...record, version: 1, lastReplanAt: 42 };
    await store.saveExecution("big", 1, second);
    // The loser of a race writes its chunks, loses the head's condition, and corrupts nothing.
    await expect(store.saveExecution("big", 1, record)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.getExecution("big"))?.record).toEqual(second);
  });
});
