import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type RunOptions, runCommand } from "../../cli/commands/run.ts";
import { readWorkloadFile } from "../../cli/spec-file.ts";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { loadProfileRecords } from "../../lambdas/adapters/profile-file.ts";
import { profileOnSimulatedCloud, revealedThroughputOf } from "../../lambdas/adapters/sim-cloud/profile-on-sim.ts";
import { jobSignature } from "../../lambdas/core/estimator/job-signature.ts";

const spec = fileURLToPath(new URL("./fixtures/tiny-profiled.yaml", import.meta.url));

function capture() {
  let stdout = "";
  return {
    io: { stdout: { write: (text: string) => (stdout += text), isTTY: false }, stderr: { write: () => true } },
    stdout: () => stdout,
  };
}

const base: RunOptions = {
  cloud: "sim",
  seed: "3",
  planSeconds: "2",
  replanSeconds: "1",
  catalog: BUNDLED_CATALOG_PATH,
  html: false,
};

describe("saturn run with a profiling phase on the simulated cloud", () => {
  it("profiles within budget, stores sim records, plans again on measured figures and runs to the end", async () => {
    const profiles = join(mkdtempSync(join(tmpdir(), "saturn-profiling-")), "profiles.jsonl");
    const out = capture();
    const code = await runCommand(spec, { ...base, json: true, profiles }, out.io);
    const summary = JSON.parse(out.stdout());
    expect(code).toBe(0);
    expect(summary.status).toBe("completed");
    const profiling = summary.profiling;
    expect(profiling.configurationsProfiled).toBeGreaterThan(0);
    expect(profiling.configurationsProfiled).toBe(profiling.chosen);
    expect(profiling.spendUsd).toBeGreaterThan(0);
    expect(profiling.spendUsd).toBeLessThanOrEqual(5);
    expect(profiling.seconds).toBeLessThanOrEqual(120 * 60);
    expect(profiling.instancesLeftRunning).toBe(0);
    expect(profiling.measuredAssignments).toBeGreaterThan(0);
    const records = loadProfileRecords(profiles);
    expect(records).toHaveLength(profiling.configurationsProfiled);
    expect(records.every((record) => record.where === "sim")).toBe(true);

    // A second run with the same store does not pay again for what is measured.
    const again = capture();
    expect(await runCommand(spec, { ...base, json: true, profiles }, again.io)).toBe(0);
    const second = JSON.parse(again.stdout()).profiling;
    expect(second.leftOut.filter((entry: { reason: string }) => entry.reason === "already-measured").length).toBe(
      records.length,
    );
    expect(loadProfileRecords(profiles)).toHaveLength(records.length + second.configurationsProfiled);
  });

  it("prints how many configurations it profiled, the spend and the time", async () => {
    const profiles = join(mkdtempSync(join(tmpdir(), "saturn-profiling-")), "profiles.jsonl");
    const out = capture();
    expect(await runCommand(spec, { ...base, profiles }, out.io)).toBe(0);
    expect(out.stdout()).toMatch(/Profiling: \d+ configurations to measure for at most \$\d+\.\d\d \(budget \$5\.00\)/);
    expect(out.stdout()).toMatch(/Profiled \d+ configurations on the simulated cloud: \$\d+\.\d\d spent, \d+\.\d min/);
    expect(out.stdout()).toMatch(/Plan: .*, [1-9]\d*\/\d+ of assignments on measured figures/);
    expect(readFileSync(profiles, "utf8").trim().split("\n").length).toBeGreaterThan(0);
  });
});

describe("profileOnSimulatedCloud", () => {
  const workload = readWorkloadFile(spec);
  const catalog = loadCatalog(BUNDLED_CATALOG_PATH);
  const job = workload.jobs[0] ?? (undefined as never);
  const run = {
    jobSignature: jobSignature(job),
    jobId: job.id,
    config: { technique: "ddp" as const, instanceType: "g5.12xlarge", nodes: 2, gpusPerNode: 4 },
    estimatedSamplesPerSecond: 40,
    seconds: 400,
    costUsd: 1,
    because: "chosen" as const,
  };

  it("launches every node of a run on demand, measures, terminates and bills the short run", async () => {
    const result = await profileOnSimulatedCloud({
      workload,
      catalog,
      runs: [run],
      warmupSteps: 5,
      measuredSteps: 20,
      epoch: "2026-12-01T00:00:00Z",
      sim: { seed: 7 },
    });
    expect(result.records).toHaveLength(1);
    expect(result.records[0]).toMatchObject({ ...run.config, jobSignature: run.jobSignature, where: "sim" });
    expect(result.instancesLeftRunning).toBe(0);
    // Two g5.12xlarge on demand for at least the boot plus 25 steps, at $5.672/h each (data/catalog.json).
    expect(result.spendUsd).toBeGreaterThan((2 * 5.672 * 60) / 3600);
    expect(result.failed).toEqual([]);
  });

  it("reports a run whose launch fails and leaves nothing running", async () => {
    const result = await profileOnSimulatedCloud({
      workload,
      catalog,
      runs: [run],
      warmupSteps: 5,
      measuredSteps: 20,
      epoch: "2026-12-01T00:00:00Z",
      sim: { seed: 7, capacityOutages: [{ instanceType: "g5.12xlarge" }] },
    });
    expect(result.records).toEqual([]);
    expect(result.failed).toHaveLength(1);
    expect(result.instancesLeftRunning).toBe(0);
  });

  it("hands a measured figure to the run's simulated workers only for a planned figure that is that measurement", () => {
    const record = {
      jobSignature: run.jobSignature,
      ...run.config,
      samplesPerSecond: 37.5,
      peakMemoryGiBPerGpu: 0,
      measuredAt: "2026-12-01T00:00:00Z",
      where: "sim",
    };
    const revealed = revealedThroughputOf(workload, [record]);
    expect(revealed(job.id, "g5.12xlarge|2|4", 37.5)).toBe(37.5);
    expect(revealed(job.id, "g5.12xlarge|2|4", 40)).toBeUndefined();
    expect(revealed(job.id, "g5.12xlarge|1|4", 37.5)).toBeUndefined();
  });
});
