/**
 * Issue 10: the planner moves a job out of its home region only when the cheaper region
 * saves more than the job's inter-region transfer costs. The catalog is the bundled one
 * with one price changed: p5.48xlarge on-demand in us-west-2, set relative to the
 * transfer the planner itself charges, so the test does not depend on catalog figures.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { resolveWorkloadQuotas } from "../../../lambdas/core/catalog/quotas.ts";
import type { Catalog } from "../../../lambdas/core/catalog/types.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import { planWorkload } from "../../../lambdas/core/planner/plan-workload.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { parseWorkload, type Workload } from "../../../lambdas/core/spec/workload.ts";

const HOME = "us-east-1";
const OTHER = "us-west-2";
const TYPE = "p5.48xlarge";
const bundled = loadCatalog();
const solver = new HighsSolver();

function homePrice(): number {
  const price = bundled.instanceTypes.find((type) => type.name === TYPE)?.prices[HOME]?.onDemandUsdPerHour;
  if (price === undefined || price === null) throw new Error(`expected an on-demand price of ${TYPE} in ${HOME}`);
  return price;
}

/** The bundled catalog with TYPE's on-demand price in OTHER set to `usdPerHour`. */
function catalogWithOtherPrice(usdPerHour: number): Catalog {
  return {
    ...bundled,
    instanceTypes: bundled.instanceTypes.map((type) => {
      if (type.name !== TYPE) return type;
      const other = type.prices[OTHER];
      if (other === undefined) throw new Error(`expected ${TYPE} to have prices in ${OTHER}`);
      return { ...type, prices: { ...type.prices, [OTHER]: { ...other, onDemandUsdPerHour: usdPerHour } } };
    }),
  };
}

function workload(regions: readonly string[]): Workload {
  return parseWorkload({
    name: "transfer-decides",
    region: HOME,
    regions,
    objective: { kind: "min-cost", deadlineHours: 48 },
    markets: ["on-demand"],
    instanceTypes: { allow: [TYPE] },
    quotas: [{ group: "P", market: "on-demand", vcpus: 192 }],
    planner: { timeLimitSeconds: 2 },
    jobs: [
      {
        id: "j",
        model: "gpt-j-6b",
        batchSize: 32,
        work: { samples: 200_000 },
        techniques: ["fsdp"],
        datasetGiB: 500,
      },
    ],
  });
}

async function plan(spec: Workload, catalog: Catalog) {
  const quotas = resolveWorkloadQuotas(spec, () => undefined);
  const { plan: result } = await planWorkload({
    workload: spec,
    catalog,
    quotas: quotas.quotas,
    quotasByRegion: quotas.quotasByRegion,
    profiles: new InMemoryProfileStore([]),
    solver,
  });
  const violations = validatePlan(result, {
    workload: spec,
    catalog,
    quotas: quotas.quotas,
    quotasByRegion: quotas.quotasByRegion,
  });
  expect(violations).toEqual([]);
  return result;
}

const regionsOf = (result: { instances: readonly { region?: string }[] }) =>
  new Set(result.instances.map((instance) => instance.region));

describe("transfer pricing decides whether a job leaves its home region", () => {
  it("moves the job for a large price gap and keeps it home for a gap smaller than the transfer", async () => {
    // Large gap: the other region at half the home price. The job moves and pays its transfer.
    const half = catalogWithOtherPrice(homePrice() / 2);
    const moved = await plan(workload([HOME, OTHER]), half);
    expect(regionsOf(moved)).toEqual(new Set([OTHER]));
    const transferUsd = moved.totals.transferCostUsd ?? 0;
    expect(transferUsd).toBeGreaterThan(0);

    // The instance cost at home, from a home-only plan of the same job.
    const atHome = await plan(workload([HOME]), half);
    expect(regionsOf(atHome)).toEqual(new Set([HOME]));
    const homeInstanceUsd = atHome.totals.expectedCostUsd;
    // Same type, same runtime: the other region's instance cost scales with its price.
    expect(moved.totals.expectedCostUsd).toBeCloseTo(homeInstanceUsd / 2, 6);

    // Small gap: the other region saves only half the transfer. It is still cheaper per
    // hour, so a planner that priced transfer at 0 would move the job; this one keeps it home.
    const smallGapPrice = homePrice() * (1 - transferUsd / 2 / homeInstanceUsd);
    expect(smallGapPrice).toBeLessThan(homePrice());
    const kept = await plan(workload([HOME, OTHER]), catalogWithOtherPrice(smallGapPrice));
    expect(regionsOf(kept)).toEqual(new Set([HOME]));
    expect(kept.totals.transferCostUsd).toBeUndefined();
    expect(kept.totals.expectedCostUsd).toBeCloseTo(homeInstanceUsd, 6);
  });
});
