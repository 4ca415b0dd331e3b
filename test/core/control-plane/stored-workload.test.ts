import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { storedWorkload } from "../../../lambdas/core/control-plane/stored-workload.ts";
import type { WorkloadRecord } from "../../../lambdas/core/store/workload-store.ts";

const catalog = loadCatalog();
const record: WorkloadRecord = {
  id: "w-1",
  name: "tiny",
  owner: "arn:aws:iam::123456789012:user/alice",
  status: "planning",
  statusReason: undefined,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-01T00:00:00.000Z",
  version: 1,
  planVersion: 0,
  jobCount: 1,
  cancelRequested: false,
  specText:
    "name: tiny\nobjective: { kind: min-cost, deadlineHours: 12 }\njobs:\n  - { id: a, model: gpt2-xl, batchSize: 16, work: { samples: 1000 } }\n",
};

describe("storedWorkload", () => {
  it("reads the stack's family patterns (g6e.*) as allowing the whole family", () => {
    const workload = storedWorkload(record, catalog, {
      allowedInstanceTypes: ["g6e.*", "p5.48xlarge"],
      budgetCapUsd: undefined,
    });

    const allowed = catalog.instanceTypes.filter((type) => !workload.instanceTypes.deny.includes(type.name));
    expect(allowed.length).toBeGreaterThan(1);
    expect(allowed.every((type) => type.family === "g6e" || type.name === "p5.48xlarge")).toBe(true);
    expect(allowed.some((type) => type.name === "p5.48xlarge")).toBe(true);
  });

  it("still reads plain families and exact types", () => {
    const workload = storedWorkload(record, catalog, { allowedInstanceTypes: ["g5"], budgetCapUsd: undefined });

    const allowed = catalog.instanceTypes.filter((type) => !workload.instanceTypes.deny.includes(type.name));
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.every((type) => type.family === "g5")).toBe(true);
  });
});
