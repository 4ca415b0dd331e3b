import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasAwsCredentials } from "../../cli/commands/plan.ts";
import { main } from "../../cli/main.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { useCliSession } from "../support/cli-session.ts";

const cli = useCliSession("saturn-plan-");

/** Two small GPT-2 XL jobs on G instances; every quota is in the spec, so no AWS call is made. */
function spec(deadlineHours: number, quotas = { g: 192, p: 0 }): string {
  const path = join(cli.directory, "spec.yaml");
  writeFileSync(
    path,
    [
      "name: cli-test",
      "objective: { kind: min-cost, deadlineHours: " + deadlineHours + " }",
      "instanceTypes: { allow: [g5, g6e] }",
      "planner: { timeLimitSeconds: 10 }",
      "quotas:",
      `  - { group: G, market: on-demand, vcpus: ${quotas.g} }`,
      `  - { group: G, market: spot, vcpus: ${quotas.g} }`,
      `  - { group: P, market: on-demand, vcpus: ${quotas.p} }`,
      `  - { group: P, market: spot, vcpus: ${quotas.p} }`,
      "  - { group: P5, market: spot, vcpus: 0 }",
      "jobs:",
      "  - id: gpt2",
      "    model: gpt2-xl",
      "    batchSize: 16",
      "    work: { samples: 20000 }",
      "    sweep: { lr: [0.0001, 0.001] }",
      "",
    ].join("\n"),
  );
  return path;
}

describe("saturn plan", () => {
  it("prints the plan as JSON with every documented field", async () => {
    const code = await main(["plan", spec(24), "--json", "--offline"]);
    // stdout is one JSON document; warnings (if any) go to stderr, each on its own line.
    expect(
      cli.stderr
        .join("")
        .split("\n")
        .filter(Boolean)
        .every((line) => line.startsWith("warning: ")),
    ).toBe(true);
    expect(code).toBe(0);
    const plan = JSON.parse(cli.stdout.join("")) as Plan;
    expect(plan.schemaVersion).toBe(1);
    expect(plan.assignments.map((assignment) => assignment.jobId).sort()).toEqual(["gpt2-lr0.0001", "gpt2-lr0.001"]);
    expect(plan.instances.length).toBeGreaterThan(0);
    expect(plan.instances.every((instance) => /^(g5|g6e)\./.test(instance.instanceType))).toBe(true);
    expect(plan.totals.expectedCostUsd).toBeGreaterThan(0);
    expect(plan.lowerBound).toBeGreaterThan(0);
    expect(plan.gap).toBeGreaterThanOrEqual(0);
    expect(typeof plan.solveSeconds).toBe("number");
    expect(plan.considered).toHaveLength(2);
    for (const entry of plan.considered) {
      expect(entry.candidates.filter((candidate) => candidate.chosen)).toHaveLength(1);
    }
  });

  it("prints the considered resources with the choice marked, the totals and a Gantt chart", async () => {
    const code = await main(["plan", spec(24), "--offline"]);
    const text = cli.stdout.join("");
    expect(code).toBe(0);
    expect(text).toContain("Plan for 'cli-test' (min-cost, deadline 24 h): 2 jobs on");
    expect(text).toMatch(/│ ✔ (spot|on-demand) +│ (g5|g6e)\./);
    expect(text).toContain("Lower bound:");
    expect(text).toMatch(/Schedule \(0 to [\d.]+ h; █ running a job/);
  });

  it("writes a self-contained HTML report with --html", async () => {
    const html = join(cli.directory, "plan.html");
    const code = await main(["plan", spec(24), "--offline", "--html", html]);
    expect(code).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("<svg");
    expect(page).toContain("cli-test");
  });

  it("exits with code 3 and names the job and the deadline when the deadline is too short", async () => {
    const code = await main(["plan", spec(0.1), "--offline"]);
    expect(code).toBe(3);
    expect(cli.stderr.join("")).toMatch(
      /^Infeasible: job `gpt2-lr0\.0001` needs at least [\d.]+ h .*the deadline is 0\.1 h/,
    );
  });

  it("exits with code 3 and names the quota when the quotas admit no allowed instance", async () => {
    const code = await main(["plan", spec(24, { g: 0, p: 0 }), "--offline"]);
    expect(code).toBe(3);
    expect(cli.stderr.join("")).toContain("quota of 0 vCPUs admits no");
  });

  it("exits with code 2 on a time limit that is not a number", async () => {
    const code = await main(["plan", spec(24), "--offline", "--time-limit", "soon"]);
    expect(code).toBe(2);
    expect(cli.stderr.join("")).toContain("--time-limit: expected a number of seconds > 0, got 'soon'");
  });

  it("rejects an --alternatives that is not a whole number with exit code 2", async () => {
    const code = await main(["plan", spec(24), "--offline", "--alternatives", "three"]);
    expect(code).toBe(2);
    expect(cli.stderr.join("")).toContain("--alternatives: expected a whole number >= 0, got 'three'");
  });
});

describe("hasAwsCredentials", () => {
  it("sees keys in the environment", () => {
    expect(hasAwsCredentials({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" })).toBe(true);
  });

  it("sees no credentials when neither variables nor files exist", () => {
    const none = join(cli.directory, "none");
    expect(hasAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: none, AWS_CONFIG_FILE: none })).toBe(false);
  });
});
