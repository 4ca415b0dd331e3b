/** `saturn estimate` end to end, in-process (lives with the estimator tests it exercises). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jobSignature } from "../../lambdas/core/estimator/candidates.ts";
import type { Candidate } from "../../lambdas/core/estimator/types.ts";
import { jobOf } from "../core/estimator/job-fixtures.ts";
import { runCli } from "../support/run-cli.ts";

const EXAMPLE = "examples/text-sweep.yaml";

describe("saturn estimate", () => {
  it("prints one table per group of sweep clones, cheapest fitting first, and summarises the rest", async () => {
    const result = await runCli(["estimate", EXAMPLE, "--top", "3"]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Job gpt2-b16-lr0.00001 and 2 clone(s)");
    expect(result.stdout.match(/^Job /gm)).toHaveLength(4);
    expect(result.stdout).toMatch(/configurations fit \(best 3 shown\), cheapest first/);
    expect(result.stdout).toMatch(/configurations do not fit \(--all lists each\)/);
    expect(result.stdout).toMatch(/not enough GPU memory, e\.g\./);
  });

  it("lists every non-fitting configuration with its reason under --all", async () => {
    const result = await runCli(["estimate", EXAMPLE, "--job", "gptj-b16-lr0.0001", "--top", "1", "--all"]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ddp on 1 x g5\.xlarge \(1 GPU each\): needs [\d.]+ GiB per GPU/);
    expect(result.stdout).not.toContain("--all lists each");
  });

  it("prints the candidates as JSON, each marked estimated or measured", async () => {
    const result = await runCli(["estimate", EXAMPLE, "--job", "gpt2-b32", "--json"]);

    expect(result.code).toBe(0);
    const jobs = JSON.parse(result.stdout) as { jobId: string; jobSignature: string; candidates: Candidate[] }[];
    expect(jobs.map((job) => job.jobId)).toEqual(["gpt2-b32-lr0.00001", "gpt2-b32-lr0.0001", "gpt2-b32-lr0.003"]);
    const [first] = jobs;
    expect(first?.candidates[0]?.estimate.fits).toBe(true);
    for (const candidate of first?.candidates ?? []) {
      expect(candidate.jobId).toBe("gpt2-b32-lr0.00001");
      if (candidate.estimate.fits) expect(candidate.estimate.source).toBe("estimated");
      else expect(candidate.estimate.reason).not.toBe("");
    }
  });

  it("uses measured records from --profiles and says so", async () => {
    const job = jobOf({ model: "gpt2-xl", batchSize: 16 });
    const path = join(mkdtempSync(join(tmpdir(), "saturn-estimate-")), "profiles.jsonl");
    writeFileSync(
      path,
      `${JSON.stringify({
        jobSignature: jobSignature(job),
        technique: "ddp",
        instanceType: "g6e.xlarge",
        nodes: 1,
        gpusPerNode: 1,
        samplesPerSecond: 1000,
        peakMemoryGiBPerGpu: 30,
        measuredAt: "2026-11-20T10:00:00Z",
        where: "sim",
      })}\n`,
    );

    const result = await runCli(["estimate", EXAMPLE, "--job", "gpt2-b16-lr0.003", "--profiles", path, "--json"]);

    const [entry] = JSON.parse(result.stdout) as { candidates: Candidate[] }[];
    const measured = entry?.candidates.filter(
      (candidate) => candidate.estimate.fits && candidate.estimate.source === "measured",
    );
    expect(measured?.map((candidate) => candidate.config)).toEqual([
      { technique: "ddp", instanceType: "g6e.xlarge", nodes: 1, gpusPerNode: 1 },
    ]);
  });

  it("exits 2 naming --job when the job is unknown", async () => {
    const result = await runCli(["estimate", EXAMPLE, "--job", "nope"]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--job: expected a job id of the spec .*got 'nope'/);
  });

  it("exits 2 naming --top when it is not a positive integer", async () => {
    const result = await runCli(["estimate", EXAMPLE, "--top", "0"]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--top: expected an integer >= 1, got '0'/);
  });

  it("exits 2 naming the field of a bad profile file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "saturn-estimate-")), "profiles.jsonl");
    writeFileSync(path, '{"jobSignature": "x"}\n');

    const result = await runCli(["estimate", EXAMPLE, "--profiles", path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/profiles\.jsonl line 1: samplesPerSecond: expected a number > 0, got nothing/);
  });

  it("estimates a dense and a mixture-of-experts model from their Hugging Face config.json files", async () => {
    const result = await runCli(["estimate", "examples/hugging-face-sweep.yaml", "--top", "2"]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("hf:hugging-face/llama-3.1-8b/config.json (8.03B parameters)");
    expect(result.stdout).toContain(
      "hf:hugging-face/qwen3-30b-a3b/config.json (30.53B parameters, 3.35B active (8 of 128 experts per token))",
    );
    expect(result.stdout.match(/configurations fit \(best 2 shown\)/g)).toHaveLength(2);
  });

  it("exits 2 naming the key a Hugging Face config lacks, and the file", async () => {
    const directory = mkdtempSync(join(tmpdir(), "saturn-estimate-"));
    writeFileSync(join(directory, "config.json"), JSON.stringify({ hidden_size: 4096, num_hidden_layers: 32 }));
    const spec = join(directory, "spec.yaml");
    writeFileSync(
      spec,
      "name: hf\nobjective: { kind: min-cost, deadlineHours: 4 }\n" +
        "jobs: [{ id: a, model: { huggingFaceConfig: config.json }, batchSize: 8, work: { samples: 100 } }]\n",
    );

    const result = await runCli(["estimate", spec]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "jobs[0].model.huggingFaceConfig (config.json).num_attention_heads: expected a positive integer, got nothing (key missing)",
    );
    expect(result.stderr).toContain("jobs[0].model.huggingFaceConfig (config.json).vocab_size");
  });
});
