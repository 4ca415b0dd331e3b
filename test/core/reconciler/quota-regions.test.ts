/**
 * Quota cuts are per region: a VcpuLimitExceeded in one region lowers that region's quota
 * only, in the record, in the reconciler's launch gate and in what re-plans are given.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { runOnSimulatedCloud } from "../../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { effectiveRegionQuotas, type ReplanRequestInput } from "../../../lambdas/core/engine/execution-engine.ts";
import { InfeasibleWorkloadError } from "../../../lambdas/core/errors.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import type { ExecutionRecord, LaunchFailure } from "../../../lambdas/core/reconciler/execution-record.ts";
import { reconcile } from "../../../lambdas/core/reconciler/reconcile.ts";
import { OPEN_QUOTAS } from "../../sim/fixtures/workloads.ts";
import { context, freshRecord, instance, observed, twoJobPlan, twoJobWorkload } from "./fixtures.ts";

const HOME = "us-east-1";
const AWAY = "us-east-2";

/** Both slots on demand from t = 0: s1 in us-east-2, s2 at home. */
function twoRegionPlan(): Plan {
  const plan = twoJobPlan();
  return {
    ...plan,
    instances: plan.instances.map((slot, index) => ({
      ...slot,
      market: "on-demand" as const,
      start: 0,
      availabilityZone: undefined,
      ...(index === 0 ? { region: AWAY } : {}),
    })),
    assignments: plan.assignments.map((assignment) => ({ ...assignment, start: 240 })),
  };
}

const workload = { ...twoJobWorkload(), regions: [HOME, AWAY] };

function quotaFailure(region: string | undefined): LaunchFailure {
  return {
    clientToken: "t-quota",
    kind: "quota",
    code: "VcpuLimitExceeded",
    instanceType: "g5.xlarge",
    market: "on-demand",
    ...(region === undefined ? {} : { region }),
    availabilityZone: undefined,
    at: 100,
  };
}

describe("quota errors across regions", () => {
  it("cut the quota of the failed launch's region to what runs there, not what runs elsewhere", () => {
    const record = freshRecord(workload, twoRegionPlan());
    const atHome = instance(record, "s2", { id: "i-home", market: "on-demand" });
    const away = instance(record, "s2", { id: "i-away", market: "on-demand", region: AWAY, tags: {} });
    const { record: next } = reconcile(
      record,
      observed(100, { launchFailures: [quotaFailure(AWAY)], instances: [atHome, away] }),
      context(workload),
    );
    expect(next.quotaCuts).toEqual([{ group: "G", market: "on-demand", vcpus: 4, region: AWAY }]);
  });

  it("cut the home region's quota when the launch named no region (single-region clouds)", () => {
    const record = freshRecord(workload, twoRegionPlan());
    const { record: next } = reconcile(
      record,
      observed(100, { launchFailures: [quotaFailure(undefined)] }),
      context(workload),
    );
    expect(next.quotaCuts).toEqual([{ group: "G", market: "on-demand", vcpus: 0, region: HOME }]);
  });

  it("hold back launches in the cut region only", () => {
    const cut: ExecutionRecord = {
      ...freshRecord(workload, twoRegionPlan()),
      quotaCuts: [{ group: "G", market: "on-demand", vcpus: 0, region: AWAY }],
    };
    const { actions } = reconcile(cut, observed(0), context(workload));
    const launched = actions.flatMap((action) => (action.kind === "launch" ? [action.slot] : []));
    expect(launched).toEqual(["s2"]);
  });
});

describe("effectiveRegionQuotas", () => {
  const base = context(workload);

  it("applies each cut in its own region and leaves the others as they were", () => {
    const { quotas, quotasByRegion } = effectiveRegionQuotas(base, [
      { group: "G", market: "spot", vcpus: 8, region: AWAY },
    ]);
    expect(quotasByRegion[AWAY]?.G.spot).toBe(8);
    expect(quotasByRegion[HOME]?.G.spot).toBe(OPEN_QUOTAS.G.spot);
    expect(quotas.G.spot).toBe(OPEN_QUOTAS.G.spot);
  });

  it("reads a cut without a region (records from before regions) as the home region's", () => {
    const { quotas, quotasByRegion } = effectiveRegionQuotas(base, [{ group: "P", market: "on-demand", vcpus: 96 }]);
    expect(quotas.P["on-demand"]).toBe(96);
    expect(quotasByRegion[AWAY]?.P["on-demand"]).toBe(OPEN_QUOTAS.P["on-demand"]);
  });
});

describe("a run whose launch in another region meets that region's quota", () => {
  it("re-plans with that region's quota cut and the home region's untouched", async () => {
    const seen: ReplanRequestInput[] = [];
    const tight = { ...OPEN_QUOTAS, G: { spot: 4096, "on-demand": 0 } };
    const result = await runOnSimulatedCloud({
      workload,
      catalog: loadCatalog(),
      plan: twoRegionPlan(),
      quotas: OPEN_QUOTAS,
      // The simulated EC2 refuses G on demand in us-east-2 only (VcpuLimitExceeded).
      sim: { quotasByRegion: { [AWAY]: tight } },
      planner: async (input) => {
        seen.push(input);
        throw new InfeasibleWorkloadError("quota", "test planner: no plan");
      },
      horizonSeconds: 3600,
    });
    expect(result.record.quotaCuts).toEqual([{ group: "G", market: "on-demand", vcpus: 0, region: AWAY }]);
    const first = seen[0];
    expect(first?.quotasByRegion?.[AWAY]?.G["on-demand"]).toBe(0);
    expect(first?.quotasByRegion?.[HOME]?.G["on-demand"]).toBe(OPEN_QUOTAS.G["on-demand"]);
    expect(first?.quotas.G["on-demand"]).toBe(OPEN_QUOTAS.G["on-demand"]);
    expect(result.instancesLeftRunning).toBe(0);
  });
});
