import { describe, expect, it } from "vitest";
import { jobSignature } from "../../../lambdas/core/estimator/job-signature.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Configuration } from "../../../lambdas/core/estimator/types.ts";
import type { ConsideredCandidate, Plan } from "../../../lambdas/core/planner/plan.ts";
import { chooseProfilingRuns } from "../../../lambdas/core/planner/profiling-phase.ts";
import { catalogOf, workloadOf } from "./fixtures.ts";

// Invented prices: t.small $1/h on demand (1 GPU), t.big $4/h (4 GPUs).
const catalog = catalogOf([
  { name: "t.small", gpus: 1, vcpus: 4, onDemand: 1, spot: 0.4 },
  { name: "t.big", gpus: 4, vcpus: 16, onDemand: 4, spot: 1.6 },
  { name: "t.none", gpus: 1, vcpus: 4, onDemand: null, spot: 0.3 },
]);
// gpt2-xl, batch 8, boot 5 min: at 8 samples/s a step takes 1 s.
const workload = workloadOf({ jobs: [{ id: "a" }, { id: "b" }] });
const signature = jobSignature(workload.jobs[0] ?? (undefined as never));
const settings = { budgetUsd: 10, maxMinutes: 60, marginPercent: 15, warmupSteps: 10, measuredSteps: 20 };

function config(technique: Configuration["technique"], instanceType: string, nodes = 1): Configuration {
  return { technique, instanceType, nodes, gpusPerNode: instanceType === "t.big" ? 4 : 1 };
}

function candidate(
  c: Configuration,
  spotCost: number,
  options: { chosen?: boolean; fits?: boolean; samplesPerSecond?: number } = {},
): ConsideredCandidate {
  const fits = options.fits ?? true;
  return {
    config: c,
    fits,
    reason: fits ? undefined : "does not fit",
    samplesPerSecond: fits ? (options.samplesPerSecond ?? 8) : undefined,
    runtimeSeconds: fits ? 3600 : undefined,
    costUsd: { spot: spotCost, "on-demand": spotCost * 2.5 },
    chosen: options.chosen ?? false,
  };
}

function planWith(considered: Plan["considered"]): Plan {
  return {
    schemaVersion: 1,
    workload: "test",
    objective: "min-cost",
    instances: [],
    assignments: [],
    totals: { expectedCostUsd: 0, makespanSeconds: 0 },
    lowerBound: 0,
    gap: 0,
    solveSeconds: 0,
    considered,
  };
}

const candidates = [
  candidate(config("ddp", "t.small"), 10, { chosen: true }),
  candidate(config("fsdp", "t.small"), 11),
  candidate(config("ddp", "t.big"), 11.4),
  candidate(config("fsdp", "t.big"), 30),
  candidate(config("pipeline", "t.small"), 9, { fits: false }),
];
const none = new InMemoryProfileStore([]);

describe("chooseProfilingRuns", () => {
  it("picks the chosen configuration and those within the margin of its cost, cheapest first", () => {
    const choice = chooseProfilingRuns(planWith([{ jobId: "a", candidates }]), workload, none, settings, catalog);
    expect(choice.runs.map((run) => [run.config.technique, run.config.instanceType, run.because])).toEqual([
      ["ddp", "t.small", "chosen"],
      ["fsdp", "t.small", "within-margin"],
      ["ddp", "t.big", "within-margin"],
    ]);
    // Boot 300 s + 30 steps of 1 s, on demand: $1/h and $4/h.
    expect(choice.runs[0]?.seconds).toBeCloseTo(330, 9);
    expect(choice.runs[0]?.costUsd).toBeCloseTo(330 / 3600, 9);
    expect(choice.runs[2]?.costUsd).toBeCloseTo((330 / 3600) * 4, 9);
    expect(choice.outsideMargin).toBe(1);
    expect(choice.leftOut).toEqual([]);
    expect(choice.totalCostUsd).toBeCloseTo((330 / 3600) * 6, 9);
    expect(choice.totalSeconds).toBeCloseTo(990, 9);
  });

  it("profiles a configuration once for every job of the same signature", () => {
    const plan = planWith([
      { jobId: "a", candidates },
      { jobId: "b", candidates },
    ]);
    const choice = chooseProfilingRuns(plan, workload, none, settings, catalog);
    expect(choice.runs).toHaveLength(3);
    expect(new Set(choice.runs.map((run) => run.jobId))).toEqual(new Set(["a"]));
  });

  it("cuts the list where the dollar budget runs out, and says so", () => {
    const budget = { ...settings, budgetUsd: 0.2 };
    const choice = chooseProfilingRuns(planWith([{ jobId: "a", candidates }]), workload, none, budget, catalog);
    expect(choice.runs.map((run) => run.config.instanceType)).toEqual(["t.small", "t.small"]);
    expect(choice.leftOut).toEqual([
      { jobSignature: signature, config: config("ddp", "t.big"), reason: "over-budget", costUsd: (330 / 3600) * 4 },
    ]);
    expect(choice.totalCostUsd).toBeLessThanOrEqual(0.2);
  });

  it("cuts the list where the minutes run out", () => {
    const minutes = { ...settings, maxMinutes: 12 };
    const choice = chooseProfilingRuns(planWith([{ jobId: "a", candidates }]), workload, none, minutes, catalog);
    expect(choice.runs).toHaveLength(2);
    expect(choice.leftOut.map((entry) => entry.reason)).toEqual(["over-time"]);
  });

  it("has nothing to profile when every configuration worth measuring is measured", () => {
    const records = candidates.slice(0, 3).map((c) => ({
      jobSignature: signature,
      ...c.config,
      samplesPerSecond: 8,
      peakMemoryGiBPerGpu: 10,
      measuredAt: "2026-12-01T00:00:00Z",
      where: "sim",
    }));
    const choice = chooseProfilingRuns(
      planWith([{ jobId: "a", candidates }]),
      workload,
      new InMemoryProfileStore(records),
      settings,
      catalog,
    );
    expect(choice.runs).toEqual([]);
    expect(choice.leftOut.map((entry) => entry.reason)).toEqual([
      "already-measured",
      "already-measured",
      "already-measured",
    ]);
    expect(choice.totalCostUsd).toBe(0);
  });

  it("bills a short run at least 60 s and leaves out a type with no on-demand price", () => {
    const fast = workloadOf({ jobs: [{ id: "a" }], bootMinutes: 0 });
    const plan = planWith([
      {
        jobId: "a",
        candidates: [
          candidate(config("ddp", "t.small"), 10, { chosen: true, samplesPerSecond: 800 }),
          candidate(config("ddp", "t.none"), 10),
        ],
      },
    ]);
    const choice = chooseProfilingRuns(plan, fast, none, settings, catalog);
    expect(choice.runs.map((run) => run.seconds)).toEqual([60]);
    expect(choice.leftOut.map((entry) => [entry.config.instanceType, entry.reason])).toEqual([
      ["t.none", "no-on-demand-price"],
    ]);
  });

  it("prices a multi-node run for every node", () => {
    const plan = planWith([{ jobId: "a", candidates: [candidate(config("ddp", "t.big", 2), 10, { chosen: true })] }]);
    const choice = chooseProfilingRuns(plan, workload, none, settings, catalog);
    expect(choice.runs[0]?.costUsd).toBeCloseTo((330 / 3600) * 4 * 2, 9);
  });
});
