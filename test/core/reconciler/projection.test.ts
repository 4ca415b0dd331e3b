import { describe, expect, it } from "vitest";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { type ProjectionInput, projectedSpendUsd } from "../../../lambdas/core/reconciler/projection.ts";
import { freshRecord, idleReport, instance, twoJobPlan, twoJobWorkload } from "./fixtures.ts";

/** The two-job plan with the spot slot's worst-case price 0.60 $/h next to its expected 0.42 $/h. */
function rangedPlan(): Plan {
  const plan = twoJobPlan();
  return {
    ...plan,
    instances: plan.instances.map((planned) =>
      planned.market === "spot"
        ? { ...planned, budgetHourlyPriceUsd: 0.6 }
        : { ...planned, budgetHourlyPriceUsd: planned.hourlyPriceUsd },
    ),
  };
}

function projectionAt(now: number, launched: boolean): ProjectionInput {
  const record = freshRecord(twoJobWorkload(), rangedPlan());
  const live = launched ? [instance(record, "s1", { hourlyPriceUsd: 0.5 })] : [];
  return {
    record,
    now,
    instances: live,
    bySlot: new Map(live.map((cloud) => [cloud.tags["saturn:slot"] ?? "", cloud])),
    reports: new Map([
      ["job-1", idleReport("job-1")],
      ["job-2", idleReport("job-2")],
    ]),
    // 1 sample/s in the plan: job-1 runs 7,200 s, job-2 9,000 s.
    totalSamples: new Map([
      ["job-1", 7200],
      ["job-2", 9000],
    ]),
    bootSeconds: 240,
  };
}

describe("projectedSpendUsd", () => {
  // s1 (spot) from 0 to 7,440 s; s2 (on-demand, 1.006 $/h) from 3,600 s to its planned end 13,000 s.
  const onDemandUsd = ((13000 - 3600) * 1.006) / 3600;

  it("prices slots not yet launched at the plan's expected price by default", () => {
    expect(projectedSpendUsd(projectionAt(0, false), 0, 60)).toBeCloseTo((7440 * 0.42) / 3600 + onDemandUsd, 9);
  });

  it("prices slots not yet launched at their worst-case price for the budget check", () => {
    expect(projectedSpendUsd(projectionAt(0, false), 0, 60, "budget")).toBeCloseTo(
      (7440 * 0.6) / 3600 + onDemandUsd,
      9,
    );
  });

  it("prices a live instance at what the cloud bills it, on either basis", () => {
    const billed = ((7440 - 100) * 0.5) / 3600;
    expect(projectedSpendUsd(projectionAt(100, true), 1, 60, "budget")).toBeCloseTo(1 + billed + onDemandUsd, 9);
    expect(projectedSpendUsd(projectionAt(100, true), 1, 60, "expected")).toBeCloseTo(1 + billed + onDemandUsd, 9);
  });
});
