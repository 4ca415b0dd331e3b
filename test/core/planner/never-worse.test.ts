/**
 * The never-worse rule (issue 7): whatever the solver manages, the planner's plan is at
 * least as good as every valid baseline plan on the same candidates, and its lowerBound is
 * never above its own cost. Baselines are computed here independently of the planner and
 * judged by the validator against the same deadline or budget.
 */
import { describe, expect, it } from "vitest";
import { heterogeneousWorkload } from "../../../bench/workloads/heterogeneous.ts";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { resolveQuotas } from "../../../lambdas/core/catalog/quotas.ts";
import type { Catalog } from "../../../lambdas/core/catalog/types.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import type { QuotaTable } from "../../../lambdas/core/planner/api.ts";
import type { BaselineContext } from "../../../lambdas/core/planner/baselines/baseline-context.ts";
import { planningBaselineContext } from "../../../lambdas/core/planner/baselines/planning-baseline-context.ts";
import { BASELINE_NAMES, runBaseline } from "../../../lambdas/core/planner/baselines/run-baselines.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { planWorkload } from "../../../lambdas/core/planner/plan-workload.ts";
import { spotSlowdown } from "../../../lambdas/core/planner/spot-overhead.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import type { Workload } from "../../../lambdas/core/spec/workload.ts";
import type { QuotaGroup } from "../../../lambdas/core/spec/workload-schema.ts";
import { candidate, catalogOf, quotasOf, seededRandom, type TypeSpec, workloadOf } from "./fixtures.ts";

const FIXTURE_CASES = 96;
const HETEROGENEOUS_CASES = 6;

interface Case {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  readonly candidates: Map<string, Candidate[]>;
}

/** Up to 8 jobs in up to 4 classes on up to 4 types (one of them named like the p4d the baselines use). */
function fixtureCase(seed: number): Case {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const typeCount = 1 + Math.floor(random() * 4);
  const types: TypeSpec[] = Array.from({ length: typeCount }, (_, i): TypeSpec => {
    const gpus = i === 0 ? 8 : pick([1, 2, 4, 8]);
    const onDemand = Math.round((0.5 + random() * 3 * gpus) * 100) / 100;
    const spot = random() < 0.7 ? Math.round(onDemand * (0.3 + 0.4 * random()) * 100) / 100 : null;
    return {
      name: i === 0 ? "p4d.24xlarge" : `t${i}.x${gpus}`,
      gpus,
      vcpus: 4 * gpus,
      onDemand,
      spot,
      ...(spot === null ? {} : { spotMax: Math.round(spot * 1.5 * 100) / 100 }),
      group: i === 0 ? "P" : pick<QuotaGroup>(["G", "P"]),
    };
  });
  const jobCount = 1 + Math.floor(random() * 8);
  const classCount = 1 + Math.floor(random() * Math.min(4, jobCount));
  const objective =
    seed % 4 === 0 ? { kind: "min-time", budgetUsd: 1e6 } : { kind: "min-cost", deadlineHours: 4 + random() * 20 };
  const classes = Array.from({ length: classCount }, () => ({
    checkpointable: random() < 0.7,
    configs: types.flatMap((type) =>
      [1, 2, 4, 8]
        .filter((g) => g <= type.gpus && random() < 0.6)
        .map((gpusPerNode) => ({
          instanceType: type.name,
          gpusPerNode,
          technique: pick(["ddp", "fsdp"] as const),
          hours: (0.2 + random() * 3) / gpusPerNode ** 0.8,
        })),
    ),
  }));
  const jobs = Array.from({ length: jobCount }, (_, i) => ({ id: `job${i}`, cls: i % classCount }));
  const workload = workloadOf({
    jobs: jobs.map((job) => ({ id: job.id, checkpointable: classes[job.cls]?.checkpointable ?? true })),
    objective,
    // A short limit on purpose: the rule must hold whatever the solver managed.
    timeLimitSeconds: 0.3,
    mipGap: 0.5,
  });
  const shared = classes.map((spec) => spec.configs.map((config) => candidate("class", config, config.hours)));
  const candidates = new Map(jobs.map((job) => [job.id, shared[job.cls] ?? []]));
  const quotas = quotasOf({ P: { "on-demand": 32 * (1 + Math.floor(random() * 3)), spot: 32 }, G: { spot: 64 } });
  return { workload, catalog: catalogOf(types), quotas, candidates };
}

/** Valid baselines' figures, judged against the workload's own deadline or budget. */
function validBaselines(context: BaselineContext, c: Pick<Case, "workload" | "catalog" | "quotas">): Plan[] {
  return BASELINE_NAMES.flatMap((name) => {
    try {
      const plan = runBaseline(name, context);
      return validatePlan(plan, c).length === 0 ? [plan] : [];
    } catch {
      return [];
    }
  });
}

function expectNeverWorse(plan: Plan, baselines: readonly Plan[], c: Case, label: string): void {
  expect(validatePlan(plan, c), label).toEqual([]);
  const timeMode = c.workload.objective.kind === "min-time";
  const value = (p: Plan) => (timeMode ? p.totals.makespanSeconds : p.totals.expectedCostUsd);
  for (const baseline of baselines) {
    expect(value(plan), `${label}: against a baseline`).toBeLessThanOrEqual(value(baseline) * (1 + 1e-9) + 1e-9);
  }
  expect(plan.lowerBound, `${label}: lowerBound <= the plan's own figure`).toBeLessThanOrEqual(value(plan) + 1e-9);
  expect(plan.chosenFrom?.reason, label).toBeTruthy();
  expectChoicesMarked(plan, label);
}

/** The returned plan marks, for every job, exactly the configuration it is assigned (whichever plan won). */
function expectChoicesMarked(plan: Plan, label: string): void {
  const typeOf = new Map(plan.instances.map((instance) => [instance.id, instance.instanceType]));
  const byJob = new Map(plan.considered.map((entry) => [entry.jobId, entry.candidates]));
  for (const assignment of plan.assignments) {
    const chosen = (byJob.get(assignment.jobId) ?? []).filter((candidate) => candidate.chosen);
    expect(chosen.length, `${label}: ${assignment.jobId} has one chosen candidate`).toBe(1);
    expect(chosen[0]?.config, `${label}: ${assignment.jobId}'s chosen candidate`).toMatchObject({
      technique: assignment.technique,
      instanceType: typeOf.get(assignment.instanceIds[0] ?? ""),
      nodes: assignment.instanceIds.length,
      gpusPerNode: assignment.gpusPerInstance,
    });
  }
}

describe("the never-worse rule", () => {
  it(`returns a plan at least as good as every valid baseline on ${FIXTURE_CASES} seeded random workloads`, async () => {
    const solver = new HighsSolver();
    let compared = 0;
    for (let seed = 1; seed <= FIXTURE_CASES; seed++) {
      const c = fixtureCase(seed);
      const result = await planFromCandidates(
        { workload: c.workload, catalog: c.catalog, quotas: c.quotas, profiles: new InMemoryProfileStore([]), solver },
        { instanceTypes: c.catalog.instanceTypes, candidates: c.candidates },
      ).catch((error: unknown) => error as Error);
      const baselines = result instanceof Error ? [] : validBaselines(plannerRuleContext(c), c);
      if (result instanceof Error) {
        expect(result.name, `seed ${seed}`).toBe("InfeasibleWorkloadError");
        expect(validBaselines(plannerRuleContext(c), c), `seed ${seed}: no baseline is valid either`).toEqual([]);
        continue;
      }
      compared += baselines.length;
      expectNeverWorse(result.plan, baselines, c, `seed ${seed}`);
    }
    expect(compared).toBeGreaterThan(FIXTURE_CASES);
  }, 300_000);

  it(`holds on ${HETEROGENEOUS_CASES} small heterogeneous sweeps planned from the estimator`, async () => {
    const catalog = loadCatalog();
    const solver = new HighsSolver();
    for (let seed = 1; seed <= HETEROGENEOUS_CASES; seed++) {
      const generated = heterogeneousWorkload(10, seed, catalog);
      const workload: Workload = { ...generated, planner: { ...generated.planner, timeLimitSeconds: 0.5 } };
      const { quotas } = resolveQuotas(workload.quotas, undefined);
      const profiles = new InMemoryProfileStore([]);
      const { plan } = await planWorkload({ workload, catalog, quotas, profiles, solver });
      const c = { workload, catalog, quotas, candidates: new Map() };
      const baselines = validBaselines(planningBaselineContext({ workload, catalog, quotas, profiles }), c);
      expect(baselines.length, `seed ${seed}`).toBeGreaterThan(0);
      expectNeverWorse(plan, baselines, c, `heterogeneous seed ${seed}`);
    }
  }, 300_000);
});

/** The baselines' context on the fixture candidates, with the planner's spot rule. */
function plannerRuleContext(c: Case): BaselineContext {
  const types = new Map(c.catalog.instanceTypes.map((type) => [type.name, type]));
  return {
    workload: c.workload,
    catalog: c.catalog,
    quotas: c.quotas,
    candidatesFor: (job, wanted) =>
      (c.candidates.get(job.id) ?? [])
        .filter((entry) => wanted.some((type) => type.name === entry.config.instanceType))
        .map((entry) => ({ ...entry, jobId: job.id })),
    expectedRuntimeSeconds: (entry, market) => {
      const runtime = entry.runtimeSeconds ?? Number.POSITIVE_INFINITY;
      const type = types.get(entry.config.instanceType);
      return market === "spot" && type !== undefined ? runtime * spotSlowdown(type, c.workload.spot) : runtime;
    },
  };
}
