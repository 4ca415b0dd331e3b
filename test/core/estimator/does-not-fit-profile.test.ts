import { describe, expect, it } from "vitest";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { enumerateCandidates, jobSignature } from "../../../lambdas/core/estimator/candidates.ts";
import { profileRecordSchema } from "../../../lambdas/core/estimator/profile-record-schema.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import { parseWorkloadText } from "../../../lambdas/core/spec/workload.ts";

const catalog = loadCatalog(BUNDLED_CATALOG_PATH);
const workload = parseWorkloadText(`
name: misfit
region: us-east-1
objective: { kind: min-cost, deadlineHours: 12 }
instanceTypes: { allow: [g6e] }
jobs:
  - { id: tiny, model: gpt2-xl, batchSize: 16, work: { samples: 40000 } }
`);
const job = workload.jobs[0];
const context = (records: ConstructorParameters<typeof InMemoryProfileStore>[0]) => ({
  catalog,
  region: "us-east-1",
  markets: ["on-demand" as const],
  instanceTypes: catalog.instanceTypes.filter((type) => type.family === "g6e"),
  profiles: new InMemoryProfileStore(records),
});

describe("a does-not-fit profile record", () => {
  it("passes the profile-record schema with 0 samples/s only when it says fits: false", () => {
    const record = {
      jobSignature: "sig",
      technique: "ddp",
      instanceType: "g6e.2xlarge",
      nodes: 1,
      gpusPerNode: 1,
      samplesPerSecond: 0,
      peakMemoryGiBPerGpu: 0,
      measuredAt: "2026-12-01T00:00:00Z",
      where: "aws:us-east-1:i-0abc",
    };
    expect(profileRecordSchema.safeParse({ ...record, fits: false, reason: "out of memory" }).success).toBe(true);
    const measurement = profileRecordSchema.safeParse(record);
    expect(measurement.success).toBe(false);
    expect(measurement.error?.issues[0]).toMatchObject({
      path: ["samplesPerSecond"],
      message: "expected a number > 0",
    });
  });

  it("makes the planner's candidate for that configuration not fit, with the measured reason", () => {
    if (job === undefined) throw new Error("expected a job");
    const config = { technique: "ddp" as const, instanceType: "g6e.2xlarge", nodes: 1, gpusPerNode: 1 };
    const before = enumerateCandidates(job, context([])).find(
      (c) => c.config.technique === "ddp" && c.config.instanceType === "g6e.2xlarge" && c.config.nodes === 1,
    );
    expect(before?.estimate.fits).toBe(true);
    const record = {
      jobSignature: jobSignature(job),
      ...config,
      samplesPerSecond: 0,
      peakMemoryGiBPerGpu: 0,
      measuredAt: "2026-12-01T00:00:00Z",
      where: "aws:us-east-1:i-0abc",
      fits: false,
      reason: "CUDA out of memory on every rank",
    };
    const after = enumerateCandidates(job, context([record])).find(
      (c) =>
        c.config.technique === "ddp" &&
        c.config.instanceType === "g6e.2xlarge" &&
        c.config.nodes === 1 &&
        c.config.gpusPerNode === 1,
    );
    expect(after?.estimate.fits).toBe(false);
    expect(after?.estimate.fits === false && after.estimate.reason).toContain(
      "measured: does not fit (CUDA out of memory",
    );
    expect(after?.runtimeSeconds).toBeUndefined();
  });
});
