import { describe, expect, it } from "vitest";
import { gapTarget, limitTarget, noDearerTarget, savingTarget, speedupTarget } from "../../bench/targets.ts";

describe("savingTarget", () => {
  it("passes when the plan is cheaper by at least the target share", () => {
    const row = savingTarget("w", "current practice", 0.4, 60, 100);

    expect(row.pass).toBe(true);
    expect(row.measured).toBe("40.0% cheaper ($60.00 vs $100.00)");
    expect(row.shortfall).toBeUndefined();
  });

  it("says by how many percentage points a miss falls short", () => {
    const row = savingTarget("w", "per-job cheapest", 0.15, 90, 100);

    expect(row.pass).toBe(false);
    expect(row.shortfall).toBe("5.0 percentage points short");
  });

  it("counts a missing plan as a miss, never a pass", () => {
    expect(savingTarget("w", "current practice", 0.4, undefined, 100)).toMatchObject({
      pass: false,
      measured: "no valid plan",
    });
  });
});

describe("speedupTarget", () => {
  it("compares makespans as a ratio", () => {
    expect(speedupTarget("w", 1.5, 3600, 7200)).toMatchObject({ pass: true, measured: "2.00x (1.00 h vs 2.00 h)" });
    expect(speedupTarget("w", 1.5, 3600, 4320)).toMatchObject({ pass: false, shortfall: "0.30x short" });
  });
});

describe("gapTarget and limitTarget", () => {
  it("pass at the limit and miss above it, with the excess", () => {
    expect(gapTarget("w", "min-cost", 0.03, 0.03).pass).toBe(true);
    expect(gapTarget("w", "min-cost", 0.03, 0.05)).toMatchObject({
      pass: false,
      shortfall: "2.00 percentage points over",
    });
    expect(limitTarget("w", "100 jobs planned", "s", 10, 12)).toMatchObject({
      pass: false,
      shortfall: "2.0 s over (20%)",
    });
    expect(limitTarget("w", "peak memory", "MiB", 1536, Number.NaN).pass).toBe(false);
  });
});

describe("noDearerTarget", () => {
  it("misses when a baseline that keeps the deadline is cheaper, saying by how much", () => {
    expect(noDearerTarget("w", 110, { name: "per-job-cheapest", costUsd: 100 })).toMatchObject({
      pass: false,
      shortfall: "10.0% dearer",
    });
    expect(noDearerTarget("w", 90, { name: "per-job-cheapest", costUsd: 100 }).pass).toBe(true);
  });
});
