import { describe, expect, it } from "vitest";
import { buildPlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import { pruneOptions } from "../../../lambdas/core/planner/prune-options.ts";
import { candidate, catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

/**
 * Ten one-GPU types, each its own on-demand pool: type k costs 1 + k $/h and runs the job in
 * 10 / sqrt(1 + k) h (a job costs 10 sqrt(1 + k) $), so the cheap types are slow and the dear
 * ones fast; none dominates another.
 */
function tenPools(objective: unknown, extra: { price: number; hours: number } | undefined = undefined) {
  const types = Array.from({ length: 10 }, (_, k) => ({
    name: `t${k}.x1`,
    gpus: 1,
    vcpus: 4,
    onDemand: 1 + k,
    spot: null,
    group: "G" as const,
  }));
  const all =
    extra === undefined
      ? types
      : [...types, { name: "slow.x1", gpus: 1, vcpus: 4, onDemand: extra.price, spot: null, group: "G" as const }];
  const catalog = catalogOf(all);
  const workload = workloadOf({ jobs: [{ id: "a" }, { id: "b" }], objective, markets: ["on-demand"] });
  const shared = [
    ...types.map((type, k) => candidate("a", { instanceType: type.name }, 10 / Math.sqrt(1 + k))),
    ...(extra === undefined ? [] : [candidate("a", { instanceType: "slow.x1" }, extra.hours)]),
  ];
  const problem = buildPlanningProblem({
    workload,
    quotas: quotasOf(),
    instanceTypes: catalog.instanceTypes,
    candidates: new Map([
      ["a", shared],
      ["b", shared],
    ]),
  });
  const grid = { slotSeconds: 600, slots: 100, originSeconds: 300, bootSlots: 1 };
  return { problem, grid };
}

const poolNames = (options: ReturnType<typeof pruneOptions>, problem: ReturnType<typeof tenPools>["problem"]) =>
  options.map((option) => problem.pools[option.poolIndex]?.type.name).sort();

describe("pruneOptions", () => {
  it("keeps the seven cheapest options per class and the fastest one (P3)", () => {
    const { problem, grid } = tenPools({ kind: "min-cost", deadlineHours: 24 });
    const kept = pruneOptions(problem, grid, 8);
    expect(problem.options).toHaveLength(10);
    expect(kept).toHaveLength(8);
    expect(poolNames(kept, problem)).toEqual(["t0.x1", "t1.x1", "t2.x1", "t3.x1", "t4.x1", "t5.x1", "t6.x1", "t9.x1"]);
  });

  it("also keeps the fastest option of the eight fastest pools when asked to (min-time, pareto)", () => {
    const { problem, grid } = tenPools({ kind: "min-time", budgetUsd: 1000 });
    const kept = pruneOptions(problem, grid, 8, true);
    // t0..t6 are the cheapest, t2..t9 the fastest pools: together all ten.
    expect(poolNames(kept, problem)).toEqual(problem.pools.map((pool) => pool.type.name).sort());
  });

  it("leaves out a pool beaten in its own quota cell on speed, price and vCPUs per job", () => {
    // slow.x1: 9 h at 30 $/h, slower and dearer than every t-type, same G on-demand cell.
    const { problem, grid } = tenPools({ kind: "min-time", budgetUsd: 1000 }, { price: 30, hours: 9 });
    expect(problem.pools).toHaveLength(11);
    expect(poolNames(pruneOptions(problem, grid, 8, true), problem)).not.toContain("slow.x1");
    expect(poolNames(pruneOptions(problem, grid, 20, true), problem)).toContain("slow.x1");
  });

  it("ends a spot run early enough to absorb one more interruption and a slower pace before the deadline", () => {
    const catalog = catalogOf([{ name: "g1.x1", gpus: 1, vcpus: 4, onDemand: 2, spot: 1 }]);
    const grid = { slotSeconds: 60, slots: 600, originSeconds: 300, bootSlots: 5 };
    // Boot 5 min + restart 10 min + 2 min reaction = 17 min, and the pace allowance:
    // a spot run must end by (deadline - 17 min) / 1.2.
    const marketsKept = (deadlineHours: number) => {
      const workload = workloadOf({ jobs: [{ id: "a" }], objective: { kind: "min-cost", deadlineHours } });
      const problem = buildPlanningProblem({
        workload,
        quotas: quotasOf(),
        instanceTypes: catalog.instanceTypes,
        candidates: new Map([["a", [candidate("a", { instanceType: "g1.x1" }, 1)]]]),
      });
      return pruneOptions(problem, grid, 8).map((option) => problem.pools[option.poolIndex]?.market);
    };
    // Spot runs 1 h x the expected interruption overhead (61 one-minute slots) from 5 min to
    // 66 min: it needs a deadline of at least 66 x 1.2 + 17 = 96.2 min.
    expect(marketsKept(97 / 60)).toEqual(["spot", "on-demand"]);
    expect(marketsKept(95 / 60)).toEqual(["on-demand"]);
    // 17 min after the run's end was enough before the pace allowance; no longer.
    expect(marketsKept(5 / 60 + 1.05 + 17 / 60)).toEqual(["on-demand"]);
  });
});
