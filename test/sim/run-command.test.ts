import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type RunOptions, runCommand } from "../../cli/commands/run.ts";
import { BUNDLED_CATALOG_PATH } from "../../lambdas/adapters/catalog-file.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";

const spec = fileURLToPath(new URL("./fixtures/tiny-sweep.yaml", import.meta.url));

function capture() {
  let stdout = "";
  let stderr = "";
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: { write: (text: string) => (stderr += text) },
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

const base: RunOptions = {
  cloud: "sim",
  seed: "3",
  planSeconds: "2",
  replanSeconds: "1",
  catalog: BUNDLED_CATALOG_PATH,
};

describe("saturn run", () => {
  it("plans, runs on the simulated cloud, prints the JSON summary and writes the HTML report", async () => {
    const out = capture();
    const html = join(mkdtempSync(join(tmpdir(), "saturn-run-")), "run.html");
    const code = await runCommand(spec, { ...base, json: true, html }, out.io);
    const summary = JSON.parse(out.stdout());
    expect(code).toBe(0);
    expect(summary.status).toBe("completed");
    expect(summary.jobs.completed).toBe(2);
    expect(summary.instancesLeftRunning).toBe(0);
    expect(summary.planned.costUsd).toBeGreaterThan(0);
    expect(summary.executed.costUsd).toBeGreaterThan(0);
    expect(summary.lateJobs).toEqual([]);
    expect(readFileSync(html, "utf8")).toContain("What actually ran");
  });

  it("prints one plain line per event and the planned-versus-executed table when stdout is not a terminal", async () => {
    const out = capture();
    const code = await runCommand(spec, { ...base, html: false }, out.io);
    expect(code).toBe(0);
    expect(out.stdout()).toMatch(/\[00:00:00\] launch /);
    expect(out.stdout()).toMatch(/tiny-lr0.0001 completed/);
    expect(out.stdout()).toMatch(/planned\s+executed/);
    expect(out.stdout()).toContain(
      "left running: 0 (confirmed by describing every instance tagged saturn:workload=tiny-sweep)",
    );
  });

  it("draws the live view in place on a terminal: a progress bar per job and the events", async () => {
    const out = capture();
    const tty = { ...out.io, stdout: { ...out.io.stdout, isTTY: true, columns: 140 } };
    const code = await runCommand(spec, { ...base, html: false, speed: "1000000000" }, tty);
    expect(code).toBe(0);
    expect(out.stdout()).toContain("\x1b[2K");
    expect(out.stdout()).toMatch(/tiny-lr0\.0001 +█+ +100% {2}done/);
    expect(out.stdout()).toMatch(/instances up \d+ \(\d+ spot, \d+ on-demand\)/);
  });

  it("refuses a cloud other than the simulated one, saying how to run", async () => {
    const out = capture();
    await expect(runCommand(spec, { ...base, cloud: "aws" }, out.io)).rejects.toThrow(InvalidWorkloadError);
    await expect(runCommand(spec, { ...base, cloud: "aws" }, out.io)).rejects.toThrow(/--cloud sim/);
  });
});
