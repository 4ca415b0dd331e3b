import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UsageProfile } from "../../../../lambdas/core/planner/baselines/usage-profile.ts";

describe("UsageProfile", () => {
  it("fits a request at once when the capacity is free", () => {
    const profile = new UsageProfile(8);

    expect(profile.earliestFit(10, 100, 8)).toBe(10);
  });

  it("waits until enough capacity frees for the whole duration", () => {
    const profile = new UsageProfile(8);
    profile.add(0, 50, 6);
    profile.add(80, 120, 6);

    expect(profile.earliestFit(0, 20, 4)).toBe(50);
    expect(profile.earliestFit(0, 40, 4)).toBe(120);
    expect(profile.earliestFit(0, 40, 2)).toBe(0);
  });

  it("refuses a request larger than the capacity", () => {
    expect(new UsageProfile(4).earliestFit(0, 10, 5)).toBeUndefined();
  });

  it("reports the peak use over a window", () => {
    const profile = new UsageProfile(8);
    profile.add(0, 50, 2);
    profile.add(40, 60, 4);

    expect(profile.peak(0, 40)).toBe(2);
    expect(profile.peak(30, 45)).toBe(6);
    expect(profile.peak(60, 100)).toBe(0);
  });

  it("never exceeds its capacity when every request is placed at its earliest fit", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.integer({ min: 0, max: 100 }),
            duration: fc.integer({ min: 1, max: 50 }),
            amount: fc.integer({ min: 1, max: 8 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (requests) => {
          const profile = new UsageProfile(8);
          const placed: { start: number; end: number; amount: number }[] = [];
          for (const request of requests) {
            const start = profile.earliestFit(request.from, request.duration, request.amount);
            expect(start).toBeGreaterThanOrEqual(request.from);
            const end = (start as number) + request.duration;
            profile.add(start as number, end, request.amount);
            placed.push({ start: start as number, end, amount: request.amount });
          }
          for (const { start } of placed) {
            const load = placed
              .filter((other) => other.start <= start && other.end > start)
              .reduce((sum, other) => sum + other.amount, 0);
            expect(load).toBeLessThanOrEqual(8);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
