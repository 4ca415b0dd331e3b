import { describe, expect, it } from "vitest";
import type { CloudInstance, CloudPort } from "../../../lambdas/core/cloud/cloud-port.ts";
import { SATURN_TAGS } from "../../../lambdas/core/cloud/cloud-port.ts";
import { runSweep, type SweepDeps, sweepDecisions } from "../../../lambdas/core/control-plane/sweep.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";
import type { ExecutionRecord } from "../../../lambdas/core/reconciler/execution-record.ts";
import { applyToFold, EMPTY_WORKER_FOLD } from "../../../lambdas/core/reconciler/worker-fold-state.ts";
import type { WorkloadStatus, WorkloadSummary } from "../../../lambdas/core/store/workload-store.ts";

const NOW = 1_800_000_000;
const TIMEOUT = 1800;

function instance(
  id: string,
  workloadId: string | undefined,
  launchedAt = NOW - 600,
  state: CloudInstance["state"] = "running",
): CloudInstance {
  return {
    id,
    instanceType: "g5.xlarge",
    market: "spot",
    availabilityZone: "us-east-1a",
    state,
    tags:
      workloadId === undefined
        ? { [SATURN_TAGS.role]: "worker" }
        : { [SATURN_TAGS.role]: "worker", [SATURN_TAGS.workload]: workloadId },
    launchedAt,
    runningSince: launchedAt + 60,
    hourlyPriceUsd: 0.4,
    interruptionNoticeAt: undefined,
  };
}

function summary(id: string, status: WorkloadStatus): WorkloadSummary {
  return {
    id,
    name: id,
    owner: "arn:aws:iam::123456789012:user/alice",
    status,
    statusReason: undefined,
    createdAt: "2026-12-01T00:00:00Z",
    updatedAt: "2026-12-01T00:00:00Z",
    version: 2,
    planVersion: 1,
    jobCount: 1,
    cancelRequested: false,
  };
}

function decide(instances: CloudInstance[], workloads: WorkloadSummary[], lastEventAt = new Map<string, number>()) {
  return sweepDecisions({
    instances,
    workloads: new Map(workloads.map((w) => [w.id, w])),
    lastEventAt,
    now: NOW,
    heartbeatTimeoutSeconds: TIMEOUT,
  }).map((d) => d.instanceId);
}

describe("sweepDecisions", () => {
  it("terminates instances of final, unknown and never-approved workloads", () => {
    const ids = decide(
      [
        instance("i-done", "w-done"),
        instance("i-gone", "w-gone"),
        instance("i-untagged", undefined),
        instance("i-planned", "w-planned"),
      ],
      [summary("w-done", "completed"), summary("w-planned", "planned")],
    );
    expect(ids).toEqual(["i-done", "i-gone", "i-untagged", "i-planned"]);
  });

  it("keeps a running workload's instance that launched or spoke within the timeout", () => {
    const recent = instance("i-new", "w-run", NOW - 60);
    const talking = instance("i-old", "w-run", NOW - 10 * TIMEOUT);
    const ids = decide([recent, talking], [summary("w-run", "running")], new Map([["i-old", NOW - 30]]));
    expect(ids).toEqual([]);
  });

  it("terminates a running workload's instance whose heartbeats stopped", () => {
    const silent = instance("i-silent", "w-run", NOW - 10 * TIMEOUT);
    const ids = decide([silent], [summary("w-run", "running")], new Map([["i-silent", NOW - TIMEOUT - 1]]));
    expect(ids).toEqual(["i-silent"]);
  });

  it("leaves instances that are already on their way out alone", () => {
    expect(
      decide(
        [instance("i-t", "w-gone", NOW - 600, "terminated"), instance("i-s", "w-gone", NOW - 600, "shutting-down")],
        [],
      ),
    ).toEqual([]);
  });
});

function heartbeatFrom(instanceId: string, at: number, eventId: string): WorkerEvent {
  return {
    protocol: WORKER_PROTOCOL,
    eventId,
    workloadId: "w-run",
    instanceId,
    sentAt: new Date(at * 1000).toISOString(),
    kind: "heartbeat",
    jobId: "job-a",
    attemptId: "job-a#1",
    samplesDone: 10,
    samplesPerSecond: 1,
    peakGpuMemoryBytes: null,
  };
}

/** A store of one running workload; `fold` says whether its execution record has a worker fold. */
function sweepStore(fold: boolean, tail: readonly WorkerEvent[], all: readonly WorkerEvent[]) {
  const reads: string[] = [];
  const state = applyToFold(EMPTY_WORKER_FOLD, {
    starts: [],
    events: [
      heartbeatFrom("i-folded", NOW - 60, "e1"),
      { ...heartbeatFrom("i-idle", NOW - 120, "e2"), kind: "agent-alive", runningAttempts: [] } as WorkerEvent,
    ],
  });
  const store = {
    get: async (id: string) => (id === "w-run" ? { ...summary("w-run", "running"), specText: "" } : undefined),
    getExecution: async () => ({
      version: 3,
      record: (fold ? { workerFold: { cursor: "EL#cursor", state } } : {}) as ExecutionRecord,
    }),
    workerLogSince: async (_id: string, cursor: string) => {
      reads.push(`log since ${cursor}`);
      return { starts: [], events: tail, cursor };
    },
    workerEvents: async () => {
      reads.push("every event");
      return all;
    },
  };
  return { store: store as unknown as SweepDeps["store"], reads };
}

function sweepCloud(instances: readonly CloudInstance[]) {
  const terminated: string[] = [];
  const cloud = {
    describe: async (tags: Readonly<Record<string, string>>) =>
      instances.filter((i) => i.tags[SATURN_TAGS.role] === tags[SATURN_TAGS.role]),
    terminate: async (ids: readonly string[]) => {
      terminated.push(...ids);
    },
  };
  return { cloud: cloud as unknown as CloudPort, terminated };
}

describe("runSweep", () => {
  const old = NOW - 10 * TIMEOUT;
  const fleet = [
    instance("i-folded", "w-run", old),
    instance("i-idle", "w-run", old),
    instance("i-tail", "w-run", old),
    instance("i-silent", "w-run", old),
  ];

  it("reads the stored worker fold and only the log after its cursor", async () => {
    const { store, reads } = sweepStore(true, [heartbeatFrom("i-tail", NOW - 30, "e3")], []);
    const { cloud, terminated } = sweepCloud(fleet);
    const decisions = await runSweep({ store, cloud }, { now: NOW, heartbeatTimeoutSeconds: TIMEOUT });
    expect(reads).toEqual(["log since EL#cursor"]);
    // Heard of in the fold (an attempt's event, an alive report) or in the tail: kept.
    expect(terminated).toEqual(["i-silent"]);
    expect(decisions.map((d) => d.reason)).toEqual([expect.stringMatching(/no heartbeat/)]);
  });

  it("reads every stored event of a workload whose record has no worker fold yet", async () => {
    const { store, reads } = sweepStore(false, [], [heartbeatFrom("i-tail", NOW - 30, "e3")]);
    const { cloud, terminated } = sweepCloud(fleet);
    await runSweep({ store, cloud }, { now: NOW, heartbeatTimeoutSeconds: TIMEOUT });
    expect(reads).toEqual(["every event"]);
    expect(terminated).toEqual(["i-folded", "i-idle", "i-silent"]);
  });
});
