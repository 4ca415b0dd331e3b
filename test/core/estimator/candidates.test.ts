import { describe, expect, it } from "vitest";
import { hourlyPrice } from "../../../lambdas/core/catalog/select.ts";
import type { CandidateContext } from "../../../lambdas/core/estimator/candidates.ts";
import { enumerateCandidates, jobSignature, shapesOf } from "../../../lambdas/core/estimator/candidates.ts";
import { estimateThroughput } from "../../../lambdas/core/estimator/estimate.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { ProfileRecord } from "../../../lambdas/core/estimator/types.ts";
import { catalog, instanceType, jobOf, jobsOf } from "./job-fixtures.ts";

function contextWith(types: string[], records: ProfileRecord[] = []): CandidateContext {
  return {
    catalog,
    region: "us-east-1",
    markets: ["spot", "on-demand"],
    instanceTypes: types.map(instanceType),
    profiles: new InMemoryProfileStore(records),
  };
}

describe("shapesOf", () => {
  it("tries 1, 2, 4 and 8 GPUs on one node and 2, 4, 8 whole nodes", () => {
    expect(shapesOf(instanceType("p4d.24xlarge"))).toEqual([
      { nodes: 1, gpusPerNode: 1 },
      { nodes: 1, gpusPerNode: 2 },
      { nodes: 1, gpusPerNode: 4 },
      { nodes: 1, gpusPerNode: 8 },
      { nodes: 2, gpusPerNode: 8 },
      { nodes: 4, gpusPerNode: 8 },
      { nodes: 8, gpusPerNode: 8 },
    ]);
  });

  it("tries only whole single-GPU instances on a one-GPU type", () => {
    expect(shapesOf(instanceType("g5.xlarge"))).toEqual([1, 2, 4, 8].map((nodes) => ({ nodes, gpusPerNode: 1 })));
  });
});

describe("enumerateCandidates", () => {
  it("lists every configuration of every allowed technique on every given type, fitting or not", () => {
    const candidates = enumerateCandidates(jobOf(), contextWith(["p4d.24xlarge", "g5.xlarge"]));

    expect(candidates).toHaveLength(4 * (7 + 4));
    expect(candidates.some((candidate) => !candidate.estimate.fits)).toBe(true);
    for (const candidate of candidates) {
      if (candidate.estimate.fits) continue;
      expect(candidate.estimate.reason.length).toBeGreaterThan(10);
      expect(candidate.runtimeSeconds).toBeUndefined();
      expect(candidate.costUsd).toEqual({});
    }
  });

  it("prices a fitting candidate at its share of the instances for its runtime, per market", () => {
    const job = jobOf({ samples: 36_000 });
    const candidates = enumerateCandidates(job, contextWith(["p4d.24xlarge"]));
    const half = candidates.find(
      (candidate) => candidate.config.technique === "ddp" && candidate.config.gpusPerNode === 4,
    );
    if (half === undefined || !half.estimate.fits) throw new Error("expected ddp on 4 of p4d's 8 GPUs to fit");

    const runtime = 36_000 / half.estimate.samplesPerSecond;
    const type = instanceType("p4d.24xlarge");
    expect(half.runtimeSeconds).toBeCloseTo(runtime, 6);
    expect(half.costUsd["on-demand"]).toBeCloseTo(
      ((hourlyPrice(type, "us-east-1", "on-demand") ?? 0) * 0.5 * runtime) / 3600,
      6,
    );
    expect(half.costUsd.spot).toBeCloseTo(((hourlyPrice(type, "us-east-1", "spot") ?? 0) * 0.5 * runtime) / 3600, 6);
  });

  it("prices only the markets the workload allows", () => {
    const context = { ...contextWith(["g6e.xlarge"]), markets: ["on-demand"] as const };
    const fitting = enumerateCandidates(jobOf(), context).filter((candidate) => candidate.estimate.fits);

    expect(fitting.length).toBeGreaterThan(0);
    for (const candidate of fitting) expect(Object.keys(candidate.costUsd)).toEqual(["on-demand"]);
  });

  it("keeps to the job's allowed techniques", () => {
    const job = { ...jobOf(), techniques: ["fsdp"] as const };
    const candidates = enumerateCandidates(job, contextWith(["p4d.24xlarge"]));

    expect(new Set(candidates.map((candidate) => candidate.config.technique))).toEqual(new Set(["fsdp"]));
  });

  it("marks every estimate-based candidate as estimated", () => {
    for (const candidate of enumerateCandidates(jobOf(), contextWith(["p4d.24xlarge"]))) {
      if (candidate.estimate.fits) expect(candidate.estimate.source).toBe("estimated");
    }
  });

  it("lets a measured record override the estimate for exactly its configuration", () => {
    const job = jobOf({ samples: 10_000 });
    const measured: ProfileRecord = {
      jobSignature: jobSignature(job),
      technique: "fsdp",
      instanceType: "p4d.24xlarge",
      nodes: 1,
      gpusPerNode: 8,
      samplesPerSecond: 12.5,
      peakMemoryGiBPerGpu: 21.5,
      measuredAt: "2026-11-20T10:00:00Z",
      where: "aws:us-east-1:i-0abc",
    };
    const candidates = enumerateCandidates(job, contextWith(["p4d.24xlarge"], [measured]));
    const [overridden, ...others] = candidates.filter(
      (candidate) =>
        candidate.config.technique === "fsdp" && candidate.config.gpusPerNode === 8 && candidate.config.nodes === 1,
    );

    expect(others).toHaveLength(0);
    expect(overridden?.estimate).toMatchObject({ fits: true, source: "measured", samplesPerSecond: 12.5 });
    expect(overridden?.estimate.peakMemoryGiBPerGpu).toBe(21.5);
    expect(overridden?.runtimeSeconds).toBeCloseTo(800, 6);
    const rest = candidates.filter((candidate) => candidate !== overridden && candidate.estimate.fits);
    for (const candidate of rest) expect(candidate.estimate.fits && candidate.estimate.source).toBe("estimated");
  });

  it("lets a measured record revive a configuration the estimator thought would not fit", () => {
    const job = jobOf({ model: "mistral-7b" });
    const config = { technique: "ddp", instanceType: "g6e.xlarge", nodes: 1, gpusPerNode: 1 } as const;
    expect(estimateThroughput(job, config, catalog).fits).toBe(false);
    const record: ProfileRecord = {
      jobSignature: jobSignature(job),
      ...config,
      samplesPerSecond: 0.5,
      peakMemoryGiBPerGpu: 47,
      measuredAt: "2026-11-20T10:00:00Z",
      where: "sim",
    };

    const candidate = enumerateCandidates(job, contextWith(["g6e.xlarge"], [record])).find(
      (entry) => entry.config.technique === "ddp" && entry.config.nodes === 1,
    );

    expect(candidate?.estimate).toMatchObject({ fits: true, source: "measured", samplesPerSecond: 0.5 });
  });
});

describe("jobSignature", () => {
  it("is shared by sweep clones, which differ only in hyper-parameters", () => {
    const clones = jobsOf({ sweep: { lr: [0.1, 0.01, 0.001] } });

    expect(clones).toHaveLength(3);
    expect(new Set(clones.map(jobSignature)).size).toBe(1);
  });

  it("differs when anything that changes throughput differs", () => {
    const base = jobSignature(jobOf());

    expect(jobSignature(jobOf({ batchSize: 32 }))).not.toBe(base);
    expect(jobSignature(jobOf({ method: "lora" }))).not.toBe(base);
    expect(jobSignature(jobOf({ method: "lora", loraRank: 8 }))).not.toBe(jobSignature(jobOf({ method: "lora" })));
    expect(jobSignature(jobOf({ model: "gpt-j-6b" }))).not.toBe(base);
  });

  it("ignores the amount of work", () => {
    expect(jobSignature(jobOf({ samples: 1 }))).toBe(jobSignature(jobOf({ samples: 99_999 })));
  });
});

describe("InMemoryProfileStore", () => {
  const record = (measuredAt: string, samplesPerSecond: number): ProfileRecord => ({
    jobSignature: "sig",
    technique: "ddp",
    instanceType: "g5.xlarge",
    nodes: 1,
    gpusPerNode: 1,
    samplesPerSecond,
    peakMemoryGiBPerGpu: 10,
    measuredAt,
    where: "sim",
  });

  it("keeps the latest record of a configuration", () => {
    const store = new InMemoryProfileStore([record("2026-11-02T00:00:00Z", 2), record("2026-11-01T00:00:00Z", 1)]);

    expect(
      store.find("sig", { technique: "ddp", instanceType: "g5.xlarge", nodes: 1, gpusPerNode: 1 })?.samplesPerSecond,
    ).toBe(2);
    expect(store.size).toBe(1);
  });

  it("finds nothing for another signature or configuration", () => {
    const store = new InMemoryProfileStore([record("2026-11-02T00:00:00Z", 2)]);

    expect(
      store.find("other", { technique: "ddp", instanceType: "g5.xlarge", nodes: 1, gpusPerNode: 1 }),
    ).toBeUndefined();
    expect(
      store.find("sig", { technique: "fsdp", instanceType: "g5.xlarge", nodes: 1, gpusPerNode: 1 }),
    ).toBeUndefined();
  });
});
