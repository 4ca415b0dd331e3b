/**
 * The continuous-time list schedules the planner compares with its MILP (issue 7): the
 * deadline search when the cheapest-first schedule crowds a binding quota, and the budget
 * search of min-time. Every plan returned must pass the validator.
 */
import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import type { Catalog } from "../../../lambdas/core/catalog/types.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import {
  listScheduleByDeadline,
  listSchedulePlan,
  listScheduleWithinBudget,
} from "../../../lambdas/core/planner/list-schedule.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { buildPlanningProblem, type PlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import type { Workload } from "../../../lambdas/core/spec/workload.ts";
import { candidate, catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

/** One instance of either type at a time (the quota cell admits 4 vCPUs): a slow cheap type and a fast dear one. */
function crowdedCase(objective: unknown): {
  problem: PlanningProblem;
  workload: Workload;
  catalog: Catalog;
  candidates: Map<string, Candidate[]>;
} {
  const catalog = catalogOf([
    { name: "slow.x1", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
    { name: "fast.x1", gpus: 1, vcpus: 4, onDemand: 10, spot: null },
  ]);
  const jobs = ["a", "b", "c", "d"].map((id) => ({ id }));
  const workload = workloadOf({ jobs, objective, markets: ["on-demand"], bootMinutes: 5 });
  const candidates = new Map<string, Candidate[]>(
    jobs.map(({ id }) => [
      id,
      [candidate(id, { instanceType: "slow.x1" }, 10), candidate(id, { instanceType: "fast.x1" }, 2)],
    ]),
  );
  const problem = buildPlanningProblem({
    workload,
    quotas: quotasOf({ G: { "on-demand": 4 } }),
    instanceTypes: catalog.instanceTypes,
    candidates,
  });
  return { problem, workload, catalog, candidates };
}

describe("listScheduleByDeadline", () => {
  it("fits every job before the deadline when the cheapest-first schedule crowds the quota", () => {
    const { problem, workload, catalog } = crowdedCase({ kind: "min-cost", deadlineHours: 12 });
    const deadlineSeconds = 12 * 3600;
    // Cheapest first: job a takes the slow type for 10 h and nothing else fits by 12 h.
    expect(listSchedulePlan(problem, { considered: [], deadlineSeconds })).toBeUndefined();
    const plan = listScheduleByDeadline(problem, { considered: [], deadlineSeconds });
    expect(plan).toBeDefined();
    expect(plan?.assignments).toHaveLength(4);
    expect(plan?.totals.makespanSeconds).toBeLessThanOrEqual(deadlineSeconds);
    expect(validatePlan(plan as NonNullable<typeof plan>, { workload, catalog, quotas: problem.quotas })).toEqual([]);
  });

  it("keeps the cheapest-first schedule when it already meets the deadline", () => {
    const { problem } = crowdedCase({ kind: "min-cost", deadlineHours: 48 });
    const plain = listSchedulePlan(problem, { considered: [], deadlineSeconds: 48 * 3600 });
    const searched = listScheduleByDeadline(problem, { considered: [], deadlineSeconds: 48 * 3600 });
    expect(plain).toBeDefined();
    expect(searched?.totals.expectedCostUsd).toBeCloseTo(plain?.totals.expectedCostUsd ?? Number.NaN, 9);
  });
});

describe("listScheduleWithinBudget", () => {
  it("is faster than the cheapest schedule and stays within the budget at worst-case prices", () => {
    const budgetUsd = 70;
    const { problem, workload, catalog } = crowdedCase({ kind: "min-time", budgetUsd });
    const cheapest = listSchedulePlan(problem, { considered: [] });
    const plan = listScheduleWithinBudget(problem, { considered: [], budgetUsd, lowSeconds: 0 });
    expect(cheapest).toBeDefined();
    expect(plan).toBeDefined();
    expect(plan?.totals.makespanSeconds).toBeLessThan(cheapest?.totals.makespanSeconds ?? 0);
    expect(plan?.totals.budgetCostUsd).toBeLessThanOrEqual(budgetUsd);
    expect(validatePlan(plan as NonNullable<typeof plan>, { workload, catalog, quotas: problem.quotas })).toEqual([]);
  });

  it("returns nothing when even the cheapest schedule is over the budget", () => {
    const { problem } = crowdedCase({ kind: "min-time", budgetUsd: 10 });
    expect(listScheduleWithinBudget(problem, { considered: [], budgetUsd: 10, lowSeconds: 0 })).toBeUndefined();
  });
});

describe("the slotted min-cost model under a binding quota", () => {
  it("models the fastest option of every pool when the class's fastest alone cannot meet the deadline", async () => {
    // G admits one instance at a time: four jobs on G take at least 8 h (fast.x1, 2 h each),
    // past the 7 h deadline; only spreading onto P's medium.x1 (3 h, its own quota) meets it.
    const catalog = catalogOf([
      { name: "fast.x1", gpus: 1, vcpus: 4, onDemand: 10, spot: null, group: "G" },
      { name: "cheap.x1", gpus: 1, vcpus: 4, onDemand: 1, spot: null, group: "G" },
      { name: "medium.x1", gpus: 1, vcpus: 4, onDemand: 3, spot: null, group: "P" },
    ]);
    const jobs = ["a", "b", "c", "d"].map((id) => ({ id }));
    const workload = workloadOf({ jobs, objective: { kind: "min-cost", deadlineHours: 7 }, markets: ["on-demand"] });
    const candidates = new Map<string, Candidate[]>(
      jobs.map(({ id }) => [
        id,
        [
          candidate(id, { instanceType: "fast.x1" }, 2),
          candidate(id, { instanceType: "cheap.x1" }, 5),
          candidate(id, { instanceType: "medium.x1" }, 3),
        ],
      ]),
    );
    const quotas = quotasOf({ G: { "on-demand": 4 }, P: { "on-demand": 4 } });
    const outcome = await planFromCandidates(
      { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: new HighsSolver() },
      { instanceTypes: catalog.instanceTypes, candidates },
      // The cheapest option and the fastest, both on G: without the fastest of every pool the model is infeasible.
      { maxOptionsPerClass: 2 },
    );
    const slotted = outcome.plan.chosenFrom?.compared.filter((entry) =>
      ["milp", "slotted-greedy"].includes(entry.source),
    );
    expect(slotted?.length).toBeGreaterThan(0);
    expect(outcome.plan.totals.makespanSeconds).toBeLessThanOrEqual(7 * 3600);
    expect(validatePlan(outcome.plan, { workload, catalog, quotas })).toEqual([]);
  });
});

describe("listSchedulePlan", () => {
  it("launches an instance exactly when the quota frees up, without a rounding overlap", () => {
    // One 4-vCPU instance at a time. Job a (10.8 s) ends at e = 300 + 10.8 s; job b, on the
    // other type, launches at e. (e + 300) - 300 is one bit below e in floating point: a launch
    // recomputed from b's start would overlap a's instance and break the quota.
    const catalog = catalogOf([
      { name: "first.x1", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
      { name: "second.x1", gpus: 1, vcpus: 4, onDemand: 1, spot: null },
    ]);
    const workload = workloadOf({
      jobs: [{ id: "a" }, { id: "b" }],
      objective: { kind: "min-cost", deadlineHours: 1 },
      markets: ["on-demand"],
      bootMinutes: 5,
    });
    const runtimeA = 3 / 997;
    const end = 300 + runtimeA * 3600;
    expect(end + 300 - 300).not.toBe(end);
    const candidates = new Map<string, Candidate[]>([
      ["a", [candidate("a", { instanceType: "first.x1" }, runtimeA)]],
      ["b", [candidate("b", { instanceType: "second.x1" }, 0.001)]],
    ]);
    const problem = buildPlanningProblem({
      workload,
      quotas: quotasOf({ G: { "on-demand": 4 } }),
      instanceTypes: catalog.instanceTypes,
      candidates,
    });
    const plan = listSchedulePlan(problem, { considered: [] });
    expect(plan?.instances.map((instance) => instance.start)).toEqual([0, end]);
    expect(validatePlan(plan as NonNullable<typeof plan>, { workload, catalog, quotas: problem.quotas })).toEqual([]);
  });
});
