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

  it("marks the P-family prices of the bundled catalog stale and the G-family ones not", () => {
    const rows = catalogRows(loadCatalog(), { region: "us-east-1" });
    const staleFamilies = new Set(rows.filter((row) => row.stale).map((row) => row.family));
    expect(staleFamilies).toEqual(new Set(["p4d", "p4de", "p5", "p5en"]));
  });
});
