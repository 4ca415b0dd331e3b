import { describe, expect, it } from "vitest";
import { costBreakdown } from "../../../lambdas/core/planner/cost-breakdown.ts";
import type { Assignment, PlannedInstance } from "../../../lambdas/core/planner/plan.ts";
import { recomputeCostUsd } from "../../../lambdas/core/planner/validate-plan.ts";

const instance = (id: string, start: number, end: number, hourlyPriceUsd: number): PlannedInstance => ({
  id,
  instanceType: id.startsWith("big") ? "big.x8" : "small.x1",
  market: "on-demand",
  availabilityZone: undefined,
  start,
  end,
  hourlyPriceUsd,
});

const job = (
  jobId: string,
  instanceIds: string[],
  gpusPerInstance: number,
  start: number,
  end: number,
): Assignment => ({
  jobId,
  technique: "ddp",
  instanceIds,
  gpusPerInstance,
  start,
  end,
  samplesPerSecond: 1,
  throughputSource: "estimated",
});

describe("costBreakdown", () => {
  it("splits instance cost into the jobs' GPU share, the time before the first job and idle GPUs", () => {
    // big-1: 8 GPUs at $8/h, launched at 0, boots 300 s; a 4-GPU job 300-3900 s, then an
    // 8-GPU job 3900-7500 s, end 7500 s. small-1: one GPU at $1/h, never given a job for 60 s.
    const instances = [instance("big-1", 0, 7500, 8), instance("small-1", 0, 30, 1)];
    const assignments = [job("a", ["big-1"], 4, 300, 3900), job("b", ["big-1"], 8, 3900, 7500)];
    const breakdown = costBreakdown({ instances, assignments }, (type) => (type === "big.x8" ? 8 : 1));
    // Share: $8/h x (4 x 3600 + 8 x 3600) GPU-s / 8 GPUs / 3600 = $12.
    expect(breakdown.jobsGpuShareUsd).toBeCloseTo(12, 9);
    // Before the first job: big-1 300 s at $8/h ($0.667) + small-1's 30 s at $1/h.
    expect(breakdown.beforeFirstJobUsd).toBeCloseTo((8 * 300) / 3600 + 30 / 3600, 9);
    // Idle: big-1's 4 unused GPUs for the first hour at $1/GPU-h ($4) + small-1's billed minimum beyond its 30 s.
    expect(breakdown.idleGpusUsd).toBeCloseTo(4 + 30 / 3600, 9);
    const total = breakdown.jobsGpuShareUsd + breakdown.beforeFirstJobUsd + breakdown.idleGpusUsd;
    expect(total).toBeCloseTo(recomputeCostUsd(instances), 9);
    expect(breakdown.transferUsd).toBe(0);
  });
});
