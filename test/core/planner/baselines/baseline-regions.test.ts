/**
 * Baselines on a workload that names several regions: per-job cheapest picks a region per
 * job, transfer included (as SkyPilot does); the fixed-pool baselines rent their cluster in
 * the home region (docs/decisions.md, "Issue 10b").
 */
import { describe, expect, it } from "vitest";
import type { Catalog, InstanceType, RegionPrice } from "../../../../lambdas/core/catalog/types.ts";
import { currentPracticePlan } from "../../../../lambdas/core/planner/baselines/current-practice.ts";
import { fixedClusterPlan } from "../../../../lambdas/core/planner/baselines/fixed-cluster.ts";
import { greedyPlan } from "../../../../lambdas/core/planner/baselines/greedy.ts";
import { perJobCheapestPlan } from "../../../../lambdas/core/planner/baselines/per-job-cheapest.ts";
import { workloadBounds } from "../../../../lambdas/core/planner/baselines/workload-bounds.ts";
import { jobTransfer } from "../../../../lambdas/core/planner/data-transfer.ts";
import { validatePlan } from "../../../../lambdas/core/planner/validate-plan.ts";
import { catalog, context, quotas, workload } from "./baseline-fixtures.ts";

const HOME = "us-east-1";
const AWAY = "us-west-2";

/** The bundled catalog with every price of the named types in us-west-2 scaled by `factor` of us-east-1's. */
function catalogWithAway(factor: number, names: readonly string[]): Catalog {
  const scale = (price: RegionPrice): RegionPrice => ({
    ...price,
    onDemandUsdPerHour: price.onDemandUsdPerHour === null ? null : price.onDemandUsdPerHour * factor,
    spot:
      price.spot === null
        ? null
        : {
            minUsdPerHour: price.spot.minUsdPerHour * factor,
            maxUsdPerHour: price.spot.maxUsdPerHour * factor,
            byAz: Object.fromEntries(Object.entries(price.spot.byAz).map(([az, usd]) => [az, usd * factor])),
          },
  });
  return {
    ...catalog,
    instanceTypes: catalog.instanceTypes.map((type): InstanceType => {
      const home = type.prices[HOME];
      if (!names.includes(type.name) || home === undefined) return type;
      return { ...type, prices: { ...type.prices, [AWAY]: scale(home) } };
    }),
  };
}

const smallJobs = [{ id: "small", model: "gpt2-xl", batchSize: 16, work: { samples: 20_000 }, sweep: { lr: [1, 2] } }];
/** Not checkpointable: on demand, and one checkpoint (the final weights) to move home. */
const onDemandJobs = [{ ...smallJobs[0], checkpointable: false }];

function twoRegionWorkload(overrides: Record<string, unknown> = {}) {
  return workload({
    region: HOME,
    regions: [HOME, AWAY],
    instanceTypes: { allow: ["g5.xlarge"] },
    jobs: smallJobs,
    ...overrides,
  });
}

describe("perJobCheapestPlan across regions", () => {
  it("runs each job in the region where instances plus transfer cost least, and charges the transfer", () => {
    const spec = twoRegionWorkload({ jobs: onDemandJobs });
    const cheapAway = catalogWithAway(0.2, ["g5.xlarge"]);
    const ctx = context({
      workload: spec,
      catalog: cheapAway,
      quotasByRegion: { [HOME]: quotas(384), [AWAY]: quotas(384) },
    });
    const plan = perJobCheapestPlan(ctx);

    expect(plan.instances.map((instance) => instance.region)).toEqual([AWAY, AWAY]);
    const job = spec.jobs[0];
    if (job === undefined) throw new Error("expected a job");
    const assignment = plan.assignments.find((entry) => entry.jobId === job.id);
    const seconds = (assignment?.end ?? 0) - (assignment?.start ?? 0);
    const expected = jobTransfer(job, seconds, spec.spot.checkpointIntervalMinutes, HOME, AWAY).usd;
    expect(assignment?.transferUsd).toBeCloseTo(expected, 9);
    const total = plan.assignments.reduce((sum, entry) => sum + (entry.transferUsd ?? 0), 0);
    expect(plan.totals.transferCostUsd).toBeCloseTo(total, 9);
    expect(validatePlan(plan, ctx)).toEqual([]);
  });

  it("stays home when moving the data costs more than the other region saves", () => {
    // 1 TB of data each way costs $20 at 0.02 $/GB; a 1% cheaper g5.xlarge saves cents.
    const spec = twoRegionWorkload({
      jobs: [{ ...onDemandJobs[0], datasetGiB: 1000 }],
    });
    const plan = perJobCheapestPlan(context({ workload: spec, catalog: catalogWithAway(0.99, ["g5.xlarge"]) }));

    expect(plan.instances.every((instance) => instance.region === undefined)).toBe(true);
    expect(plan.totals.transferCostUsd).toBeUndefined();
  });

  it("keeps to each region's own quota", () => {
    const spec = twoRegionWorkload({ jobs: onDemandJobs });
    const ctx = context({
      workload: spec,
      catalog: catalogWithAway(0.2, ["g5.xlarge"]),
      quotasByRegion: { [HOME]: quotas(384), [AWAY]: quotas(384, 0) },
    });
    const plan = perJobCheapestPlan(ctx);

    expect(plan.instances.every((instance) => instance.region === undefined)).toBe(true);
  });

  it("is the single-region plan when the spec names one region", () => {
    const single = perJobCheapestPlan(context({ workload: twoRegionWorkload({ regions: [HOME] }) }));
    expect(single.instances.every((instance) => instance.region === undefined)).toBe(true);
    expect(single.totals.transferCostUsd).toBeUndefined();
  });
});

describe("the fixed-pool baselines across regions", () => {
  const spec = workload({ region: HOME, regions: [HOME, AWAY] });
  const cheapAway = catalogWithAway(0.5, ["p4d.24xlarge"]);
  const homePrice = catalog.instanceTypes.find((type) => type.name === "p4d.24xlarge")?.prices[HOME]
    ?.onDemandUsdPerHour;

  it("rent their p4d cluster in the home region, where the data is, at the home region's price", () => {
    const ctx = context({ workload: spec, catalog: cheapAway });
    for (const plan of [currentPracticePlan(ctx), fixedClusterPlan(ctx, { instances: 2 }), greedyPlan(ctx)]) {
      expect(plan.instances.every((instance) => instance.region === undefined)).toBe(true);
      expect(plan.instances.every((instance) => instance.hourlyPriceUsd === homePrice)).toBe(true);
      expect(plan.totals.transferCostUsd).toBeUndefined();
    }
  });
});

describe("workloadBounds across regions", () => {
  it("prices the cost bound at the cheapest region, so it stays below the per-job cheapest plan there", () => {
    const spec = twoRegionWorkload();
    const home = workloadBounds(context({ workload: twoRegionWorkload({ regions: [HOME] }) }));
    const ctx = context({ workload: spec, catalog: catalogWithAway(0.2, ["g5.xlarge"]) });
    const both = workloadBounds(ctx);

    expect(both.costUsd).toBeCloseTo(home.costUsd * 0.2, 6);
    expect(both.costUsd).toBeLessThanOrEqual(perJobCheapestPlan(ctx).totals.expectedCostUsd);
  });
});
