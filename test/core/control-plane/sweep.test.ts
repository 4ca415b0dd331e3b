import { describe, expect, it } from "vitest";
import { type CloudInstance, SATURN_TAGS } from "../../../lambdas/core/cloud/cloud-port.ts";
import { sweepDecisions } from "../../../lambdas/core/control-plane/sweep.ts";
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
