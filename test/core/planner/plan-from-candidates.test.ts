import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import type { Catalog } from "../../../lambdas/core/catalog/types.ts";
import { InfeasibleWorkloadError } from "../../../lambdas/core/errors.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../../lambdas/core/estimator/types.ts";
import type { QuotaTable, SolverPort } from "../../../lambdas/core/planner/api.ts";
import { type PlanningOutcome, planFromCandidates } from "../../../lambdas/core/planner/plan-from-candidates.ts";
import { spotSlowdown } from "../../../lambdas/core/planner/spot-overhead.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import type { Workload } from "../../../lambdas/core/spec/workload.ts";
import { candidate, catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

const solver = new HighsSolver();

async function plan(
  workload: Workload,
  catalog: Catalog,
  candidates: (jobId: string) => Candidate[],
  quotas: QuotaTable = quotasOf(),
  port: SolverPort = solver,
): Promise<PlanningOutcome> {
  const result = await planFromCandidates(
    { workload, catalog, quotas, profiles: new InMemoryProfileStore([]), solver: port },
    {
      instanceTypes: catalog.instanceTypes,
      candidates: new Map(workload.jobs.map((job) => [job.id, candidates(job.id)])),
    },
  );
  for (const p of [result.plan, ...(result.frontier ?? [])]) {
    expect(validatePlan(p, { workload, catalog, quotas })).toEqual([]);
  }
  return result;
}

const eightGpu = { name: "p8.big", gpus: 8, vcpus: 96, onDemand: 16, spot: null, group: "P" as const };
const oneGpu = { name: "g1.small", gpus: 1, vcpus: 8, onDemand: 3, spot: null, group: "G" as const };
const ids = (count: number, prefix = "job") => Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}` }));

describe("planFromCandidates", () => {
  it("packs eight 1-GPU jobs onto one 8-GPU instance when that is cheapest", async () => {
    const catalog = catalogOf([eightGpu, oneGpu]);
    const workload = workloadOf({ jobs: ids(8), objective: { kind: "min-cost", deadlineHours: 6 } });
    const { plan: result } = await plan(workload, catalog, (id) => [
      candidate(id, { instanceType: "p8.big", gpusPerNode: 1 }, 1),
      candidate(id, { instanceType: "g1.small", gpusPerNode: 1 }, 4),
    ]);
    expect(result.instances.map((instance) => instance.instanceType)).toEqual(["p8.big"]);
    expect(result.assignments.every((assignment) => assignment.instanceIds[0] === result.instances[0]?.id)).toBe(true);
    expect(new Set(result.assignments.flatMap((assignment) => assignment.gpuIndices ?? [])).size).toBe(8);
  });

  it("runs successive jobs on one running instance without a second boot when the quota admits one", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(3), objective: { kind: "min-cost", deadlineHours: 8 }, bootMinutes: 5 });
    const quotas = quotasOf({ G: { "on-demand": 8 } });
    const { plan: result } = await plan(
      workload,
      catalog,
      (id) => [candidate(id, { instanceType: "g1.small" }, 2)],
      quotas,
    );
    expect(result.instances).toHaveLength(1);
    expect(result.instances[0]?.start).toBe(0);
    expect(result.instances[0]?.end).toBeCloseTo(300 + 3 * 7200, 6);
    expect(result.totals.expectedCostUsd).toBeCloseTo((3 * (300 + 3 * 7200)) / 3600, 9);
  });

  it("never puts a job that cannot checkpoint on spot, even where spot is cheaper", async () => {
    const catalog = catalogOf([{ ...oneGpu, spot: 0.5 }]);
    const workload = workloadOf({ jobs: [{ id: "fragile", checkpointable: false }, { id: "sturdy" }] });
    const { plan: result } = await plan(workload, catalog, (id) => [candidate(id, { instanceType: "g1.small" }, 1)]);
    const marketOf = (jobId: string) =>
      result.instances.find(
        (instance) => result.assignments.find((a) => a.jobId === jobId)?.instanceIds[0] === instance.id,
      )?.market;
    expect(marketOf("fragile")).toBe("on-demand");
    expect(marketOf("sturdy")).toBe("spot");
  });

  it("stretches a spot run by the expected interruption overhead", async () => {
    const catalog = catalogOf([{ ...oneGpu, onDemand: null, spot: 0.5 }]);
    const spot = { interruptionRatePerHour: { g1: 0.5 }, checkpointIntervalMinutes: 60, restartMinutes: 30 };
    const workload = workloadOf({ jobs: ids(1), markets: ["spot"], spot });
    const { plan: result } = await plan(workload, catalog, (id) => [candidate(id, { instanceType: "g1.small" }, 2)]);
    const assignment = result.assignments[0];
    // rate 0.5/h x (60/2 + 30) min = 0.5 h lost per hour: x 1.5
    expect(spotSlowdown(catalog.instanceTypes[0] as Catalog["instanceTypes"][number], workload.spot)).toBeCloseTo(
      1.5,
      12,
    );
    expect((assignment?.end ?? 0) - (assignment?.start ?? 0)).toBeCloseTo(3 * 3600, 6);
  });

  it("keeps vCPUs within the quota by running jobs one after another", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(4), objective: { kind: "min-cost", deadlineHours: 10 } });
    const quotas = quotasOf({ G: { "on-demand": 16 } });
    const { plan: result } = await plan(
      workload,
      catalog,
      (id) => [candidate(id, { instanceType: "g1.small" }, 2)],
      quotas,
    );
    for (const assignment of result.assignments) {
      const running = result.instances.filter((i) => i.start <= assignment.start && i.end > assignment.start);
      expect(running.length).toBeLessThanOrEqual(2);
    }
    expect(result.totals.makespanSeconds).toBeGreaterThan(4 * 3600);
  });

  it("runs a multi-node job on whole instances of one type", async () => {
    const catalog = catalogOf([eightGpu]);
    const workload = workloadOf({ jobs: ids(1), objective: { kind: "min-cost", deadlineHours: 3 } });
    const { plan: result } = await plan(workload, catalog, (id) => [
      candidate(id, { instanceType: "p8.big", nodes: 2, gpusPerNode: 8, technique: "fsdp" }, 2),
      candidate(id, { instanceType: "p8.big", nodes: 1, gpusPerNode: 8, technique: "fsdp" }, 3.5),
    ]);
    expect(result.assignments[0]?.instanceIds).toHaveLength(2);
    expect(result.instances.every((instance) => instance.instanceType === "p8.big")).toBe(true);
  });

  it("names the job, its fastest configuration and the deadline when no configuration is fast enough", async () => {
    const catalog = catalogOf([eightGpu]);
    const workload = workloadOf({ jobs: [{ id: "llama-8b-lr3" }], objective: { kind: "min-cost", deadlineHours: 24 } });
    const error = await plan(workload, catalog, (id) => [
      candidate(id, { instanceType: "p8.big", gpusPerNode: 8, technique: "fsdp" }, 26.4),
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfeasibleWorkloadError);
    expect((error as InfeasibleWorkloadError).constraint).toBe("deadline");
    expect((error as Error).message).toMatch(
      /^job `llama-8b-lr3` needs at least 26\.5 h .* \(p8\.big on-demand, fsdp, 1 node x 8 GPUs, boot included\); the deadline is 24 h\. Allow p5 instances, more nodes, a later deadline/,
    );
  });

  it("names the quota that admits no instance", async () => {
    const catalog = catalogOf([eightGpu]);
    const workload = workloadOf({ jobs: ids(1), markets: ["on-demand"] });
    const error = await plan(
      workload,
      catalog,
      (id) => [candidate(id, { instanceType: "p8.big" }, 1)],
      quotasOf({ P: { "on-demand": 0 } }),
    ).catch((e: unknown) => e);
    expect((error as InfeasibleWorkloadError).constraint).toBe("quota");
    expect((error as Error).message).toContain(
      "the P on-demand quota of 0 vCPUs admits no T4 instance (p8.big needs 96)",
    );
  });

  it("says which memory limit rules a job out when nothing fits", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(1) });
    const error = await plan(workload, catalog, (id) => [candidate(id, { instanceType: "g1.small" }, undefined)]).catch(
      (e: unknown) => e,
    );
    expect((error as InfeasibleWorkloadError).constraint).toBe("memory");
    expect((error as Error).message).toContain("needs 61.2 GiB per GPU, the T4 has 16 GiB");
  });

  it("reports the quotas when jobs fit one by one but not all before the deadline", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(3), objective: { kind: "min-cost", deadlineHours: 5 } });
    const error = await plan(
      workload,
      catalog,
      (id) => [candidate(id, { instanceType: "g1.small" }, 2)],
      quotasOf({ G: { spot: 0, "on-demand": 8 } }),
    ).catch((e: unknown) => e);
    expect((error as InfeasibleWorkloadError).constraint).toBe("quota");
    expect((error as Error).message).toContain("G on-demand 8 vCPUs");
  });

  it("minimises the makespan within a budget", async () => {
    const catalog = catalogOf([oneGpu, eightGpu]);
    const workload = workloadOf({ jobs: ids(4), objective: { kind: "min-time", budgetUsd: 40 } });
    const { plan: result } = await plan(workload, catalog, (id) => [
      candidate(id, { instanceType: "g1.small" }, 4),
      candidate(id, { instanceType: "p8.big", gpusPerNode: 8 }, 0.5),
    ]);
    expect(result.totals.expectedCostUsd).toBeLessThanOrEqual(40);
    expect(result.totals.makespanSeconds).toBeLessThan(3 * 3600);
  });

  it("prices spot at its expected price and keeps a budget at the highest spot price", async () => {
    // Spot-only fast type (1-3 $/h over the zones, expected 2 $/h, 0.5 h) against an
    // on-demand slow one (1 $/h, 1 h). The fast plan's expected cost fits a $1.50 budget,
    // its worst case does not; a $2.00 budget admits it.
    const catalog = catalogOf([
      { name: "g1.fast", gpus: 1, vcpus: 8, onDemand: null, spot: 1, spotMax: 3, group: "G" },
      { name: "g1.slow", gpus: 1, vcpus: 8, onDemand: 1, spot: null, group: "G" },
    ]);
    const candidates = (id: string) => [
      candidate(id, { instanceType: "g1.fast" }, 0.5),
      candidate(id, { instanceType: "g1.slow" }, 1),
    ];
    const typeOf = (p: PlanningOutcome["plan"]) => p.instances.map((instance) => instance.instanceType);
    const tight = workloadOf({ jobs: ids(1), objective: { kind: "min-time", budgetUsd: 1.5 } });
    const loose = workloadOf({ jobs: ids(1), objective: { kind: "min-time", budgetUsd: 2 } });
    const { plan: slow } = await plan(tight, catalog, candidates);
    const { plan: fast } = await plan(loose, catalog, candidates);
    expect(typeOf(slow)).toEqual(["g1.slow"]);
    expect(typeOf(fast)).toEqual(["g1.fast"]);
    const spot = fast.instances[0];
    expect(spot?.hourlyPriceUsd).toBe(2);
    expect(spot?.budgetHourlyPriceUsd).toBe(3);
    const lifetime = (spot?.end ?? 0) - (spot?.start ?? 0);
    expect(fast.totals.expectedCostUsd).toBeCloseTo((2 * lifetime) / 3600, 9);
    expect(fast.totals.budgetCostUsd).toBeCloseTo((3 * lifetime) / 3600, 9);
    expect(fast.totals.expectedCostUsd).toBeLessThan(1.5);
    expect(fast.totals.budgetCostUsd).toBeGreaterThan(1.5);
    expect(fast.totals.budgetCostUsd).toBeLessThanOrEqual(2);
  });

  it("rejects a budget below the cheapest plan, naming that plan's cost", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(2), objective: { kind: "min-time", budgetUsd: 5 } });
    const error = await plan(workload, catalog, (id) => [candidate(id, { instanceType: "g1.small" }, 4)]).catch(
      (e: unknown) => e,
    );
    expect((error as InfeasibleWorkloadError).constraint).toBe("budget");
    expect((error as Error).message).toMatch(/^the cheapest plan costs \$24\.\d\d, above the \$5 budget/);
  });

  it("returns at least five non-dominated plans in pareto mode, cheapest first", async () => {
    const workload = workloadOf({ jobs: ids(6), objective: { kind: "pareto", deadlineHours: 20, points: 7 } });
    // Slow and cheap ($3 a job, one at a time) against fast and dear ($4 a job): 7 frontier points.
    const cheap = catalogOf([{ ...oneGpu, onDemand: 1 }, eightGpu]);
    const { frontier } = await plan(
      workload,
      cheap,
      (id) => [
        candidate(id, { instanceType: "g1.small" }, 3),
        candidate(id, { instanceType: "p8.big", gpusPerNode: 8 }, 0.25),
      ],
      quotasOf({ G: { "on-demand": 8 }, P: { "on-demand": 96 } }),
    );
    expect(frontier?.length).toBeGreaterThanOrEqual(5);
    const points = frontier?.map((p) => [p.totals.expectedCostUsd, p.totals.makespanSeconds] as const) ?? [];
    for (let i = 1; i < points.length; i++) {
      expect(points[i]?.[0]).toBeGreaterThan(points[i - 1]?.[0] ?? 0);
      expect(points[i]?.[1]).toBeLessThan(points[i - 1]?.[1] ?? 0);
    }
  });

  it("falls back to the greedy plan, with a warning, when the solver fails", async () => {
    const catalog = catalogOf([oneGpu]);
    const workload = workloadOf({ jobs: ids(2) });
    const broken: SolverPort = {
      solve: async () => ({
        status: "error",
        values: new Map(),
        objective: undefined,
        bound: undefined,
        seconds: 0,
        message: "abort",
      }),
    };
    const result = await plan(
      workload,
      catalog,
      (id) => [candidate(id, { instanceType: "g1.small" }, 1)],
      quotasOf(),
      broken,
    );
    expect(result.plan.discretisation?.solverStatus).toBe("error");
    expect(result.plan.assignments).toHaveLength(2);
    expect(result.warnings).toContain("solver error, greedy plan used: abort");
  });
});
