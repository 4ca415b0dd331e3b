/**
 * The LP-guided list schedule and the spot-rule bound (issue 7): the allocation LP decides
 * which classes get a binding quota cell, the list schedule packs that choice in exact time;
 * the cost bound for plans that keep the planner's spot rule prices a spot run that cannot
 * end by `spotLatestEndSeconds` at its on-demand price. Real HiGHS, tiny problems.
 */
import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import { costLowerBound, keepsSpotRule, makespanLowerBound } from "../../../lambdas/core/planner/bounds.ts";
import { listSchedulePlan } from "../../../lambdas/core/planner/list-schedule.ts";
import { lpGuidedPlan, lpGuidedWithinBudget } from "../../../lambdas/core/planner/lp-guided-schedule.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { budgetSpendUsd } from "../../../lambdas/core/planner/plan-parts.ts";
import { buildPlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import { spotLatestEndSeconds } from "../../../lambdas/core/planner/spot-overhead.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { candidate, catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

const DEADLINE_HOURS = 20;

/**
 * One spot instance of `a.x1` at a time (G spot quota 4 vCPUs), at $1/h against $10/h on
 * demand; `b.x1` is a $1.5/h on-demand type in another cell. Job x runs 11 h on either type
 * (spot saves it $5.5), job y 10.5 h on `a.x1` only (spot saves it $94.5). A spot run must end
 * by about 16.4 h, and both in turn on spot would end after the 20 h deadline, so only one
 * of them gets the spot instance.
 */
function contestedSpotCase() {
  const catalog = catalogOf([
    { name: "a.x1", gpus: 1, vcpus: 4, onDemand: 10, spot: 1, group: "G" },
    { name: "b.x1", gpus: 1, vcpus: 4, onDemand: 1.5, spot: null, group: "P" },
  ]);
  const workload = workloadOf({
    jobs: [{ id: "x" }, { id: "y" }],
    objective: { kind: "min-cost", deadlineHours: DEADLINE_HOURS },
    bootMinutes: 5,
    mipGap: 0.01,
  });
  const candidates = new Map<string, Candidate[]>([
    ["x", [candidate("x", { instanceType: "a.x1" }, 11), candidate("x", { instanceType: "b.x1" }, 11)]],
    ["y", [candidate("y", { instanceType: "a.x1" }, 10.5)]],
  ]);
  const quotas = quotasOf({ G: { spot: 4 } });
  const problem = buildPlanningProblem({ workload, quotas, instanceTypes: catalog.instanceTypes, candidates });
  const isValid = (plan: Plan) => validatePlan(plan, { workload, catalog, quotas }).length === 0;
  return { catalog, workload, candidates, quotas, problem, isValid };
}

function marketOf(plan: Plan, jobId: string): string | undefined {
  const assignment = plan.assignments.find((entry) => entry.jobId === jobId);
  return plan.instances.find((instance) => instance.id === assignment?.instanceIds[0])?.market;
}

describe("lpGuidedPlan", () => {
  it("gives the binding spot cell to the job that saves most there, where cheapest-first gives it to the first job", async () => {
    const { problem, isValid } = contestedSpotCase();
    const deadlineSeconds = DEADLINE_HOURS * 3600;
    const greedy = listSchedulePlan(problem, { considered: [], deadlineSeconds });
    expect(greedy).toBeDefined();
    // Longest first: x takes the spot instance, y pays $10/h on demand.
    expect(marketOf(greedy as Plan, "x")).toBe("spot");
    expect(marketOf(greedy as Plan, "y")).toBe("on-demand");

    const guided = await lpGuidedPlan({
      problem,
      solver: new HighsSolver(),
      deadlineSeconds,
      considered: [],
      timeLimitSeconds: 10,
      isValid,
    });
    const plan = guided.plan as Plan;
    expect(plan).toBeDefined();
    expect(isValid(plan)).toBe(true);
    expect(marketOf(plan, "y")).toBe("spot");
    expect(plan.assignments.find((entry) => entry.jobId === "x")?.instanceIds[0]).toContain("b.x1");
    expect(plan.totals.expectedCostUsd).toBeLessThan((greedy as Plan).totals.expectedCostUsd / 2);
  });

  it("is compared by the planner, whose plan is no dearer, keeps the spot rule and is above its bound", async () => {
    const { catalog, workload, candidates, quotas, problem } = contestedSpotCase();
    const result = await planFromCandidates(
      { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: new HighsSolver() },
      { instanceTypes: catalog.instanceTypes, candidates },
    );
    const plan = result.plan;
    expect(validatePlan(plan, { workload, catalog, quotas })).toEqual([]);
    const guided = plan.chosenFrom?.compared.find((entry) => entry.source === "lp-guided");
    expect(guided).toBeDefined();
    expect(plan.totals.expectedCostUsd).toBeLessThanOrEqual((guided?.costUsd ?? 0) + 1e-9);
    expect(marketOf(plan, "y")).toBe("spot");
    expect(keepsSpotRule(plan, problem, DEADLINE_HOURS * 3600)).toBe(true);
    expect(plan.lowerBound).toBeLessThanOrEqual(plan.totals.expectedCostUsd + 1e-9);
    // The bound may run part of x on spot in what the quota cell has left (it is an LP),
    // so it stays within 15% of the plan here.
    expect(plan.lowerBound).toBeGreaterThan(0.85 * plan.totals.expectedCostUsd);
  });
});

describe("lpGuidedWithinBudget", () => {
  /** The contested case judged as a min-time solve with `budgetUsd`. */
  function withinBudget(budgetUsd: number, highHours: number) {
    const { catalog, workload, quotas, problem } = contestedSpotCase();
    const timed = { ...workload, objective: { kind: "min-time" as const, budgetUsd } };
    const isValid = (plan: Plan) => validatePlan(plan, { workload: timed, catalog, quotas }).length === 0;
    return {
      problem,
      isValid,
      search: lpGuidedWithinBudget({
        problem,
        solver: new HighsSolver(),
        considered: [],
        budgetUsd,
        lowSeconds: makespanLowerBound(problem),
        highSeconds: highHours * 3600,
        stepSeconds: 10,
        secondsLeft: () => 1,
        isValid,
      }),
    };
  }

  it("finds a plan within the budget that is faster than the makespan to beat and no faster than the bound", async () => {
    // Both jobs at once (y on the spot instance, x on b.x1) end after about 11.1 h for about $28.
    const { problem, isValid, search } = withinBudget(40, 30);
    const { plan, steps } = await search;
    expect(plan).toBeDefined();
    expect(isValid(plan as Plan)).toBe(true);
    expect(budgetSpendUsd(plan as Plan)).toBeLessThanOrEqual(40);
    // At the makespan bound (boot + x's 11 h): the first step's plan already ends there.
    expect((plan as Plan).totals.makespanSeconds).toBeGreaterThanOrEqual(makespanLowerBound(problem));
    expect((plan as Plan).totals.makespanSeconds).toBeLessThan(makespanLowerBound(problem) + 600);
    expect(steps).toBeGreaterThanOrEqual(1);
  });

  it("finds nothing when no plan keeps the budget", async () => {
    // Any plan pays at least 10.5 h of y's GPU at $1/h and 11 h of x's at $1.5/h, about $27.
    const { plan } = await withinBudget(20, 30).search;
    expect(plan).toBeUndefined();
  });

  it("is compared by the planner in min-time, whose plan is no slower", async () => {
    const { catalog, workload, candidates, quotas } = contestedSpotCase();
    const timed = { ...workload, objective: { kind: "min-time" as const, budgetUsd: 40 } };
    const result = await planFromCandidates(
      { workload: timed, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: new HighsSolver() },
      { instanceTypes: catalog.instanceTypes, candidates },
    );
    expect(validatePlan(result.plan, { workload: timed, catalog, quotas })).toEqual([]);
    const compared = result.plan.chosenFrom?.compared ?? [];
    const guided = compared.find((entry) => entry.source === "lp-guided");
    expect(guided, JSON.stringify(compared)).toBeDefined();
    expect(result.plan.totals.makespanSeconds).toBeLessThanOrEqual((guided?.makespanSeconds ?? 0) + 1e-6);
    // Whichever plan wins, the reason never blames the time limit for a workload that has a plan.
    expect(result.plan.chosenFrom?.reason).not.toContain("Raise planner.timeLimitSeconds");
  });
});

describe("costLowerBound with the spot rule", () => {
  it("prices a spot run that cannot end by the spot rule's latest end at its on-demand price, and is reported only for plans that keep the rule", async () => {
    const catalog = catalogOf([{ name: "a.x1", gpus: 1, vcpus: 4, onDemand: 10, spot: 1 }]);
    const workload = workloadOf({
      jobs: [{ id: "z" }],
      objective: { kind: "min-cost", deadlineHours: DEADLINE_HOURS },
    });
    // 18 h: before the 20 h deadline, after the spot rule's latest end (about 16.4 h).
    const candidates = new Map([["z", [candidate("z", { instanceType: "a.x1" }, 18)]]]);
    const quotas = quotasOf();
    const problem = buildPlanningProblem({ workload, quotas, instanceTypes: catalog.instanceTypes, candidates });
    const solver = new HighsSolver();
    const deadlineSeconds = DEADLINE_HOURS * 3600;
    const any = await costLowerBound(problem, solver, deadlineSeconds, 10, "any");
    const ruled = await costLowerBound(problem, solver, deadlineSeconds, 10, "spot-rule");
    expect(any.usd).toBeLessThan(20);
    expect(ruled.usd).toBeCloseTo(180, 6);

    // Per-job cheapest runs z on spot anyway (it ends before the deadline): the planner never
    // returns a plan worse than a valid baseline, and for that plan it reports the bound for
    // any plan, since the spot-rule bound lies above the plan's own cost.
    const result = await planFromCandidates(
      { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver },
      { instanceTypes: catalog.instanceTypes, candidates },
    );
    expect(result.plan.chosenFrom?.source).toBe("per-job-cheapest");
    expect(keepsSpotRule(result.plan, problem, deadlineSeconds)).toBe(false);
    expect(result.plan.totals.expectedCostUsd).toBeLessThan(ruled.usd);
    expect(result.plan.lowerBound).toBeCloseTo(any.usd, 6);
    expect(result.plan.lowerBound).toBeLessThanOrEqual(result.plan.totals.expectedCostUsd + 1e-9);
  });
});

describe("keepsSpotRule", () => {
  it("holds for the planner's plan and fails once a spot run ends after its latest spot end", async () => {
    const { catalog, workload, candidates, quotas, problem } = contestedSpotCase();
    const { plan } = await planFromCandidates(
      { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: new HighsSolver() },
      { instanceTypes: catalog.instanceTypes, candidates },
    );
    const deadlineSeconds = DEADLINE_HOURS * 3600;
    expect(keepsSpotRule(plan, problem, deadlineSeconds)).toBe(true);
    const latest = spotLatestEndSeconds(deadlineSeconds, problem.bootSeconds, workload.spot);
    const late: Plan = {
      ...plan,
      assignments: plan.assignments.map((entry) => (entry.jobId === "y" ? { ...entry, end: latest + 60 } : entry)),
    };
    expect(keepsSpotRule(late, problem, deadlineSeconds)).toBe(false);
  });
});
