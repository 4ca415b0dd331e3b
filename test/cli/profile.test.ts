/**
 * `saturn profile`: a plug-in's real search (python -m saturn_harness.search, CPU, the
 * harness's venv) produces profile records, and `saturn plan` then chooses the plug-in on
 * them. Needs `.venv-harness/` (scripts/ensure-harness-venv.mjs builds it; `npm test` does).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseProfileRecords } from "../../lambdas/adapters/profile-file.ts";
import type { ProfileRecord } from "../../lambdas/core/estimator/types.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { runCli } from "../support/run-cli.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const PLUGIN_FILE = join(repoRoot, "worker/harness/tests/fixtures/accumulation_plugin.py");

function specFile(techniques: string, plugins = true): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "saturn-profile-"));
  const path = join(dir, "spec.yaml");
  writeFileSync(
    path,
    [
      "name: plugin-cli",
      "objective: { kind: min-cost, deadlineHours: 24 }",
      "instanceTypes: { allow: [g6e.xlarge] }",
      "markets: [on-demand]",
      "planner: { timeLimitSeconds: 10 }",
      "quotas:",
      "  - { group: G, market: on-demand, vcpus: 192 }",
      "  - { group: G, market: spot, vcpus: 192 }",
      "  - { group: P, market: on-demand, vcpus: 0 }",
      "  - { group: P, market: spot, vcpus: 0 }",
      "  - { group: P5, market: spot, vcpus: 0 }",
      ...(plugins ? ["plugins:", "  - { name: ddp-accumulate, module: s3://my-plugins/accumulation_plugin.py }"] : []),
      "jobs:",
      "  - id: a",
      "    model: gpt2-xl",
      "    batchSize: 12",
      "    work: { samples: 40000 }",
      `    techniques: ${techniques}`,
      "    hyperparameters: { maxMicroBatch: 2 }",
      "",
    ].join("\n"),
  );
  return { dir, path };
}

describe("saturn profile", () => {
  beforeAll(() => {
    const built = spawnSync(process.execPath, [join(repoRoot, "scripts/ensure-harness-venv.mjs")], {
      encoding: "utf8",
      stdio: "pipe",
    });
    expect(built.status, built.stderr).toBe(0);
  }, 600_000);

  it("writes the plug-in search's answers as records, and the plan then chooses the plug-in", async () => {
    const { dir, path } = specFile("[ddp, ddp-accumulate]");
    const out = join(dir, "profiles.jsonl");
    const profiled = await runCli([
      "profile",
      path,
      "--technique",
      "ddp-accumulate",
      "--instance-type",
      "g6e.xlarge",
      "--plugin-file",
      PLUGIN_FILE,
      "--out",
      out,
      "--json",
    ]);
    expect(profiled.stderr).toBe("");
    expect(profiled.code).toBe(0);
    const records: ProfileRecord[] = parseProfileRecords(readFileSync(out, "utf8"), out);
    // g6e.xlarge has 1 GPU: shapes 1, 2, 4, 8 nodes. The fixture assumes 50 samples/s per GPU and
    // takes the largest micro-batch up to maxMicroBatch that divides the per-rank batch.
    expect(records.map((r) => [r.nodes, r.samplesPerSecond, r.basis, r.knobs])).toEqual([
      [1, 50, "plugin-estimate", { microBatchSize: 2 }],
      [2, 100, "plugin-estimate", { microBatchSize: 2 }],
      [4, 200, "plugin-estimate", { microBatchSize: 1 }],
      [8, 0, "plugin-estimate", undefined],
    ]);
    expect(records[3]).toMatchObject({ fits: false, reason: "batch 12 does not split evenly over 8 GPUs" });
    expect(JSON.parse(profiled.stdout).records).toEqual(records);

    const planned = await runCli(["plan", path, "--profiles", out, "--json", "--offline"]);
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.assignments.map((a) => [a.technique, a.throughputSource])).toEqual([["ddp-accumulate", "estimated"]]);
    const eightNodes = plan.considered[0]?.candidates.find(
      (c) => c.config.technique === "ddp-accumulate" && c.config.nodes === 8,
    );
    expect(eightNodes?.reason).toContain("ddp-accumulate's search: does not fit (batch 12 does not split evenly");
  }, 300_000);

  it("refuses a technique the spec does not declare as a plug-in, and a remote module without a local copy", async () => {
    const { path } = specFile("[ddp, ddp-accumulate]");
    const builtIn = await runCli(["profile", path, "--technique", "ddp", "--instance-type", "g6e.xlarge"]);
    expect(builtIn.code).toBe(2);
    expect(builtIn.stderr).toContain("--technique: expected a plug-in technique; 'ddp' is built in");
    const remote = await runCli(["profile", path, "--technique", "ddp-accumulate", "--instance-type", "g6e.xlarge"]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain(
      "--plugin-file: expected a local copy of s3://my-plugins/accumulation_plugin.py (a search runs locally)",
    );
  });

  it("makes an undeclared technique in a job a spec error (exit 2) naming the field", async () => {
    const { path } = specFile("[ddp, ddp-accumulate]", false);
    const result = await runCli(["validate", path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("jobs[0].techniques[1]: expected one of ddp, fsdp, fsdp-offload, pipeline");
    expect(existsSync(join(path, "..", "profiles.jsonl"))).toBe(false);
  });
});
