import { describe, expect, it } from "vitest";
import {
  instanceOrdersSchema,
  WORKER_PROTOCOL,
  workerEventSchema,
} from "../../../lambdas/core/protocol/worker-protocol.ts";

const heartbeat = {
  protocol: WORKER_PROTOCOL,
  eventId: "5f0c1d2e-0000-4000-8000-000000000001",
  workloadId: "wl-1",
  instanceId: "i-0abc123",
  sentAt: "2026-12-01T13:00:00Z",
  jobId: "job-a",
  attemptId: "job-a:1",
  kind: "heartbeat",
  samplesDone: 128,
  samplesPerSecond: 3.5,
  peakGpuMemoryBytes: null,
};

describe("worker events", () => {
  it("accept a well-formed heartbeat", () => {
    expect(workerEventSchema.parse(heartbeat)).toEqual(heartbeat);
  });

  it("reject a heartbeat with negative progress and name the field", () => {
    const result = workerEventSchema.safeParse({ ...heartbeat, samplesDone: -1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["samplesDone"]);
    expect(result.error?.issues[0]?.message).toBe("expected an integer >= 0");
  });

  it("reject unknown keys and unknown kinds", () => {
    expect(workerEventSchema.safeParse({ ...heartbeat, extra: 1 }).success).toBe(false);
    expect(workerEventSchema.safeParse({ ...heartbeat, kind: "party" }).success).toBe(false);
  });
});

describe("instance orders", () => {
  const orders = {
    protocol: WORKER_PROTOCOL,
    workloadId: "wl-1",
    instanceId: "i-0abc123",
    sequence: 3,
    writtenAt: "2026-12-01T13:00:00Z",
    stops: [],
    shutdown: false,
    assignments: [
      {
        workloadId: "wl-1",
        jobId: "job-a",
        attemptId: "job-a:1",
        planVersion: 1,
        technique: "fsdp",
        instanceIds: ["i-0abc123"],
        gpusPerInstance: 2,
        gpuIndices: [0, 1],
        rendezvous: null,
        task: {
          model: "gpt2-xl",
          method: "full",
          batchSize: 16,
          sequenceLength: 1024,
          totalSamples: 1000,
          entrypoint: { recipe: "causal-lm" },
          hyperparameters: { lr: 0.0001 },
        },
        checkpoint: {
          prefix: "s3://saturn-bucket/workloads/wl-1/checkpoints/job-a/",
          intervalSeconds: 1800,
          resumeFrom: null,
        },
        checkpointable: true,
        plannedSamplesPerSecond: 2.5,
        profile: null,
      },
    ],
  };
  it("accept a document with one single-node assignment", () => {
    expect(instanceOrdersSchema.parse(orders)).toEqual(orders);
    const broken = { ...orders, assignments: [{ ...orders.assignments[0], technique: "not a name!" }] };
    const result = instanceOrdersSchema.safeParse(broken);
    expect(result.error?.issues[0]?.path.join(".")).toBe("assignments.0.technique");
  });

  it("accept a plug-in technique only with its declaration, and a built-in only without one", () => {
    const plugin = { name: "ddp-accumulate", module: "s3://saturn-bucket/plugins/accumulation_plugin.py" };
    const first = orders.assignments[0];
    const withPlugin = { ...orders, assignments: [{ ...first, technique: "ddp-accumulate", plugin }] };
    expect(instanceOrdersSchema.parse(withPlugin).assignments[0]?.plugin).toEqual(plugin);
    const undeclared = instanceOrdersSchema.safeParse({
      ...orders,
      assignments: [{ ...first, technique: "ddp-accumulate" }],
    });
    expect(undeclared.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([
      [
        "assignments.0.plugin",
        "expected the declaration of plug-in technique 'ddp-accumulate' ({name, module}), got none",
      ],
    ]);
    const builtIn = instanceOrdersSchema.safeParse({ ...orders, assignments: [{ ...first, plugin }] });
    expect(builtIn.error?.issues[0]?.path.join(".")).toBe("assignments.0.plugin");
  });
});
