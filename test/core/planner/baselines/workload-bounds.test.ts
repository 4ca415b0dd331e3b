import { describe, expect, it } from "vitest";
import { BASELINE_NAMES, runBaseline } from "../../../../lambdas/core/planner/baselines/run-baselines.ts";
import { workloadBounds } from "../../../../lambdas/core/planner/baselines/workload-bounds.ts";
import { context, quotas, workload } from "./baseline-fixtures.ts";

describe("workloadBounds", () => {
  it("is never beaten by any baseline's plan", () => {
    for (const pInstances of [1, 2, 4]) {
      const ctx = context({ quotas: quotas(96 * pInstances) });
      const bounds = workloadBounds(ctx);
      for (const name of BASELINE_NAMES) {
        const plan = runBaseline(name, ctx);
        expect(plan.totals.expectedCostUsd, name).toBeGreaterThanOrEqual(bounds.costUsd);
        expect(plan.totals.makespanSeconds, name).toBeGreaterThanOrEqual(bounds.makespanSeconds);
      }
    }
  });

  it("is the single job's cheapest run (one node) and its boot plus fastest run (two nodes)", () => {
    const spec = workload({
      instanceTypes: { allow: ["g5.xlarge"] },
      markets: ["on-demand"],
      jobs: [{ id: "one", model: "gpt2-xl", batchSize: 16, work: { samples: 7_200 } }],
    });
    const ctx = context({ workload: spec });

    const bounds = workloadBounds(ctx);

    // Synthetic DDP rate on n A10Gs: 2 x n^0.8 x TFLOPs/312 samples/s; the fixture offers 1 and 2 nodes.
    const type = ctx.catalog.instanceTypes.find((entry) => entry.name === "g5.xlarge");
    const perGpu = (2 * (ctx.catalog.gpus[type?.gpuModel ?? ""]?.peakTflops ?? Number.NaN)) / 312;
    const price = type?.prices["us-east-1"]?.onDemandUsdPerHour ?? Number.NaN;
    expect(bounds.makespanSeconds).toBeCloseTo(300 + 7_200 / (perGpu * 2 ** 0.8), 6);
    expect(bounds.costUsd).toBeCloseTo((price * (7_200 / perGpu)) / 3600, 6);
  });
});
