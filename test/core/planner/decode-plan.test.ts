import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { candidate, catalogOf, quotasOf, seededRandom, workloadOf } from "./fixtures.ts";

const SEEDS = 40;

describe("decodePlan", () => {
  it(`turns MILP schedules that mix multi-node and shared single-node bundles in one pool into valid plans (${SEEDS} seeds)`, async () => {
    const solver = new HighsSolver();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seededRandom(1000 + seed);
      const catalog = catalogOf([
        { name: "p8.big", gpus: 8, vcpus: 96, onDemand: 16, spot: 6, spotMax: 9, group: "P" },
      ]);
      const jobs = Array.from({ length: 2 + Math.floor(random() * 5) }, (_, i) => ({
        id: `job${i}`,
        checkpointable: random() < 0.5,
      }));
      const workload = workloadOf({
        jobs,
        objective: { kind: "min-cost", deadlineHours: 6 + Math.floor(random() * 6) },
        mipGap: 0.01,
      });
      const candidates = new Map<string, Candidate[]>(
        jobs.map((job) => {
          const base = 1 + random() * 4;
          return [
            job.id,
            [
              candidate(job.id, { instanceType: "p8.big", gpusPerNode: 2 }, base),
              candidate(job.id, { instanceType: "p8.big", gpusPerNode: 8 }, base / 3.5),
              candidate(job.id, { instanceType: "p8.big", nodes: 2, gpusPerNode: 8 }, base / (5 + random() * 2)),
            ],
          ];
        }),
      );
      const quotas = quotasOf({
        P: { "on-demand": 96 * (1 + Math.floor(random() * 3)), spot: 96 * (1 + Math.floor(random() * 3)) },
      });
      const result = await planFromCandidates(
        { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver },
        { instanceTypes: catalog.instanceTypes, candidates },
        {
          maxOptionsPerClass: Number.POSITIVE_INFINITY,
          grid: (problem, horizon) => ({
            slotSeconds: 1800,
            slots: Math.floor((horizon - problem.bootSeconds) / 1800),
            originSeconds: problem.bootSeconds,
            bootSlots: 1,
          }),
        },
      ).catch((error: unknown) => error as Error);
      if (result instanceof Error) {
        expect(result.name, `seed ${seed}`).toBe("InfeasibleWorkloadError");
        continue;
      }
      expect(
        result.warnings.filter((warning) => warning.includes("rejected by the validator")),
        `seed ${seed}`,
      ).toEqual([]);
      expect(validatePlan(result.plan, { workload, catalog, quotas }), `seed ${seed}`).toEqual([]);
      expect(result.plan.totals.expectedCostUsd, `seed ${seed}`).toBeLessThanOrEqual(
        (result.plan.discretisation?.modelObjective ?? 0) + 1e-9,
      );
      expect(idleBeforeJobs(result.plan, workload.planner.bootMinutes * 60), `seed ${seed}`).toEqual([]);
    }
  });

  it("starts each job as soon as its instances are free, ending each instance with its last job", async () => {
    // One instance at a time (quota), 1-hour slots, three 8-GPU jobs of 0.4 h: on the grid
    // they start at slots 0, 1 and 2; compacted, each starts when the one before ends.
    const catalog = catalogOf([{ name: "p8.big", gpus: 8, vcpus: 96, onDemand: 10, spot: null, group: "P" }]);
    const jobs = [{ id: "a" }, { id: "b" }, { id: "c" }];
    const workload = workloadOf({ jobs, objective: { kind: "min-cost", deadlineHours: 6 }, bootMinutes: 5, mipGap: 0 });
    const candidates = new Map<string, Candidate[]>(
      jobs.map((job) => [job.id, [candidate(job.id, { instanceType: "p8.big", gpusPerNode: 8 }, 0.4)]]),
    );
    const quotas = quotasOf({ P: { "on-demand": 96, spot: 0 } });
    const { plan } = await planFromCandidates(
      { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: new HighsSolver() },
      { instanceTypes: catalog.instanceTypes, candidates },
      {
        grid: (problem, horizon) => ({
          slotSeconds: 3600,
          slots: Math.floor((horizon - problem.bootSeconds) / 3600),
          originSeconds: problem.bootSeconds,
          bootSlots: 1,
        }),
      },
    );
    const run = 0.4 * 3600;
    expect(plan.instances).toHaveLength(1);
    expect(plan.assignments.map((assignment) => [assignment.start, assignment.end])).toEqual([
      [300, 300 + run],
      [300 + run, 300 + 2 * run],
      [300 + 2 * run, 300 + 3 * run],
    ]);
    expect(plan.instances[0]?.end).toBe(300 + 3 * run);
    expect(plan.totals.expectedCostUsd).toBeCloseTo((10 * (300 + 3 * run)) / 3600, 9);
    // The slotted model paid for three whole slots plus the boot.
    expect(plan.discretisation?.modelObjective).toBeCloseTo((10 * (300 + 3 * 3600)) / 3600, 9);
    expect(validatePlan(plan, { workload, catalog, quotas })).toEqual([]);
  });
});

/**
 * Jobs that could have started earlier: a job's start must equal the latest of, over its
 * instances, the end of the last earlier job there, or the instance's launch plus boot.
 */
function idleBeforeJobs(plan: Plan, bootSeconds: number): string[] {
  const launches = new Map(plan.instances.map((instance) => [instance.id, instance.start]));
  const problems: string[] = [];
  for (const assignment of plan.assignments) {
    const ready = assignment.instanceIds.map((id) => {
      const before = plan.assignments
        .filter((other) => other.instanceIds.includes(id) && other.end <= assignment.start + 1e-6)
        .map((other) => other.end);
      return before.length > 0 ? Math.max(...before) : (launches.get(id) ?? 0) + bootSeconds;
    });
    if (Math.abs(Math.max(...ready) - assignment.start) > 1e-6) {
      problems.push(
        `${assignment.jobId} starts at ${assignment.start}, its instances are free at ${Math.max(...ready)}`,
      );
    }
  }
  return problems;
}
