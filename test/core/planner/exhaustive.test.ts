import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import type { QuotaTable } from "../../../lambdas/core/planner/api.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { buildPlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import type { TimeGrid } from "../../../lambdas/core/planner/time-grid.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import type { Workload } from "../../../lambdas/core/spec/workload.ts";
import type { Market, QuotaGroup } from "../../../lambdas/core/spec/workload-schema.ts";
import { exhaustiveOptimum } from "./exhaustive-search.ts";
import { candidate, catalogOf, quotasOf, seededRandom, type TypeSpec, workloadOf } from "./fixtures.ts";

const CASES = 200;
const SLOT_SECONDS = 3600;
/**
 * Documented tolerance between the MILP's slotted objective and the exhaustive optimum
 * (docs/plan.md): the start-slot tie-break (1e-6 USD per slot per bundle) plus float noise.
 */
const TOLERANCE_USD = 1e-4;

interface RandomCase {
  readonly workload: Workload;
  readonly types: TypeSpec[];
  readonly candidates: Map<string, Candidate[]>;
  readonly quotas: QuotaTable;
}

function randomCase(seed: number): RandomCase {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const typeCount = 1 + Math.floor(random() * 4);
  const types: TypeSpec[] = Array.from({ length: typeCount }, (_, i): TypeSpec => {
    const gpus = pick([1, 2, 4, 8]);
    const onDemand = Math.round((0.5 + random() * 3 * gpus) * 100) / 100;
    return {
      name: `t${i}.x${gpus}`,
      gpus,
      vcpus: 4 * gpus,
      onDemand: random() < 0.9 ? onDemand : null,
      spot: random() < 0.7 ? Math.round(onDemand * (0.3 + 0.4 * random()) * 100) / 100 : null,
      group: pick<QuotaGroup>(["G", "P"]),
    };
  }).map((type) =>
    // Zones differ: the highest spot price is 1.6x the lowest, so the expected price (what both
    // the MILP and the exhaustive search minimise) differs from the budget price.
    type.spot === null ? type : { ...type, spotMax: Math.round(type.spot * 1.6 * 100) / 100 },
  );
  const jobCount = 1 + Math.floor(random() * 5);
  const classCount = 1 + Math.floor(random() * Math.min(3, jobCount));
  const deadlineHours = 2 + Math.floor(random() * 5);
  const jobs = Array.from({ length: jobCount }, (_, i) => ({ id: `job${i}`, cls: i % classCount }));
  const classSpecs = Array.from({ length: classCount }, () => ({
    checkpointable: random() < 0.7,
    configs: types.flatMap((type) => {
      const shapes = [1, 2, 4, 8].filter((g) => g <= type.gpus);
      const chosen = random() < 0.5 ? [pick(shapes)] : [...new Set([pick(shapes), pick(shapes)])];
      return chosen.map((gpusPerNode) => ({
        instanceType: type.name,
        gpusPerNode,
        technique: pick(["ddp", "fsdp"] as const),
        hours: random() < 0.15 ? undefined : (0.3 + random() * 3) / gpusPerNode ** 0.7,
      }));
    }),
  }));
  const workload = workloadOf({
    jobs: jobs.map((job) => ({ id: job.id, checkpointable: classSpecs[job.cls]?.checkpointable ?? true })),
    objective: { kind: "min-cost", deadlineHours },
    bootMinutes: 5,
    mipGap: 0,
  });
  const candidates = new Map<string, Candidate[]>();
  const shared = classSpecs.map((spec) => spec.configs.map((config) => candidate("class", config, config.hours)));
  for (const job of jobs) candidates.set(job.id, shared[job.cls] ?? []);
  const cells: Partial<Record<QuotaGroup, Partial<Record<Market, number>>>> = {};
  for (const group of ["G", "P"] as const) {
    for (const market of ["spot", "on-demand"] as const) {
      if (random() < 0.5) {
        const type = pick(types);
        cells[group] = { ...cells[group], [market]: type.vcpus * (1 + Math.floor(random() * 2)) };
      }
    }
  }
  return { workload, types, candidates, quotas: quotasOf(cells) };
}

const fixedGrid = (problem: { bootSeconds: number }, horizonSeconds: number): TimeGrid => ({
  slotSeconds: SLOT_SECONDS,
  slots: Math.floor((horizonSeconds - problem.bootSeconds) / SLOT_SECONDS + 1e-9),
  originSeconds: problem.bootSeconds,
  bootSlots: Math.ceil(problem.bootSeconds / SLOT_SECONDS),
});

describe("planFromCandidates against exhaustive search", () => {
  it(`matches the exhaustive optimum on ${CASES} seeded random cases of up to 5 jobs and 4 instance types`, async () => {
    const solver = new HighsSolver();
    let feasible = 0;
    let infeasible = 0;
    let continuousOnly = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const { workload, types, candidates, quotas } = randomCase(seed);
      const catalog = catalogOf(types);
      const instanceTypes = catalog.instanceTypes;
      const problem = buildPlanningProblem({ workload, quotas, instanceTypes, candidates });
      const horizon = (workload.objective.kind === "min-cost" ? workload.objective.deadlineHours : 0) * 3600;
      const grid = fixedGrid(problem, horizon);
      const expected = problem.unplaceable.length > 0 ? undefined : exhaustiveOptimum(problem, grid);
      const planned = await planFromCandidates(
        { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver },
        { instanceTypes, candidates },
        { maxOptionsPerClass: Number.POSITIVE_INFINITY, grid: fixedGrid },
      ).then(
        (result) => result,
        (error: unknown) => error as Error,
      );
      if (expected === undefined) {
        // No slotted schedule exists; a continuous-time plan (list schedule or baseline) may.
        if (planned instanceof Error) {
          expect(planned.name, `seed ${seed}`).toBe("InfeasibleWorkloadError");
          infeasible++;
        } else {
          expect(["milp", "slotted-greedy"], `seed ${seed}`).not.toContain(planned.plan.chosenFrom?.source);
          expect(validatePlan(planned.plan, { workload, catalog, quotas }), `seed ${seed}`).toEqual([]);
          expect(planned.plan.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(
            planned.plan.totals.expectedCostUsd + 1e-9,
          );
          continuousOnly++;
        }
        continue;
      }
      if (planned instanceof Error) throw new Error(`seed ${seed}: ${planned.message}`);
      const { plan } = planned;
      expect(
        Math.abs((plan.discretisation?.modelObjective ?? Number.NaN) - expected.costUsd),
        `seed ${seed}`,
      ).toBeLessThanOrEqual(TOLERANCE_USD);
      // The executed plan never costs more than the slotted model says.
      expect(plan.totals.expectedCostUsd, `seed ${seed}`).toBeLessThanOrEqual(expected.costUsd + TOLERANCE_USD);
      expect(validatePlan(plan, { workload, catalog, quotas }), `seed ${seed}`).toEqual([]);
      // The model-free bound holds for the returned (continuous-time) plan; the solver's
      // slotted bound holds for the slotted optimum.
      expect(plan.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(plan.totals.expectedCostUsd + 1e-9);
      expect(plan.discretisation?.lowerBound ?? Number.NaN, `seed ${seed}`).toBeLessThanOrEqual(
        expected.costUsd + TOLERANCE_USD,
      );
      feasible++;
    }
    // The generator must exercise both outcomes, or the comparison proves little.
    expect(feasible).toBeGreaterThan(CASES / 2);
    expect(infeasible).toBeGreaterThan(0);
    expect(feasible + infeasible + continuousOnly).toBe(CASES);
  });
});
