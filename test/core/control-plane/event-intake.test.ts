import { describe, expect, it } from "vitest";
import { parseEc2Notice } from "../../../lambdas/core/cloud/eventbridge-ec2-event.ts";
import { cloudEventOf, SPOT_WARNING_SECONDS } from "../../../lambdas/core/control-plane/cloud-event-intake.ts";
import { workloadsToReconcile } from "../../../lambdas/core/control-plane/worker-event-followups.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";

const base = { protocol: WORKER_PROTOCOL, instanceId: "i-0abc", sentAt: "2026-12-01T12:00:00Z" } as const;

describe("parseEc2Notice", () => {
  it("reads a spot interruption warning", () => {
    const notice = parseEc2Notice({
      source: "aws.ec2",
      "detail-type": "EC2 Spot Instance Interruption Warning",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "i-0abc", "instance-action": "terminate" },
    });
    expect(notice).toEqual({
      kind: "spot-interruption-warning",
      instanceId: "i-0abc",
      at: Date.parse("2026-12-01T12:00:00Z") / 1000,
      state: undefined,
    });
  });

  it("reads a rebalance recommendation and a state change with its state", () => {
    const time = "2026-12-01T12:00:00Z";
    expect(
      parseEc2Notice({
        source: "aws.ec2",
        "detail-type": "EC2 Instance Rebalance Recommendation",
        time,
        detail: { "instance-id": "i-0abc" },
      }),
    ).toMatchObject({ kind: "rebalance-recommendation", instanceId: "i-0abc" });
    expect(
      parseEc2Notice({
        source: "aws.ec2",
        "detail-type": "EC2 Instance State-change Notification",
        time,
        detail: { "instance-id": "i-0abc", state: "stopping" },
      }),
    ).toMatchObject({ kind: "state-change", state: "stopping" });
  });

  it("names the field of a known event type that is malformed, and a foreign source", () => {
    const reason = parseEc2Notice({
      source: "aws.ec2",
      "detail-type": "EC2 Instance State-change Notification",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "not-an-instance", state: "running" },
    });
    expect(reason).toContain("detail.instance-id");
    expect(parseEc2Notice({ source: "aws.s3", "detail-type": "Object Created" })).toContain("source");
  });

  it("names what is wrong with an event it cannot handle", () => {
    const reason = parseEc2Notice({ source: "aws.ec2", "detail-type": "EC2 AMI State Change", time: "x", detail: {} });
    expect(typeof reason).toBe("string");
    expect(reason).toContain("detail-type");
  });
});

describe("cloudEventOf", () => {
  it("gives a warning its reclaim time two minutes on", () => {
    expect(cloudEventOf({ kind: "spot-interruption-warning", instanceId: "i-1", at: 100, state: undefined })).toEqual({
      kind: "spot-interruption-warning",
      instanceId: "i-1",
      at: 100,
      reclaimAt: 100 + SPOT_WARNING_SECONDS,
    });
  });

  it("keeps only the instance states the cloud port knows", () => {
    expect(cloudEventOf({ kind: "state-change", instanceId: "i-1", at: 5, state: "shutting-down" })).toEqual({
      kind: "instance-state",
      instanceId: "i-1",
      state: "shutting-down",
      at: 5,
    });
    expect(cloudEventOf({ kind: "state-change", instanceId: "i-1", at: 5, state: "stopping" })).toBeUndefined();
    expect(
      cloudEventOf({ kind: "rebalance-recommendation", instanceId: "i-1", at: 5, state: undefined }),
    ).toBeUndefined();
  });
});

describe("workloadsToReconcile", () => {
  it("prompts a pass for endings and notices, once per workload, and not for heartbeats", () => {
    const events: WorkerEvent[] = [
      {
        ...base,
        eventId: "e-00000001",
        workloadId: "w-a",
        kind: "heartbeat",
        jobId: "j",
        attemptId: "j#1",
        samplesDone: 5,
        samplesPerSecond: 1,
        peakGpuMemoryBytes: null,
      },
      {
        ...base,
        eventId: "e-00000002",
        workloadId: "w-b",
        kind: "completed",
        jobId: "j",
        attemptId: "j#1",
        samples: 10,
        finalUri: null,
      },
      {
        ...base,
        eventId: "e-00000003",
        workloadId: "w-b",
        kind: "failed",
        jobId: "k",
        attemptId: "k#1",
        exitCode: 1,
        logTail: "",
        reason: "oom",
      },
      {
        ...base,
        eventId: "e-00000004",
        workloadId: "w-c",
        kind: "interruption-notice",
        notice: "spot-instance-action",
        actionAt: null,
      },
    ];
    expect(workloadsToReconcile(events)).toEqual(["w-b", "w-c"]);
  });
});
