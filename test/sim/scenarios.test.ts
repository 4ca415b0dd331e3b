import { describe, expect, it } from "vitest";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { lateJobs, runScenario, testCatalog, unsettledJobs } from "./fixtures/scenario.ts";
import { planWithStub } from "./fixtures/stub-planner.ts";
import { OPEN_QUOTAS, smallWorkload } from "./fixtures/workloads.ts";

describe("execution on the simulated cloud", () => {
  it("completes every job with nothing left running when nothing goes wrong", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const result = await runScenario(workload, { sim: { seed: 1, interruptionRatePerHour: () => 0 } });
    expect(result.record.status).toBe("completed");
    expect(unsettledJobs(result)).toEqual([]);
    expect(result.instancesLeftRunning).toBe(0);
    expect(result.interruptions).toBe(0);
    expect(lateJobs(result, workload)).toEqual([]);
  });

  it("survives an interruption storm: every job completes by its deadline and nothing is left running", async () => {
    const workload = smallWorkload({ jobs: 4, objective: { kind: "min-cost", deadlineHours: 8 } });
    const result = await runScenario(workload, { sim: { seed: 7, interruptionRatePerHour: () => 2 } });
    expect(result.interruptions).toBeGreaterThanOrEqual(4);
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
    expect(lateJobs(result, workload)).toEqual([]);
    expect(result.record.replans.filter((r) => r.reason.startsWith("spot interruption")).length).toBeGreaterThan(0);
  });

  it("moves spot jobs to on-demand once their slack cannot absorb another interruption", async () => {
    const workload = smallWorkload({ jobs: 2, samples: 7200, objective: { kind: "min-cost", deadlineHours: 2.6 } });
    const result = await runScenario(workload, { sim: { seed: 11, interruptionRatePerHour: () => 1.5 } });
    const moved = Object.values(result.record.jobs).filter((job) => job.onDemandOnly).length;
    expect(moved).toBeGreaterThan(0);
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
    expect(result.cloud.allInstances().some((i) => i.market === "on-demand")).toBe(true);
  });

  it("routes around capacity errors for the preferred type and never retries the failed offer", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const preferred = planWithStub({ workload, excludedOffers: [], quotas: OPEN_QUOTAS }, testCatalog()).instances[0];
    expect(preferred).toBeDefined();
    const outage = { instanceType: preferred?.instanceType ?? "", market: preferred?.market };
    const result = await runScenario(workload, { sim: { seed: 2, capacityOutages: [outage] } });
    expect(result.record.excludedOffers).toContainEqual({ instanceType: outage.instanceType, market: outage.market });
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
    const launched = result.cloud.allInstances();
    expect(launched.some((i) => i.instanceType === outage.instanceType && i.market === outage.market)).toBe(false);
    expect(result.record.replans[0]?.reason).toContain("InsufficientInstanceCapacity");
  });

  it("lowers the quota the planner sees after VcpuLimitExceeded and still completes", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const accountQuotas = {
      G: { spot: 8, "on-demand": 4096 },
      P: { spot: 0, "on-demand": 4096 },
      P5: { spot: 0, "on-demand": 0 },
    };
    const result = await runScenario(workload, { sim: { seed: 3, quotas: accountQuotas } });
    expect(result.record.quotaCuts.some((cut) => cut.group === "G" && cut.market === "spot")).toBe(true);
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
  });

  it("re-plans when throughput runs 30% below the estimate and still meets the deadline the plan allowed", async () => {
    const workload = smallWorkload({ jobs: 2, samples: 7200, objective: { kind: "min-cost", deadlineHours: 2.8 } });
    const result = await runScenario(workload, {
      sim: { seed: 4, throughputBias: 0.7, throughputSigma: 0, interruptionRatePerHour: () => 0 },
    });
    expect(result.record.replans.some((r) => /throughput|deadline/.test(r.reason))).toBe(true);
    expect(result.record.status).toBe("completed");
    expect(lateJobs(result, workload)).toEqual([]);
    expect(result.instancesLeftRunning).toBe(0);
  });

  it("restarts a crashed worker from its checkpoint and fails a job that keeps crashing, with the reason", async () => {
    const workload = smallWorkload({ jobs: 2 });
    const crashes = [
      { jobId: "job-1", attempt: 1, afterSeconds: 2400 },
      { jobId: "job-2", attempt: 1, afterSeconds: 600 },
      { jobId: "job-2", attempt: 2, afterSeconds: 600 },
      { jobId: "job-2", attempt: 3, afterSeconds: 600 },
    ];
    const result = await runScenario(workload, {
      sim: { seed: 5, scriptedCrashes: crashes, interruptionRatePerHour: () => 0 },
    });
    expect(result.record.jobs["job-1"]?.status).toBe("done");
    expect(result.record.jobs["job-2"]?.status).toBe("failed");
    expect(result.record.jobs["job-2"]?.reason).toMatch(/worker crashed 3 times/);
    expect(result.record.status).toBe("failed");
    expect(result.instancesLeftRunning).toBe(0);
    const resumed = result.cloud.attemptHistory().filter((a) => a.jobId === "job-1");
    expect(resumed.map((a) => a.outcome)).toEqual(["failed", "completed"]);
  });

  it("never launches twice when the reconciler crashes between acting and saving its record", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const result = await runScenario(workload, {
      sim: { seed: 6, interruptionRatePerHour: () => 0.5 },
      crashBeforeSave: (pass) => pass % 3 !== 0,
    });
    expect(result.crashedPasses).toBeGreaterThan(10);
    const slots = result.cloud.allInstances().map((i) => `${i.tags[SATURN_TAGS.plan]}/${i.tags[SATURN_TAGS.slot]}`);
    expect(new Set(slots).size).toBe(slots.length);
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
  });

  it("never launches twice when the reconciler crashes right after a launch, before anything is recorded", async () => {
    const workload = smallWorkload({ jobs: 4 });
    const crashedOnce = new Set<string>();
    const result = await runScenario(workload, {
      sim: { seed: 12, interruptionRatePerHour: () => 0.5 },
      // Every launch crashes the pass that made it once: the launch happened, nothing recorded it.
      crashAfterAction: (action) => {
        if (action.kind !== "launch" || crashedOnce.has(action.request.clientToken)) return false;
        crashedOnce.add(action.request.clientToken);
        return true;
      },
    });
    expect(result.crashedPasses).toBeGreaterThanOrEqual(4);
    const slots = result.cloud.allInstances().map((i) => `${i.tags[SATURN_TAGS.plan]}/${i.tags[SATURN_TAGS.slot]}`);
    expect(new Set(slots).size).toBe(slots.length);
    expect(result.cloud.launchCalls).toBeGreaterThan(slots.length - 1);
    expect(result.record.status).toBe("completed");
    expect(result.instancesLeftRunning).toBe(0);
  });

  it("ends in the same state when every event is duplicated and reordered", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const calm = await runScenario(workload, { sim: { seed: 8, interruptionRatePerHour: () => 0.6 } });
    const chaotic = await runScenario(workload, {
      sim: { seed: 8, interruptionRatePerHour: () => 0.6, duplicateEventProbability: 1, shuffleEvents: true },
    });
    expect(chaotic.record.status).toBe("completed");
    expect(chaotic.spendUsd).toBeCloseTo(calm.spendUsd, 9);
    expect(chaotic.makespanSeconds).toBeCloseTo(calm.makespanSeconds, 6);
    expect(chaotic.cloud.allInstances().length).toBe(calm.cloud.allInstances().length);
    expect(chaotic.instancesLeftRunning).toBe(0);
  });

  it("cancels mid-run: tears everything down and keeps every job's record and checkpoint", async () => {
    const workload = smallWorkload({ jobs: 3 });
    const result = await runScenario(workload, {
      sim: { seed: 9, interruptionRatePerHour: () => 0 },
      cancelAfterSeconds: 3600,
    });
    expect(result.record.status).toBe("cancelled");
    expect(result.instancesLeftRunning).toBe(0);
    expect(Object.keys(result.record.jobs).sort()).toEqual(["job-1", "job-2", "job-3"]);
    const reports = await result.cloud.reports(["job-1", "job-2", "job-3"]);
    for (const report of reports) expect(report.checkpointSamples).toBeGreaterThan(0);
    expect(result.endedAt).toBeLessThan(3600 + 300);
  });

  it("stops cleanly before a nearly exhausted budget is crossed", async () => {
    const base = smallWorkload({ jobs: 3 });
    const cost = planWithStub({ workload: base, excludedOffers: [], quotas: OPEN_QUOTAS }, testCatalog()).totals
      .expectedCostUsd;
    const workload = smallWorkload({ jobs: 3, objective: { kind: "min-time", budgetUsd: cost * 1.01 } });
    const result = await runScenario(workload, {
      sim: { seed: 10, throughputBias: 0.8, throughputSigma: 0, interruptionRatePerHour: () => 0 },
    });
    expect(result.spendUsd).toBeLessThanOrEqual(cost * 1.01);
    expect(["completed", "stopped-for-budget"]).toContain(result.record.status);
    expect(result.record.status).toBe("stopped-for-budget");
    expect(result.record.statusReason).toMatch(/budget/);
    expect(result.instancesLeftRunning).toBe(0);
  });
});
