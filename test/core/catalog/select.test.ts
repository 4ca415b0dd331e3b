import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import {
  budgetHourlyPrice,
  expectedHourlyPrice,
  gpuHourPrice,
  hourlyPrice,
  offeredInstanceTypes,
  selectInstanceTypes,
} from "../../../lambdas/core/catalog/select.ts";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { instanceType, price, sampleCatalog } from "./catalog-fixture.ts";

const names = (types: readonly { name: string }[]) => types.map((type) => type.name);

function filter(region: string, allow: string[] | undefined, deny: string[] = []) {
  return { region, instanceTypes: { allow, deny } };
}

describe("offeredInstanceTypes", () => {
  it("returns every type priced in the region when nothing is allowed or denied", () => {
    expect(names(offeredInstanceTypes(sampleCatalog(), filter("us-east-1", undefined)))).toEqual([
      "g5.xlarge",
      "g5.12xlarge",
      "p4d.24xlarge",
    ]);
  });

  it("keeps only the types and families on the allow list", () => {
    const types = offeredInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5.12xlarge", "p4d"]));
    expect(names(types)).toEqual(["g5.12xlarge", "p4d.24xlarge"]);
  });

  it("removes denied families and exact types, deny winning over allow", () => {
    const types = offeredInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5", "p4d"], ["g5.xlarge", "p4d"]));
    expect(names(types)).toEqual(["g5.12xlarge"]);
  });

  it("matches families exactly, so p5 does not select p5en", () => {
    expect(names(offeredInstanceTypes(sampleCatalog(), filter("us-west-2", ["p5"])))).toEqual(["p5.48xlarge"]);
  });

  it("leaves out types without any price in the region", () => {
    expect(names(offeredInstanceTypes(sampleCatalog(), filter("eu-west-1", undefined)))).toEqual([]);
  });

  it("leaves out a type whose region entry has neither an on-demand nor a spot price", () => {
    const catalog = {
      ...sampleCatalog(),
      instanceTypes: [
        instanceType("g5.xlarge", { prices: { "us-east-1": price({ onDemandUsdPerHour: null, spot: null }) } }),
      ],
    };
    expect(offeredInstanceTypes(catalog, filter("us-east-1", undefined))).toEqual([]);
  });

  it("plans a type resting on unconfirmed figures only when allow names it or its family", () => {
    const catalog = loadCatalog();
    const everything = names(offeredInstanceTypes(catalog, filter("us-east-1", undefined)));
    expect(everything.filter((name) => name.startsWith("g7"))).toEqual([]);
    expect(everything).toContain("p6-b200.48xlarge");
    expect(names(offeredInstanceTypes(catalog, filter("us-east-1", ["g7e", "g7.48xlarge"])))).toEqual([
      "g7.48xlarge",
      "g7e.2xlarge",
      "g7e.4xlarge",
      "g7e.8xlarge",
      "g7e.12xlarge",
      "g7e.24xlarge",
      "g7e.48xlarge",
    ]);
  });

  it("rejects an allow entry that names no catalog type, with its path and a suggestion", () => {
    const act = () => offeredInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5", "p4d.24xlarg"]));
    expect(act).toThrow(InvalidWorkloadError);
    try {
      act();
    } catch (error) {
      expect((error as InvalidWorkloadError).issues).toEqual([
        {
          path: "instanceTypes.allow[1]",
          message:
            "expected an instance type in the catalog, got 'p4d.24xlarg'; did you mean 'p4d.24xlarge'? (see `saturn catalog`)",
        },
      ]);
    }
  });

  it("rejects a deny entry that names no catalog family, since a typo would let the type through", () => {
    expect(() => offeredInstanceTypes(sampleCatalog(), filter("us-east-1", undefined, ["p4"]))).toThrow(
      /instanceTypes\.deny\[0\]: expected an instance family in the catalog, got 'p4'; did you mean 'p4d'/,
    );
  });

  it("suggests the families that extend a misspelt one first", () => {
    expect(() => offeredInstanceTypes(loadCatalog(), filter("us-east-1", undefined, ["p4"]))).toThrow(
      "instanceTypes.deny[0]: expected an instance family in the catalog, got 'p4'; did you mean 'p4d' or 'p4de' or 'p3'? (see `saturn catalog`)",
    );
  });

  it("accepts every family of the bundled catalog named in the issue", () => {
    const families = ["g4dn", "g5", "g6", "g6e", "p3", "p3dn", "p4d", "p4de", "p5", "p5en"];
    const types = offeredInstanceTypes(loadCatalog(), filter("us-east-1", families));
    expect(new Set(types.map((type) => type.family))).toEqual(new Set(families));
  });
});

describe("selectInstanceTypes", () => {
  it("warns about an allowed entry that exists in the catalog but has no price in the region", () => {
    const selection = selectInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5", "p5"]));
    expect(names(selection.types)).toEqual(["g5.xlarge", "g5.12xlarge"]);
    expect(selection.warnings).toEqual([
      "instanceTypes.allow: 'p5' has no price in us-east-1 in the catalog, so it selects nothing there; " +
        "run `saturn catalog refresh --regions us-east-1` or pick another region",
    ]);
  });

  it("warns when allow and deny together leave nothing", () => {
    const selection = selectInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5"], ["g5"]));
    expect(selection.types).toEqual([]);
    expect(selection.warnings).toEqual([
      "no instance type is offered in us-east-1 after allow/deny (3 offered before); " +
        "widen instanceTypes.allow, shorten instanceTypes.deny, or pick another region",
    ]);
  });

  it("gives no warnings for a plain selection", () => {
    expect(selectInstanceTypes(sampleCatalog(), filter("us-east-1", ["g5"])).warnings).toEqual([]);
  });
});

describe("hourlyPrice", () => {
  const type = instanceType("p4d.24xlarge", {
    prices: {
      "us-east-1": price({ onDemandUsdPerHour: 21.96, spot: { minUsdPerHour: 5.1, maxUsdPerHour: 9.6, byAz: {} } }),
    },
  });

  it("returns the on-demand price", () => {
    expect(hourlyPrice(type, "us-east-1", "on-demand")).toBe(21.96);
  });

  it("budgets spot at the highest price over the zones", () => {
    expect(hourlyPrice(type, "us-east-1", "spot")).toBe(9.6);
  });

  it("returns undefined in a region without a price", () => {
    expect(hourlyPrice(type, "eu-west-1", "on-demand")).toBeUndefined();
    expect(hourlyPrice(type, "eu-west-1", "spot")).toBeUndefined();
  });

  it("returns undefined for a market the type is not offered in", () => {
    const spotOnly = instanceType("g5.xlarge", { prices: { "us-east-1": price({ onDemandUsdPerHour: null }) } });
    const onDemandOnly = instanceType("g5.xlarge", { prices: { "us-east-1": price({ spot: null }) } });
    expect(hourlyPrice(spotOnly, "us-east-1", "on-demand")).toBeUndefined();
    expect(hourlyPrice(onDemandOnly, "us-east-1", "spot")).toBeUndefined();
  });

  it("never budgets spot below any zone's price in the bundled catalog", () => {
    for (const catalogType of loadCatalog().instanceTypes) {
      const spot = catalogType.prices["us-east-1"]?.spot;
      if (spot === null || spot === undefined) continue;
      expect(hourlyPrice(catalogType, "us-east-1", "spot")).toBeGreaterThanOrEqual(spot.minUsdPerHour);
      for (const zonePrice of Object.values(spot.byAz)) {
        expect(hourlyPrice(catalogType, "us-east-1", "spot")).toBeGreaterThanOrEqual(zonePrice);
      }
    }
  });
});

describe("expectedHourlyPrice", () => {
  it("returns the on-demand price, the same as the budget price", () => {
    const type = instanceType("p4d.24xlarge", { prices: { "us-east-1": price({ onDemandUsdPerHour: 21.96 }) } });
    expect(expectedHourlyPrice(type, "us-east-1", "on-demand")).toBe(21.96);
    expect(budgetHourlyPrice(type, "us-east-1", "on-demand")).toBe(21.96);
  });

  it("expects spot at the midpoint of the zones' range when no zone price is known", () => {
    const type = instanceType("p4d.24xlarge", {
      prices: { "us-east-1": price({ spot: { minUsdPerHour: 5.1, maxUsdPerHour: 9.6, byAz: {} } }) },
    });
    expect(expectedHourlyPrice(type, "us-east-1", "spot")).toBeCloseTo(7.35, 12);
    expect(budgetHourlyPrice(type, "us-east-1", "spot")).toBe(9.6);
  });

  it("expects spot at the mean of the zone prices when the catalog has them", () => {
    const type = instanceType("p4d.24xlarge", {
      prices: {
        "us-east-1": price({
          spot: { minUsdPerHour: 5, maxUsdPerHour: 9, byAz: { "us-east-1a": 5, "us-east-1b": 6, "us-east-1c": 9 } },
        }),
      },
    });
    expect(expectedHourlyPrice(type, "us-east-1", "spot")).toBeCloseTo(20 / 3, 12);
  });

  it("returns undefined where the type has no price in the market or region", () => {
    const onDemandOnly = instanceType("g5.xlarge", { prices: { "us-east-1": price({ spot: null }) } });
    expect(expectedHourlyPrice(onDemandOnly, "us-east-1", "spot")).toBeUndefined();
    expect(expectedHourlyPrice(onDemandOnly, "eu-west-1", "on-demand")).toBeUndefined();
  });

  it("lies between the lowest and the highest zone price for every type of the bundled catalog", () => {
    for (const catalogType of loadCatalog().instanceTypes) {
      const spot = catalogType.prices["us-east-1"]?.spot;
      if (spot === null || spot === undefined) continue;
      const expected = expectedHourlyPrice(catalogType, "us-east-1", "spot") ?? Number.NaN;
      expect(expected).toBeGreaterThanOrEqual(spot.minUsdPerHour);
      expect(expected).toBeLessThanOrEqual(hourlyPrice(catalogType, "us-east-1", "spot") ?? Number.NaN);
    }
  });
});

describe("gpuHourPrice", () => {
  it("divides the hourly price by the GPU count", () => {
    const type = instanceType("g5.12xlarge", {
      gpus: 4,
      prices: { "us-east-1": price({ onDemandUsdPerHour: 5.672 }) },
    });
    expect(gpuHourPrice(type, "us-east-1", "on-demand")).toBeCloseTo(1.418, 10);
  });

  it("returns undefined where there is no hourly price", () => {
    expect(gpuHourPrice(instanceType("g5.xlarge"), "eu-west-1", "spot")).toBeUndefined();
  });
});
