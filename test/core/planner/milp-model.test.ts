import { describe, expect, it } from "vitest";
import { buildPlanModel } from "../../../lambdas/core/planner/milp-model.ts";
import { buildPlanningProblem } from "../../../lambdas/core/planner/planning-problem.ts";
import { pruneOptions } from "../../../lambdas/core/planner/prune-options.ts";
import type { TimeGrid } from "../../../lambdas/core/planner/time-grid.ts";
import { candidate, catalogOf, quotasOf, workloadOf } from "./fixtures.ts";

const catalog = catalogOf([{ name: "p4d.24xlarge", gpus: 8, vcpus: 96, onDemand: 20, spot: 8, group: "P" }]);
const workload = workloadOf({ jobs: [{ id: "a" }, { id: "b" }], objective: { kind: "min-cost", deadlineHours: 4 } });
const problem = buildPlanningProblem({
  workload,
  quotas: quotasOf({ P: { spot: 192, "on-demand": 96 } }),
  instanceTypes: catalog.instanceTypes,
  candidates: new Map(
    workload.jobs.map((job) => [
      job.id,
      [candidate(job.id, { instanceType: "p4d.24xlarge", gpusPerNode: 4, technique: "fsdp" }, 1)],
    ]),
  ),
});
const grid: TimeGrid = { slotSeconds: 3600, slots: 3, originSeconds: 300, bootSlots: 1 };

describe("buildPlanModel", () => {
  it("names columns and rows so that a person can read them, with the docstring's constraint numbers", () => {
    const model = buildPlanModel(problem, grid, pruneOptions(problem, grid), { kind: "min-cost" }, undefined);
    expect(model.columns).toContain("x_c0_p4d_24xlarge_spot_fsdp_n1g4_o0_t0");
    expect(model.columns).toContain("z_p4d_24xlarge_on_demand_t2");
    expect(model.lp).toContain(" c1_demand_c0: 2 x_c0_p4d_24xlarge_spot_fsdp_n1g4_o0_t0");
    expect(model.lp).toMatch(
      / c2_capacity_p4d_24xlarge_spot_t1: - 1 z_p4d_24xlarge_spot_t1 \+ 1 x_c0_p4d_24xlarge_spot_fsdp_n1g4_o0_t0/,
    );
    expect(model.lp).toContain(
      " c3_launch_p4d_24xlarge_spot_t0: 1 z_p4d_24xlarge_spot_t0 - 1 u_p4d_24xlarge_spot_t0 <= 0",
    );
    expect(model.lp).toContain(" c4_quota_P_spot_sm1: 96 u_p4d_24xlarge_spot_t0 <= 192");
    expect(model.lp).toContain(" 0 <= z_p4d_24xlarge_on_demand_t0 <= 1");
  });

  it("adds the makespan indicators and the budget row for min-time", () => {
    const model = buildPlanModel(
      problem,
      grid,
      pruneOptions(problem, grid),
      { kind: "min-time", budgetUsd: 50 },
      undefined,
    );
    expect(model.lp).toContain("Binaries\n a_t0 a_t1 a_t2");
    expect(model.lp).toContain(" c6_order_t0: 1 a_t0 - 1 a_t1 >= 0");
    expect(model.lp).toMatch(/ c7_budget: [^\n]*z_p4d_24xlarge_spot_t0/);
    expect(model.lp).toMatch(/<= 50\n/);
  });

  it("offers no start that would end after the deadline slot", () => {
    const model = buildPlanModel(problem, grid, pruneOptions(problem, grid), { kind: "min-cost" }, undefined);
    // 1 h on demand fills one slot; on spot the interruption overhead stretches it into two.
    expect(model.columns.filter((name) => name.startsWith("x_c0_p4d_24xlarge_on_demand"))).toEqual([
      "x_c0_p4d_24xlarge_on_demand_fsdp_n1g4_o1_t0",
      "x_c0_p4d_24xlarge_on_demand_fsdp_n1g4_o1_t1",
      "x_c0_p4d_24xlarge_on_demand_fsdp_n1g4_o1_t2",
    ]);
    expect(model.columns.filter((name) => name.startsWith("x_c0_p4d_24xlarge_spot"))).toEqual([
      "x_c0_p4d_24xlarge_spot_fsdp_n1g4_o0_t0",
      "x_c0_p4d_24xlarge_spot_fsdp_n1g4_o0_t1",
    ]);
  });
});
