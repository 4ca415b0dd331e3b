import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import { planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { candidate, catalogOf, quotasOf, seededRandom, workloadOf } from "./fixtures.ts";

const SEEDS = 40;

describe("decodePlan", () => {
  it(`turns MILP schedules that mix multi-node and shared single-node bundles in one pool into valid plans (${SEEDS} seeds)`, async () => {
    const solver = new HighsSolver();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seededRandom(1000 + seed);
      const catalog = catalogOf([{ name: "p8.big", gpus: 8, vcpus: 96, onDemand: 16, spot: 6, group: "P" }]);
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
    }
  });
});
