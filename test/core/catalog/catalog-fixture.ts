/** A small hand-made catalog for unit tests; prices are made up and cite nothing real. */
import type { Catalog, InstanceType, RegionPrice } from "../../../lambdas/core/catalog/types.ts";

export function price(overrides: Partial<RegionPrice> = {}): RegionPrice {
  return {
    onDemandUsdPerHour: 10,
    spot: { minUsdPerHour: 3, maxUsdPerHour: 5, byAz: {} },
    asOf: "2025-01-01",
    source: "test fixture",
    stale: false,
    ...overrides,
  };
}

export function instanceType(name: string, overrides: Partial<InstanceType> = {}): InstanceType {
  const family = name.split(".")[0] ?? name;
  return {
    name,
    family,
    gpuModel: "A100-40GB",
    gpus: 8,
    gpuMemoryGiB: 40,
    vcpus: 96,
    ramGiB: 1152,
    interconnect: "nvswitch",
    intraNodeBusGBps: 230,
    intraNodeBusSource: "test fixture",
    networkGbps: 400,
    efa: true,
    quotaGroups: { "on-demand": "P", spot: "P" },
    prices: { "us-east-1": price() },
    source: "test fixture",
    ...overrides,
  };
}

export function fixtureCatalog(types: readonly InstanceType[]): Catalog {
  return {
    schemaVersion: 1,
    generatedAt: "2025-01-01",
    gpus: {
      "A100-40GB": {
        name: "A100-40GB",
        peakTflops: 312,
        supportsBf16: true,
        memoryGiB: 40,
        memoryBandwidthGBps: 1555,
        source: "test fixture",
      },
    },
    instanceTypes: types,
  };
}

/** g5.xlarge, g5.12xlarge, p4d.24xlarge in us-east-1; p5.48xlarge and p5en.48xlarge priced only in us-west-2. */
export function sampleCatalog(): Catalog {
  const west = { "us-west-2": price({ onDemandUsdPerHour: 55 }) };
  return fixtureCatalog([
    instanceType("g5.xlarge", { gpus: 1, quotaGroups: { "on-demand": "G", spot: "G" } }),
    instanceType("g5.12xlarge", { gpus: 4, quotaGroups: { "on-demand": "G", spot: "G" } }),
    instanceType("p4d.24xlarge"),
    instanceType("p5.48xlarge", { prices: west, quotaGroups: { "on-demand": "P", spot: "P5" } }),
    instanceType("p5en.48xlarge", { prices: west, quotaGroups: { "on-demand": "P", spot: "P5" } }),
  ]);
}
