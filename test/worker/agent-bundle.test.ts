import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const bundle = join(root, "worker/dist/saturn-agent.mjs");

function runBundle(args: readonly string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bundle, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 30_000,
  });
}

describe("the agent bundle (npm run build:agent)", () => {
  let dir: string;
  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(root, "scripts/build-agent.mjs")], { encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    dir = await mkdtemp(join(tmpdir(), "saturn-bundle-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 naming each missing or bad field of its configuration", async () => {
    const config = join(dir, "agent.json");
    await writeFile(config, JSON.stringify({ bucket: "saturn-bucket", region: "mars-1", idleMinutes: 5 }));
    const result = runBundle(["--config", config]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/queueUrl: expected the worker-event queue URL, got nothing/);
    expect(result.stderr).toMatch(/region: expected an AWS region such as 'us-east-1', got "mars-1"/);
    expect(result.stderr).toMatch(/idleMinutes/);
  });

  it("fails its self-check, naming the interpreter, when the harness venv is not installed", () => {
    const result = runBundle(["--self-check", "--config", join(dir, "absent.json")], {
      SATURN_AGENT_PYTHON: "python3",
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(report).toMatchObject({
      selfCheck: "failed",
      version: "0.1.0",
      protocol: "saturn.worker/v1",
      python: "python3",
    });
    expect(report.problems[0]).toMatch(/python3 cannot import torch and saturn_harness/);
  });
});
