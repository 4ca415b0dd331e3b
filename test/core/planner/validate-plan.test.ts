import { describe, expect, it } from "vitest";
import type { Assignment, Plan, PlannedInstance } from "../../../lambdas/core/planner/plan.ts";
import { instanceCostUsd, validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

const catalog = catalogOf([
  { name: "g8.big", gpus: 8, vcpus: 32, onDemand: 8, spot: 3 },
  { name: "g1.small", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
]);
const workload = workloadOf({
  jobs: [{ id: "a" }, { id: "b" }, { id: "c", checkpointable: false }],
  objective: { kind: "min-cost", deadlineHours: 4 },
  bootMinutes: 5,
});
const quotas = quotasOf({ G: { spot: 64, "on-demand": 64 } });

const big: PlannedInstance = {
  id: "i1",
  instanceType: "g8.big",
  market: "spot",
  availabilityZone: undefined,
  start: 0,
  end: 300 + 3600,
  hourlyPriceUsd: 3,
};
const small: PlannedInstance = {
  id: "i2",
  instanceType: "g1.small",
  market: "on-demand",
  availabilityZone: undefined,
  start: 0,
  end: 300 + 1800,
  hourlyPriceUsd: 1,
};

function job(
  id: string,
  instanceIds: string[],
  gpus: number,
  gpuIndices: number[],
  start: number,
  end: number,
): Assignment {
  return {
    jobId: id,
    technique: "ddp",
    instanceIds,
    gpusPerInstance: gpus,
    gpuIndices,
    start,
    end,
    samplesPerSecond: 3600 / (end - start),
    throughputSource: "estimated",
  };
}

function planOf(instances: PlannedInstance[], assignments: Assignment[]): Plan {
  return {
    schemaVersion: 1,
    workload: "test",
    objective: "min-cost",
    instances,
    assignments,
    totals: {
      expectedCostUsd: instances.reduce((sum, instance) => sum + instanceCostUsd(instance), 0),
      makespanSeconds: Math.max(...assignments.map((assignment) => assignment.end)),
    },
    lowerBound: 0,
    gap: 0,
    solveSeconds: 0,
    considered: [],
  };
}

const valid = planOf(
  [big, small],
  [
    job("a", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
    job("b", ["i1"], 4, [4, 5, 6, 7], 300, 3900),
    job("c", ["i2"], 1, [0], 300, 2100),
  ],
);

describe("validatePlan", () => {
  it("accepts a plan that keeps every rule", () => {
    expect(validatePlan(valid, { workload, catalog, quotas })).toEqual([]);
  });

  it("reports a job assigned twice and a job not assigned (V1)", () => {
    const plan = planOf([big, small], [valid.assignments[0] as Assignment, valid.assignments[0] as Assignment]);
    const violations = validatePlan(plan, { workload, catalog, quotas });
    expect(violations).toContain("V1 job 'a' is assigned more than once");
    expect(violations).toContain("V1 job 'b' is not assigned");
  });

  it("reports a job that starts before its instance has booted (V2)", () => {
    const plan = planOf([big, small], [job("a", ["i1"], 4, [0, 1, 2, 3], 100, 3700), ...valid.assignments.slice(1)]);
    expect(
      validatePlan(plan, { workload, catalog, quotas }).some((v) => v.startsWith("V2 job 'a' starts at 100 s")),
    ).toBe(true);
  });

  it("reports a run too short to process the job's samples (V2)", () => {
    const short = { ...(valid.assignments[0] as Assignment), samplesPerSecond: 0.5 };
    const plan = planOf([big, small], [short, ...valid.assignments.slice(1)]);
    expect(validatePlan(plan, { workload, catalog, quotas }).some((v) => v.includes("the job needs 3600"))).toBe(true);
  });

  it("reports one GPU used by two jobs at once (V3)", () => {
    const plan = planOf(
      [big, small],
      [
        job("a", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
        job("b", ["i1"], 4, [3, 4, 5, 6], 600, 3900),
        valid.assignments[2] as Assignment,
      ],
    );
    expect(validatePlan(plan, { workload, catalog, quotas })).toContain(
      "V3 instance i1: a GPU is used by two jobs at 600 s",
    );
  });

  it("reports more GPUs in use than the instance has (V3)", () => {
    const plan = planOf(
      [big, small],
      [
        job("a", ["i1"], 8, [0, 1, 2, 3, 4, 5, 6, 7], 300, 3900),
        job("b", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
        valid.assignments[2] as Assignment,
      ],
    );
    expect(
      validatePlan(plan, { workload, catalog, quotas }).some((v) =>
        v.startsWith("V3 instance i1 (8 GPUs) runs jobs needing 12"),
      ),
    ).toBe(true);
  });

  it("reports a quota exceeded while two instances overlap (V4)", () => {
    const second = { ...big, id: "i3" };
    const plan = planOf(
      [big, second, small],
      [
        job("a", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
        job("b", ["i3"], 4, [0, 1, 2, 3], 300, 3900),
        valid.assignments[2] as Assignment,
      ],
    );
    const tight = quotasOf({ G: { spot: 32, "on-demand": 64 } });
    expect(validatePlan(plan, { workload, catalog, quotas: tight })).toContain(
      "V4 64 vCPUs of G spot instances run at 0 s; the quota is 32",
    );
  });

  it("accepts back-to-back instances at the quota, one ending as the next launches (V4)", () => {
    const first = { ...big, end: 3900 };
    const next = { ...big, id: "i3", start: 3900, end: 3900 + 300 + 3600 };
    const plan = planOf(
      [first, next, small],
      [
        job("a", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
        job("b", ["i3"], 4, [0, 1, 2, 3], 4200, 7800),
        valid.assignments[2] as Assignment,
      ],
    );
    expect(validatePlan(plan, { workload, catalog, quotas: quotasOf({ G: { spot: 32, "on-demand": 64 } }) })).toEqual(
      [],
    );
  });

  it("reports a job that cannot checkpoint on spot and a price that differs from the catalog (V5)", () => {
    const plan = planOf(
      [{ ...big, hourlyPriceUsd: 2.5 }, small],
      [
        job("a", ["i1"], 4, [0, 1, 2, 3], 300, 3900),
        job("b", ["i2"], 1, [0], 300, 2100),
        job("c", ["i1"], 4, [4, 5, 6, 7], 300, 3900),
      ],
    );
    const violations = validatePlan(plan, { workload, catalog, quotas });
    expect(violations).toContain("V5 job 'c' cannot checkpoint but runs on spot instance i1");
    expect(violations).toContain("V5 instance i1: hourly price 2.5 differs from the catalog's expected 3");
  });

  it("reports a job that ends after the deadline (V6)", () => {
    const late = planOf(
      [{ ...big, end: 5 * 3600 }, small],
      [job("a", ["i1"], 4, [0, 1, 2, 3], 300, 5 * 3600), ...valid.assignments.slice(1)],
    );
    expect(validatePlan(late, { workload, catalog, quotas })).toContain(
      "V6 the last job ends at 5.00 h, after the 4 h deadline",
    );
  });

  it("reports a plan above the budget in min-time mode (V6)", () => {
    const budgeted = { ...workload, objective: { kind: "min-time" as const, budgetUsd: 2 } };
    expect(
      validatePlan(valid, { workload: budgeted, catalog, quotas }).some((v) => v.startsWith("V6 the plan costs $")),
    ).toBe(true);
  });

  it("checks the budget at the catalog's highest spot price, not at the plan's expected price (V6)", () => {
    // Spot between 3 and 5 $/h: expected 4 $/h. The spot instance lives 3900 s.
    const ranged = catalogOf([
      { name: "g8.big", gpus: 8, vcpus: 32, onDemand: 8, spot: 3, spotMax: 5 },
      { name: "g1.small", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
    ]);
    const plan = planOf(
      [{ ...big, hourlyPriceUsd: 4, budgetHourlyPriceUsd: 5 }, small],
      valid.assignments as Assignment[],
    );
    const expected = (4 * 3900) / 3600 + (1 * 2100) / 3600;
    const worstCase = (5 * 3900) / 3600 + (1 * 2100) / 3600;
    expect(plan.totals.expectedCostUsd).toBeCloseTo(expected, 9);
    const within = { ...workload, objective: { kind: "min-time" as const, budgetUsd: worstCase + 0.01 } };
    const between = { ...workload, objective: { kind: "min-time" as const, budgetUsd: (expected + worstCase) / 2 } };
    expect(validatePlan(plan, { workload: within, catalog: ranged, quotas })).toEqual([]);
    expect(validatePlan(plan, { workload: between, catalog: ranged, quotas })).toEqual([
      `V6 the plan costs $${worstCase.toFixed(2)} at the highest spot prices, above the $${(expected + worstCase) / 2} budget`,
    ]);
    // A plan that understates its budget price is still judged at the catalog's.
    const understated = planOf(
      [{ ...big, hourlyPriceUsd: 4, budgetHourlyPriceUsd: 4 }, small],
      valid.assignments as Assignment[],
    );
    expect(validatePlan(understated, { workload: between, catalog: ranged, quotas })).toEqual([
      "V5 instance i1: budget hourly price 4 differs from the catalog's 5",
      `V6 the plan costs $${worstCase.toFixed(2)} at the highest spot prices, above the $${(expected + worstCase) / 2} budget`,
    ]);
  });

  it("reports a reported budget cost that is not the one recomputed at the budget prices (V7)", () => {
    const ranged = catalogOf([
      { name: "g8.big", gpus: 8, vcpus: 32, onDemand: 8, spot: 3, spotMax: 5 },
      { name: "g1.small", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
    ]);
    const plan = planOf(
      [{ ...big, hourlyPriceUsd: 4, budgetHourlyPriceUsd: 5 }, small],
      valid.assignments as Assignment[],
    );
    const worstCase = (5 * 3900) / 3600 + (1 * 2100) / 3600;
    const honest = { ...plan, totals: { ...plan.totals, budgetCostUsd: worstCase } };
    const understated = { ...plan, totals: { ...plan.totals, budgetCostUsd: plan.totals.expectedCostUsd } };
    expect(validatePlan(honest, { workload, catalog: ranged, quotas })).toEqual([]);
    expect(validatePlan(understated, { workload, catalog: ranged, quotas })).toEqual([
      `V7 reported budget cost $${plan.totals.expectedCostUsd} differs from $${worstCase} recomputed from instance lifetimes`,
    ]);
  });

  it("reports a reported cost that is not the recomputed one, with a 60 s minimum per launch (V7)", () => {
    const brief = { ...small, end: 30 };
    const plan = planOf([big, brief], valid.assignments.slice(0, 2));
    expect(instanceCostUsd(brief)).toBeCloseTo(60 / 3600, 12);
    const misreported = { ...plan, totals: { ...plan.totals, expectedCostUsd: plan.totals.expectedCostUsd - 0.01 } };
    expect(validatePlan(misreported, { workload, catalog, quotas }).some((v) => v.startsWith("V7 reported cost"))).toBe(
      true,
    );
  });
});
