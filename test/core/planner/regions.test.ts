/** Planning across regions: pools per (type, region, market), per-region quotas, priced data transfer. */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { resolveWorkloadQuotas } from "../../../lambdas/core/catalog/quotas.ts";
import { interRegionUsdPerGb } from "../../../lambdas/core/catalog/transfer-prices.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import { jobTransfer } from "../../../lambdas/core/planner/data-transfer.ts";
import { planWorkload } from "../../../lambdas/core/planner/plan-workload.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { parseWorkload, type Workload } from "../../../lambdas/core/spec/workload.ts";

const catalog = loadCatalog();
const solver = new HighsSolver();

function workload(overrides: Record<string, unknown> = {}, job: Record<string, unknown> = {}): Workload {
  return parseWorkload({
    name: "regions",
    region: "us-east-1",
    regions: ["us-east-1", "us-east-2"],
    objective: { kind: "min-cost", deadlineHours: 24 },
    markets: ["spot"],
    instanceTypes: { allow: ["p5.48xlarge"] },
    quotas: [{ group: "P5", market: "spot", vcpus: 192 }],
    planner: { timeLimitSeconds: 5 },
    jobs: [{ id: "j", model: "gpt-j-6b", batchSize: 32, work: { samples: 200_000 }, techniques: ["fsdp"], ...job }],
    ...overrides,
  });
}

async function plan(spec: Workload) {
  const quotas = resolveWorkloadQuotas(spec, () => undefined);
  const result = await planWorkload({
    workload: spec,
    catalog,
    quotas: quotas.quotas,
    quotasByRegion: quotas.quotasByRegion,
    profiles: new InMemoryProfileStore([]),
    solver,
  });
  const violations = validatePlan(result.plan, {
    workload: spec,
    catalog,
    quotas: quotas.quotas,
    quotasByRegion: quotas.quotasByRegion,
  });
  return { plan: result.plan, violations };
}

describe("planning across regions", () => {
  it("runs a job where spot is cheaper and charges the transfer of its data and checkpoints", async () => {
    // Bundled catalog: p5.48xlarge spot 12.12-16.10 in us-east-2 against 23.16-30.68 in us-east-1.
    const { plan: result, violations } = await plan(workload());
    expect(violations).toEqual([]);
    expect(new Set(result.instances.map((instance) => instance.region))).toEqual(new Set(["us-east-2"]));
    const transfer = result.assignments[0]?.transferUsd ?? 0;
    expect(transfer).toBeGreaterThan(0);
    expect(result.totals.transferCostUsd).toBeCloseTo(transfer, 9);
    expect(result.instances[0]?.id).toContain("us-east-2");
    // The bound prices each region's pool at its own price: at most the plan's cost, and above
    // what home prices alone would give.
    expect(result.lowerBound).toBeLessThanOrEqual(result.totals.expectedCostUsd);
    const home = await plan(workload({ regions: undefined }));
    expect(result.lowerBound).toBeLessThan(home.plan.lowerBound);
  });

  it("keeps a job at home when moving its data costs more than the cheaper region saves", async () => {
    const { plan: result, violations } = await plan(workload({}, { datasetGiB: 200_000 }));
    expect(violations).toEqual([]);
    expect(new Set(result.instances.map((instance) => instance.region))).toEqual(new Set(["us-east-1"]));
    expect(result.totals.transferCostUsd).toBeUndefined();
  });

  it("holds each region to its own quota", async () => {
    const spec = workload(
      {
        quotas: [
          { group: "P5", market: "spot", vcpus: 192, region: "us-east-1" },
          { group: "P5", market: "spot", vcpus: 0, region: "us-east-2" },
        ],
      },
      {},
    );
    const { plan: result, violations } = await plan(spec);
    expect(violations).toEqual([]);
    expect(new Set(result.instances.map((instance) => instance.region))).toEqual(new Set(["us-east-1"]));
  });

  it("plans a single-region spec exactly as before, its instances marked with the region", async () => {
    const { plan: result } = await plan(workload({ regions: undefined }));
    expect(result.instances.every((instance) => instance.region === "us-east-1")).toBe(true);
    expect(result.instances[0]?.id).toMatch(/^i\d{3}-p5\.48xlarge-spot$/);
  });

  it("rejects a plan instance in a region the workload does not plan in", async () => {
    const spec = workload();
    const { plan: result } = await plan(spec);
    const moved = { ...result, instances: result.instances.map((instance) => ({ ...instance, region: "eu-west-1" })) };
    const quotas = resolveWorkloadQuotas(spec, () => undefined);
    expect(validatePlan(moved, { workload: spec, catalog, quotas: quotas.quotas })).toContainEqual(
      expect.stringContaining("region eu-west-1 is not one of the workload's regions"),
    );
  });
});

describe("inter-region transfer", () => {
  it("prices us-east-1 <-> us-east-2 at 0.01 USD/GB and other pairs at 0.02", () => {
    expect(interRegionUsdPerGb("us-east-2", "us-east-1")).toBe(0.01);
    expect(interRegionUsdPerGb("us-west-2", "us-east-1")).toBe(0.02);
    expect(interRegionUsdPerGb("us-east-1", "us-east-1")).toBe(0);
  });

  it("moves the dataset, the starting weights and every checkpoint", () => {
    const job = workload({}, { datasetGiB: 10 }).jobs[0];
    if (job === undefined) throw new Error("expected a job");
    const parameters = job.model.parameters;
    // 2 h at a checkpoint every 30 min: 4 + 1 checkpoints of 14 bytes per parameter.
    const expected = 10 + (2 * parameters) / 1e9 + (5 * 14 * parameters) / 1e9;
    expect(jobTransfer(job, 7200, 30, "us-east-1", "us-west-2").gigabytes).toBeCloseTo(expected, 6);
    expect(jobTransfer(job, 7200, 30, "us-east-1", "us-west-2").usd).toBeCloseTo(expected * 0.02, 6);
    expect(jobTransfer(job, 7200, 30, "us-east-1", "us-east-1").usd).toBe(0);
  });
});
