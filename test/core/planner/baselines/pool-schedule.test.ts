import { describe, expect, it } from "vitest";
import { poolMakespan, schedulePool } from "../../../../lambdas/core/planner/baselines/pool-schedule.ts";

describe("schedulePool", () => {
  it("runs whole-instance jobs first come, first served on the earliest free instance", () => {
    const placements = schedulePool(
      [
        { jobId: "a", gpus: 8, durationSeconds: 100 },
        { jobId: "b", gpus: 8, durationSeconds: 50 },
        { jobId: "c", gpus: 8, durationSeconds: 10 },
      ],
      { instanceCount: 2, gpusPerInstance: 8, readyAt: 5 },
    );

    expect(placements).toEqual([
      { jobId: "a", instanceIndex: 0, start: 5, end: 105 },
      { jobId: "b", instanceIndex: 1, start: 5, end: 55 },
      { jobId: "c", instanceIndex: 1, start: 55, end: 65 },
    ]);
    expect(poolMakespan(placements)).toBe(105);
  });

  it("packs small jobs onto the fullest instance that has room", () => {
    const placements = schedulePool(
      [
        { jobId: "four", gpus: 4, durationSeconds: 100 },
        { jobId: "two", gpus: 2, durationSeconds: 100 },
        { jobId: "two-more", gpus: 2, durationSeconds: 100 },
      ],
      { instanceCount: 2, gpusPerInstance: 8, readyAt: 0 },
    );

    expect(placements.map((placement) => placement.instanceIndex)).toEqual([0, 0, 0]);
    expect(placements.every((placement) => placement.start === 0)).toBe(true);
  });

  it("rejects a job that needs more GPUs than one instance has", () => {
    expect(() =>
      schedulePool([{ jobId: "huge", gpus: 16, durationSeconds: 1 }], {
        instanceCount: 4,
        gpusPerInstance: 8,
        readyAt: 0,
      }),
    ).toThrow(/job huge to need at most 8 GPUs of one instance, got 16/);
  });
});
