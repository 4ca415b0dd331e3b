import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { catalogRows } from "../../../lambdas/core/catalog/catalog-table.ts";
import { instanceType, price, sampleCatalog } from "./catalog-fixture.ts";

describe("catalogRows", () => {
  it("gives one row per type offered in the region, with per-GPU-hour prices", () => {
    const catalog = {
      ...sampleCatalog(),
      instanceTypes: [
        instanceType("g5.12xlarge", {
          gpus: 4,
          quotaGroups: { "on-demand": "G", spot: "G" },
          prices: {
            "us-east-1": price({
              onDemandUsdPerHour: 5.672,
              spot: { minUsdPerHour: 2, maxUsdPerHour: 2.8, byAz: {} },
              asOf: "2026-11-27",
              stale: true,
            }),
          },
        }),
      ],
    };
    const [row, ...rest] = catalogRows(catalog, { region: "us-east-1" });
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      instanceType: "g5.12xlarge",
      gpus: 4,
      onDemandUsdPerHour: 5.672,
      spotMinUsdPerHour: 2,
      spotMaxUsdPerHour: 2.8,
      priceAsOf: "2026-11-27",
      stale: true,
      quotaGroups: { "on-demand": "G", spot: "G" },
    });
    expect(row?.onDemandUsdPerGpuHour).toBeCloseTo(1.418, 10);
    expect(row?.spotUsdPerGpuHour).toBeCloseTo(0.7, 10);
  });

  it("filters by family", () => {
    const rows = catalogRows(sampleCatalog(), { region: "us-east-1", families: ["g5"] });
    expect(rows.map((row) => row.instanceType)).toEqual(["g5.xlarge", "g5.12xlarge"]);
  });

  it("shows null prices for a market the type is not offered in", () => {
    const catalog = {
      ...sampleCatalog(),
      instanceTypes: [instanceType("g6.4xlarge", { prices: { "us-east-1": price({ spot: null }) } })],
    };
    const [row] = catalogRows(catalog, { region: "us-east-1" });
    expect(row?.spotMinUsdPerHour).toBeNull();
    expect(row?.spotUsdPerGpuHour).toBeNull();
  });

  it("holds the post-June-2025 P prices, none stale, in each of the three bundled regions", () => {
    for (const region of ["us-east-1", "us-east-2", "us-west-2"]) {
      const rows = catalogRows(loadCatalog(), { region });
      expect(rows.filter((row) => row.stale)).toEqual([]);
      const price = (type: string) => rows.find((row) => row.instanceType === type)?.onDemandUsdPerHour;
      // AWS News Blog 2025-06-05: P4d -33%, P5 -44%, P5en -25% from 32.7726, 98.32, 84.8.
      expect(price("p4d.24xlarge")).toBeCloseTo(32.7726 * 0.67, 2);
      expect(price("p5.48xlarge")).toBe(55.04);
      expect(price("p5en.48xlarge")).toBe(63.296);
      expect(price("p6-b200.48xlarge")).toBe(113.9328);
    }
  });

  it("lists the families launched since 2025 with their GPUs", () => {
    const rows = catalogRows(loadCatalog(), { region: "us-west-2" });
    const gpus = (type: string) => {
      const row = rows.find((entry) => entry.instanceType === type);
      return row === undefined ? undefined : `${row.gpus} x ${row.gpuModel} ${row.gpuMemoryGiB}`;
    };
    expect(gpus("p5.4xlarge")).toBe("1 x H100 80");
    expect(gpus("p5e.48xlarge")).toBe("8 x H200 141");
    expect(gpus("p6-b200.48xlarge")).toBe("8 x B200 180");
    expect(gpus("p6-b300.48xlarge")).toBe("8 x B300 262");
    expect(gpus("g7.48xlarge")).toBe("8 x RTX-PRO-4500 32");
    expect(gpus("g7e.48xlarge")).toBe("8 x RTX-PRO-6000 96");
  });
});
