import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseWorkloadText } from "../../lambdas/core/spec/workload.ts";
import { runCli } from "../support/run-cli.ts";

function tempFile(name: string, text: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "saturn-validate-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return { dir, path };
}

describe("saturn validate", () => {
  it("lists the jobs of the bundled example after sweep expansion", async () => {
    const result = await runCli(["validate", "examples/text-sweep.yaml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("12 jobs");
    expect(result.stdout).toContain("gptj-b32-lr0.003");
  });

  it("exits 2, lists every problem on stderr and writes nothing for a bad spec", async () => {
    const { dir, path } = tempFile(
      "bad.yaml",
      "name: x\nobjective: {kind: min-costs}\njobs:\n  - {id: a, model: gpt2-xl, batchSize: 16x, work: {samples: 1}, tecniques: [ddp]}\n",
    );
    const result = await runCli(["validate", path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      'objective.kind: expected one of "min-cost", "min-time", "pareto", got "min-costs"',
    );
    expect(result.stderr).toContain('jobs[0].batchSize: expected an integer >= 1, got "16x"');
    expect(result.stderr).toContain("jobs[0].tecniques: unknown key (did you mean 'techniques'?)");
    expect(readdirSync(dir)).toEqual(["bad.yaml"]);
  });

  it("exits 2 for a file that does not exist", async () => {
    const result = await runCli(["validate", "/nonexistent/spec.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("/nonexistent/spec.yaml: expected a readable YAML or JSON file, got ENOENT");
  });

  it("exits 2 for an unknown option", async () => {
    const result = await runCli(["validate", "examples/text-sweep.yaml", "--jsn"]);
    expect(result.code).toBe(2);
  });
});

describe("saturn schema", () => {
  it("prints a JSON Schema that rejects unknown keys", async () => {
    const result = await runCli(["schema"]);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toContain("2020-12");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(["name", "objective", "jobs"]));
  });
});

describe("docs/workload.md", () => {
  it("shows a full example that is itself a valid spec", () => {
    const doc = readFileSync("docs/workload.md", "utf8");
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const workload = parseWorkloadText(example ?? "");
    expect(workload.jobs.map((job) => job.id)).toEqual([
      "llama-full-lr0.00001",
      "llama-full-lr0.00003",
      "mistral-lora",
      "tiny-custom",
    ]);
  });
});
