import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import {
  applyRefresh,
  type InstanceFacts,
  REFRESH_PRICE_SOURCE,
  type RefreshData,
} from "../../../lambdas/core/catalog/apply-refresh.ts";
import { parseCatalog } from "../../../lambdas/core/catalog/catalog-schema.ts";
import { instanceType, price, sampleCatalog } from "./catalog-fixture.ts";

function refresh(overrides: Partial<RefreshData>): RefreshData {
  return {
    region: "us-east-1",
    asOf: "2026-11-27",
    onDemandUsdPerHour: {},
    spotUsdPerHourByAz: {},
    facts: {},
    ...overrides,
  };
}

const p4dFacts: InstanceFacts = {
  vcpus: 96,
  ramGiB: 1152,
  gpuName: "A100",
  gpus: 8,
  gpuMemoryGiB: 40,
  networkGbps: 400,
  efa: true,
};

const typeNamed = (outcome: ReturnType<typeof applyRefresh>, name: string) =>
  outcome.catalog.instanceTypes.find((type) => type.name === name);

describe("applyRefresh", () => {
  it("replaces a returned type's price with today's AWS price, marked fresh", () => {
    const catalog = {
      ...sampleCatalog(),
      instanceTypes: [instanceType("p4d.24xlarge", { prices: { "us-east-1": price({ stale: true }) } })],
    };
    const outcome = applyRefresh(
      catalog,
      refresh({
        onDemandUsdPerHour: { "p4d.24xlarge": 21.96 },
        spotUsdPerHourByAz: { "p4d.24xlarge": { "us-east-1b": 9.5, "us-east-1a": 6.25 } },
      }),
    );
    expect(typeNamed(outcome, "p4d.24xlarge")?.prices["us-east-1"]).toEqual({
      onDemandUsdPerHour: 21.96,
      spot: { minUsdPerHour: 6.25, maxUsdPerHour: 9.5, byAz: { "us-east-1a": 6.25, "us-east-1b": 9.5 } },
      asOf: "2026-11-27",
      source: REFRESH_PRICE_SOURCE,
      stale: false,
    });
    expect(outcome.repriced).toEqual(["p4d.24xlarge"]);
    expect(outcome.catalog.generatedAt).toBe("2026-11-27");
  });

  it("keeps a type AWS returned no price for exactly as it was, stale flag included", () => {
    const old = price({ stale: true, onDemandUsdPerHour: 98.32 });
    const catalog = {
      ...sampleCatalog(),
      instanceTypes: [instanceType("p5.48xlarge", { prices: { "us-east-1": old } })],
    };
    const outcome = applyRefresh(catalog, refresh({ onDemandUsdPerHour: { "g5.xlarge": 1.006 } }));
    expect(typeNamed(outcome, "p5.48xlarge")?.prices["us-east-1"]).toBe(old);
    expect(outcome.keptPrices).toEqual(["p5.48xlarge"]);
    expect(outcome.repriced).toEqual([]);
  });

  it("records no spot market for a type that has an on-demand price but no spot price", () => {
    const outcome = applyRefresh(sampleCatalog(), refresh({ onDemandUsdPerHour: { "g5.xlarge": 1.006 } }));
    const refreshed = typeNamed(outcome, "g5.xlarge")?.prices["us-east-1"];
    expect(refreshed?.onDemandUsdPerHour).toBe(1.006);
    expect(refreshed?.spot).toBeNull();
  });

  it("records no on-demand price for a type that has only spot prices", () => {
    const outcome = applyRefresh(
      sampleCatalog(),
      refresh({ spotUsdPerHourByAz: { "g5.xlarge": { "us-east-1a": 0.4 } } }),
    );
    const refreshed = typeNamed(outcome, "g5.xlarge")?.prices["us-east-1"];
    expect(refreshed?.onDemandUsdPerHour).toBeNull();
    expect(refreshed?.spot).toEqual({ minUsdPerHour: 0.4, maxUsdPerHour: 0.4, byAz: { "us-east-1a": 0.4 } });
  });

  it("adds a region without touching the prices of other regions", () => {
    const outcome = applyRefresh(
      sampleCatalog(),
      refresh({ region: "eu-west-1", onDemandUsdPerHour: { "p4d.24xlarge": 25 } }),
    );
    const prices = typeNamed(outcome, "p4d.24xlarge")?.prices;
    expect(Object.keys(prices ?? {}).sort()).toEqual(["eu-west-1", "us-east-1"]);
    expect(prices?.["us-east-1"]).toEqual(price());
    expect(prices?.["eu-west-1"]?.onDemandUsdPerHour).toBe(25);
  });

  it("replaces instance facts AWS described and keeps interconnect and bus bandwidth", () => {
    const outcome = applyRefresh(
      sampleCatalog(),
      refresh({
        facts: { "p4d.24xlarge": { ...p4dFacts, gpuMemoryGiB: 39.5, vcpus: 95, networkGbps: 399, efa: false } },
      }),
    );
    const type = typeNamed(outcome, "p4d.24xlarge");
    expect(type).toMatchObject({
      vcpus: 95,
      gpuMemoryGiB: 39.5,
      networkGbps: 399,
      efa: false,
      interconnect: "nvswitch",
      intraNodeBusGBps: 230,
    });
    expect(type?.source).toBe(
      "test fixture; refreshed from EC2 DescribeInstanceTypes on 2026-11-27: vCPUs, RAM, GPU count and memory, network, EFA",
    );
    expect(outcome.refreshedFacts).toEqual(["p4d.24xlarge"]);
  });

  it("keeps the catalog's network figure when AWS gives no number", () => {
    const outcome = applyRefresh(
      sampleCatalog(),
      refresh({ facts: { "p4d.24xlarge": { ...p4dFacts, networkGbps: null } } }),
    );
    expect(typeNamed(outcome, "p4d.24xlarge")?.networkGbps).toBe(400);
  });

  it("does not grow the source note on a second refresh", () => {
    const first = applyRefresh(sampleCatalog(), refresh({ facts: { "p4d.24xlarge": p4dFacts } }));
    const second = applyRefresh(first.catalog, refresh({ asOf: "2026-12-01", facts: { "p4d.24xlarge": p4dFacts } }));
    expect(typeNamed(second, "p4d.24xlarge")?.source).toBe(
      "test fixture; refreshed from EC2 DescribeInstanceTypes on 2026-12-01: vCPUs, RAM, GPU count and memory, network, EFA",
    );
  });

  it("warns and keeps the GPU model when AWS reports a different GPU", () => {
    const outcome = applyRefresh(
      sampleCatalog(),
      refresh({ facts: { "p4d.24xlarge": { ...p4dFacts, gpuName: "H100" } } }),
    );
    expect(typeNamed(outcome, "p4d.24xlarge")?.gpuModel).toBe("A100-40GB");
    expect(outcome.warnings).toEqual([
      "p4d.24xlarge: AWS reports 8 x H100 GPUs, the catalog says 8 x A100-40GB; the GPU model was kept " +
        "(its peak TFLOP/s are sourced per model); check data/catalog.json",
    ]);
  });

  it("yields a catalog that still validates when applied to the bundled catalog", () => {
    const bundled = loadCatalog();
    const outcome = applyRefresh(
      bundled,
      refresh({
        onDemandUsdPerHour: { "p5.48xlarge": 55.04 },
        spotUsdPerHourByAz: { "p5.48xlarge": { "us-east-1a": 20 } },
        facts: { "p5.48xlarge": { ...p4dFacts, gpuName: "H100", gpus: 8, vcpus: 192, gpuMemoryGiB: 80 } },
      }),
    );
    expect(() => parseCatalog(outcome.catalog)).not.toThrow();
    expect(outcome.keptPrices).toHaveLength(bundled.instanceTypes.length - 1);
    expect(outcome.warnings).toEqual([]);
  });
});
