/** The reconciler and the simulated cloud with a plan that spans regions. */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { defaultSimOptions } from "../../../lambdas/adapters/sim-cloud/default-sim-options.ts";
import { SimulatedCloud } from "../../../lambdas/adapters/sim-cloud/simulated-cloud.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { reconcile } from "../../../lambdas/core/reconciler/reconcile.ts";
import { context, freshRecord, observed, twoJobPlan, twoJobWorkload } from "./fixtures.ts";

function twoRegionPlan(): Plan {
  const plan = twoJobPlan();
  return {
    ...plan,
    instances: plan.instances.map((instance, index) => ({
      ...instance,
      start: 0,
      availabilityZone: undefined,
      region: index === 0 ? "us-east-1" : "us-east-2",
    })),
  };
}

describe("the reconciler across regions", () => {
  const workload = { ...twoJobWorkload(), regions: ["us-east-1", "us-east-2"] };

  it("launches each slot in its planned region", () => {
    const { actions } = reconcile(freshRecord(workload, twoRegionPlan()), observed(0), context(workload));
    const regions = actions.flatMap((action) =>
      action.kind === "launch" ? [`${action.slot} ${action.request.region}`] : [],
    );
    expect(regions).toEqual(["s1 us-east-1", "s2 us-east-2"]);
  });

  it("counts each region against its own quota", () => {
    const tight = { G: { spot: 4, "on-demand": 4 }, P: { spot: 0, "on-demand": 0 }, P5: { spot: 0, "on-demand": 0 } };
    const plan = twoRegionPlan();
    const bothOnDemand = { ...plan, instances: plan.instances.map((i) => ({ ...i, market: "on-demand" as const })) };
    const base = context(workload);
    const perRegion = { ...base, quotas: tight, quotasByRegion: { "us-east-1": tight, "us-east-2": tight } };
    const { actions } = reconcile(freshRecord(workload, bothOnDemand), observed(0), perRegion);
    // 4 vCPUs of G on demand in each region: one g5.xlarge fits in each, though not two in one.
    expect(actions.filter((action) => action.kind === "launch")).toHaveLength(2);
  });
});

describe("the simulated cloud across regions", () => {
  it("launches in the requested region at that region's price", async () => {
    const catalog = loadCatalog();
    const cloud = new SimulatedCloud(catalog, defaultSimOptions(twoJobWorkload(), catalog), 0);
    const request = {
      instanceType: "p5.48xlarge",
      market: "on-demand" as const,
      availabilityZone: undefined,
      tags: {},
    };
    const east2 = await cloud.launch({ ...request, region: "us-east-2", clientToken: "a" });
    const home = await cloud.launch({ ...request, clientToken: "b" });
    expect(east2.region).toBe("us-east-2");
    expect(east2.availabilityZone).toBe("us-east-2a");
    expect(home.region).toBe("us-east-1");
    expect(east2.hourlyPriceUsd).toBe(55.04);
    await expect(
      cloud.launch({ ...request, instanceType: "p4de.24xlarge", region: "us-east-2", clientToken: "c" }),
    ).rejects.toThrow("Unsupported: p4de.24xlarge is not offered as on-demand in us-east-2");
  });
});
