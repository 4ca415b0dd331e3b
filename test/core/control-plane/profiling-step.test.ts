import { describe, expect, it } from "vitest";
import type { CloudInstance } from "../../../lambdas/core/cloud/cloud-port.ts";
import type { ProfileRunRecord, ProfilingPhase } from "../../../lambdas/core/control-plane/profiling-phase-record.ts";
import {
  advanceProfilingPhase,
  type ProfilingObservation,
} from "../../../lambdas/core/control-plane/profiling-step.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";

const context = { workloadId: "w-1", region: "us-east-1", planVersion: 1, guardSeconds: 120 };

function run(index: number, overrides: Partial<ProfileRunRecord> = {}): ProfileRunRecord {
  return {
    index,
    jobId: "tiny-a",
    jobSignature: "sig",
    config: { technique: index === 0 ? "ddp" : "fsdp", instanceType: "g6e.2xlarge", nodes: 1, gpusPerNode: 1 },
    estimatedSamplesPerSecond: 12,
    estimatedCostUsd: 0.36,
    estimatedSeconds: 600,
    because: index === 0 ? "chosen" : "within-margin",
    status: "waiting",
    reason: undefined,
    samplesPerSecond: undefined,
    launchedAt: undefined,
    endedAt: undefined,
    ...overrides,
  };
}

function phase(runs: readonly ProfileRunRecord[], overrides: Partial<ProfilingPhase> = {}): ProfilingPhase {
  return {
    status: "proposed",
    chosenOnPlanVersion: 1,
    settings: { budgetUsd: 5, maxMinutes: 120, marginPercent: 15, warmupSteps: 5, measuredSteps: 20 },
    estimatedCostUsd: runs.reduce((sum, r) => sum + r.estimatedCostUsd, 0),
    estimatedSeconds: 1200,
    outsideMargin: 0,
    leftOut: [],
    runs,
    startedAt: undefined,
    endedAt: undefined,
    spentUsd: 0,
    ...overrides,
  };
}

function instance(runIndex: number, state: CloudInstance["state"], id = `i-${runIndex}`): CloudInstance {
  return {
    id,
    instanceType: "g6e.2xlarge",
    market: "on-demand",
    availabilityZone: "us-east-1a",
    state,
    tags: { "saturn:workload": "w-1", "saturn:role": "profiler", "saturn:slot": `profile-${runIndex}-n0` },
    launchedAt: 1000,
    runningSince: state === "running" ? 1000 : undefined,
    hourlyPriceUsd: 2.16,
    interruptionNoticeAt: undefined,
  };
}

const base = { protocol: WORKER_PROTOCOL, workloadId: "w-1", sentAt: "2026-12-01T00:10:00Z" } as const;
function measured(runIndex: number, fits = true): WorkerEvent {
  return {
    ...base,
    eventId: `ev-measured-${runIndex}`,
    instanceId: `i-${runIndex}`,
    kind: "throughput-measured",
    jobId: `profile:${runIndex}`,
    attemptId: `profile:${runIndex}#1`,
    record: {
      jobSignature: "sig",
      technique: runIndex === 0 ? "ddp" : "fsdp",
      instanceType: "g6e.2xlarge",
      nodes: 1,
      gpusPerNode: 1,
      samplesPerSecond: fits ? 10.5 : 0,
      peakMemoryGiBPerGpu: 0,
      measuredAt: "2026-12-01T00:10:00Z",
      where: `aws:us-east-1:i-${runIndex}`,
      ...(fits ? {} : { fits: false, reason: "out of memory on every rank" }),
    },
  };
}

function observe(overrides: Partial<ProfilingObservation>): ProfilingObservation {
  return { now: 1000, instances: [], events: [], cancelRequested: false, ...overrides };
}

describe("advanceProfilingPhase", () => {
  it("launches every waiting run on demand, tagged with the workload, the profiler role and its slot", () => {
    const step = advanceProfilingPhase(phase([run(0), run(1)]), observe({}), context);
    const launches = step.actions.filter((a) => a.kind === "launch-profile");
    expect(launches).toHaveLength(2);
    for (const launch of launches) {
      if (launch.kind !== "launch-profile") continue;
      expect(launch.request.market).toBe("on-demand");
      expect(launch.request.tags).toMatchObject({ "saturn:workload": "w-1", "saturn:role": "profiler" });
      expect(launch.request.tags["saturn:slot"]).toBe(`profile-${launch.run}-n0`);
    }
    expect(step.phase.status).toBe("running");
    expect(step.phase.runs.map((r) => r.status)).toEqual(["launched", "launched"]);
  });

  it("leaves a run out when its price would pass the phase's budget", () => {
    const step = advanceProfilingPhase(
      phase([run(0), run(1, { estimatedCostUsd: 4.9 })], { settings: { ...phase([]).settings, budgetUsd: 5 } }),
      observe({}),
      context,
    );
    expect(step.phase.runs.map((r) => r.status)).toEqual(["launched", "over-budget"]);
    expect(step.actions.filter((a) => a.kind === "launch-profile")).toHaveLength(1);
  });

  it("assigns a profile-mode attempt once the run's instance runs", () => {
    const launched = phase([run(0, { status: "launched", launchedAt: 1000 })], { status: "running", startedAt: 1000 });
    const step = advanceProfilingPhase(launched, observe({ now: 1060, instances: [instance(0, "running")] }), context);
    const assign = step.actions.find((a) => a.kind === "assign-profile");
    expect(assign?.kind === "assign-profile" && assign.request).toMatchObject({
      attemptId: "profile:0#1",
      profileJobId: "profile:0",
      jobId: "tiny-a",
      technique: "ddp",
      instanceIds: ["i-0"],
      warmupSteps: 5,
      measuredSteps: 20,
      jobSignature: "sig",
    });
    expect(step.phase.runs[0]?.status).toBe("assigned");
  });

  it("ends a run on its measurement and terminates its instance at once; a does-not-fit record ends it too", () => {
    const running = phase(
      [run(0, { status: "assigned", launchedAt: 1000 }), run(1, { status: "assigned", launchedAt: 1000 })],
      { status: "running", startedAt: 1000 },
    );
    const step = advanceProfilingPhase(
      running,
      observe({
        now: 1300,
        instances: [instance(0, "running"), instance(1, "running")],
        events: [measured(0), measured(1, false)],
      }),
      context,
    );
    expect(step.phase.runs.map((r) => r.status)).toEqual(["measured", "does-not-fit"]);
    expect(step.phase.runs[0]?.samplesPerSecond).toBe(10.5);
    expect(step.phase.runs[1]?.reason).toBe("out of memory on every rank");
    expect(step.actions).toContainEqual({
      kind: "terminate",
      instanceIds: ["i-0", "i-1"],
      reason: "the profile run ended",
    });
    // Instances still live: the phase ends only on a pass that sees none.
    expect(step.phase.status).toBe("running");
    const after = advanceProfilingPhase(
      step.phase,
      observe({ now: 1360, instances: [instance(0, "terminated"), instance(1, "terminated")] }),
      context,
    );
    expect(after.phase.status).toBe("done");
    expect(after.actions).toEqual([]);
    // Each run billed from its launch to the pass that ended it: 300 s at 0.36 USD per 600 s.
    expect(after.phase.spentUsd).toBeCloseTo(0.36, 6);
  });

  it("marks a run lost when its instance went away before it reported", () => {
    const running = phase([run(0, { status: "assigned", launchedAt: 1000 })], { status: "running", startedAt: 1000 });
    const step = advanceProfilingPhase(
      running,
      observe({ now: 1200, instances: [instance(0, "terminated")] }),
      context,
    );
    expect(step.phase.runs[0]?.status).toBe("lost");
    expect(step.phase.status).toBe("done");
  });

  it("stops every run and terminates every live instance once the phase's minutes passed", () => {
    const running = phase([run(0, { status: "assigned", launchedAt: 1000 })], { status: "running", startedAt: 1000 });
    const step = advanceProfilingPhase(
      running,
      observe({ now: 1000 + 120 * 60, instances: [instance(0, "running")] }),
      context,
    );
    expect(step.phase.runs[0]?.status).toBe("over-time");
    expect(step.actions).toContainEqual({ kind: "terminate", instanceIds: ["i-0"], reason: "the profile run ended" });
  });

  it("stops everything when the spend plus the guard's look-ahead would pass the budget", () => {
    // 4.98 USD billed so far (priced 0.36 per 600 s, 8,300 s) plus 2 minutes of a 2.16 USD/h instance: 5.05.
    const running = phase([run(0, { status: "assigned", launchedAt: 0 })], {
      status: "running",
      startedAt: 0,
      settings: { ...phase([]).settings, maxMinutes: 1000 },
    });
    const step = advanceProfilingPhase(running, observe({ now: 8300, instances: [instance(0, "running")] }), context);
    expect(step.phase.runs[0]?.status).toBe("over-budget");
    expect(step.actions.some((a) => a.kind === "terminate")).toBe(true);
  });

  it("on cancel ends every run, terminates, and ends cancelled once nothing is live", () => {
    const running = phase([run(0, { status: "assigned", launchedAt: 1000 }), run(1)], {
      status: "running",
      startedAt: 1000,
    });
    const step = advanceProfilingPhase(
      running,
      observe({ now: 1100, instances: [instance(0, "running")], cancelRequested: true }),
      context,
    );
    expect(step.phase.runs.map((r) => r.status)).toEqual(["cancelled", "cancelled"]);
    expect(step.actions.some((a) => a.kind === "launch-profile")).toBe(false);
    const after = advanceProfilingPhase(
      step.phase,
      observe({ now: 1160, instances: [instance(0, "terminated")], cancelRequested: true }),
      context,
    );
    expect(after.phase.status).toBe("cancelled");
  });
});
