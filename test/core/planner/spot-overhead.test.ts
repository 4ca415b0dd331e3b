import { describe, expect, it } from "vitest";
import {
  DEFAULT_INTERRUPTION_RATE_PER_HOUR,
  FALLBACK_INTERRUPTION_RATE_PER_HOUR,
  interruptionRatePerHour,
  spotSlowdown,
} from "../../../lambdas/core/planner/spot-overhead.ts";
import { instanceType } from "./fixtures.ts";

const p4d = instanceType({ name: "p4d.24xlarge", gpus: 8, vcpus: 96, onDemand: 20, spot: 8 });
const settings = { interruptionRatePerHour: {}, checkpointIntervalMinutes: 30, restartMinutes: 10 };

describe("spotSlowdown", () => {
  it("adds rate x (checkpoint interval / 2 + restart) of expected lost time per hour", () => {
    // 0.25 / 24 per hour x (15 + 10) min
    expect(spotSlowdown(p4d, settings)).toBeCloseTo(1 + (0.25 / 24) * (25 / 60), 12);
  });

  it("takes a rate for the type before one for its family, and the family's before the default", () => {
    expect(
      interruptionRatePerHour(p4d, { ...settings, interruptionRatePerHour: { p4d: 0.1, "p4d.24xlarge": 0.3 } }),
    ).toBe(0.3);
    expect(interruptionRatePerHour(p4d, { ...settings, interruptionRatePerHour: { p4d: 0.1 } })).toBe(0.1);
    expect(interruptionRatePerHour(p4d, settings)).toBe(DEFAULT_INTERRUPTION_RATE_PER_HOUR.p4d);
  });

  it("uses the worst band for a family without a default", () => {
    const unknown = instanceType({ name: "zz9.huge", gpus: 8, vcpus: 96, onDemand: 20, spot: 8 });
    expect(interruptionRatePerHour(unknown, settings)).toBe(FALLBACK_INTERRUPTION_RATE_PER_HOUR);
  });
});
