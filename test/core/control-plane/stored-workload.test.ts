import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { allows, storedWorkload } from "../../../lambdas/core/control-plane/stored-workload.ts";

const catalog = loadCatalog();

describe("allows", () => {
  it("reads families, exact types and IAM-style patterns", () => {
    expect(allows("g6e", "g6e.xlarge", "g6e")).toBe(true);
    expect(allows("g6e.*", "g6e.12xlarge", "g6e")).toBe(true);
    expect(allows("p4d.24xlarge", "p4d.24xlarge", "p4d")).toBe(true);
    expect(allows("p5", "p5en.48xlarge", "p5en")).toBe(false);
    expect(allows("g6.*", "g6e.xlarge", "g6e")).toBe(false);
    expect(allows("g5.?xlarge", "g5.2xlarge", "g5")).toBe(true);
  });
});

describe("storedWorkload", () => {
  it("names the workload by its id and denies what the stack does not allow", () => {
    const spec = JSON.stringify({
      name: "tiny",
      objective: { kind: "min-cost", deadlineHours: 12 },
      jobs: [{ id: "a", model: "gpt2-xl", batchSize: 16, work: { samples: 1000 } }],
    });
    const record = { id: "w-1", specText: spec } as Parameters<typeof storedWorkload>[0];
    const workload = storedWorkload(record, catalog, {
      allowedInstanceTypes: ["g5.*", "p4d"],
      budgetCapUsd: undefined,
    });
    expect(workload.name).toBe("w-1");
    const denied = new Set(workload.instanceTypes.deny);
    for (const type of catalog.instanceTypes) {
      expect(denied.has(type.name)).toBe(type.family !== "g5" && type.family !== "p4d");
    }
  });
});
