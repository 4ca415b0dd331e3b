/**
 * `saturn local` and the remote commands end to end, on the stack the global setup deployed
 * into its own moto server (`saturn local` itself starts moto and deploys the same way): the CLI signs its requests, the local stack's router
 * checks them and calls the real api handler, which the real planner, reconciler and
 * worker-event handlers (fed by the deployed queues) and the simulated agents complete.
 * Virtual time moves only when a command would sleep between polls: no sleeps here.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { describeLeftoverInstances } from "../../cli/api/leftover-instances.ts";
import type { RemoteEnvironment } from "../../cli/commands/remote-context.ts";
import { EXIT } from "../../cli/exit-codes.ts";
import { LocalStack } from "../../cli/local/local-stack.ts";
import { main } from "../../cli/main.ts";
import { deployedStack } from "../support/deployed-stack.ts";

let stack: LocalStack;
let directory: string;
let specPath: string;

/** Small enough to plan in about a second and run in under two virtual hours. */
const SPEC = `
name: tiny-sweep
region: us-east-1
objective: { kind: min-cost, deadlineHours: 12 }
markets: [spot, on-demand]
instanceTypes: { allow: [g5, g6e] }
quotas:
  - { group: G, market: spot, vcpus: 256 }
  - { group: G, market: on-demand, vcpus: 256 }
spot: { checkpointIntervalMinutes: 15, restartMinutes: 3 }
planner: { timeLimitSeconds: 2, bootMinutes: 4 }
jobs:
  - { id: tiny, model: gpt2-xl, batchSize: 16, work: { samples: 40000 }, sweep: { lr: [0.0001, 0.001] } }
`;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  stack = await LocalStack.start({
    deployed: deployedStack(),
    spotInterruptions: false,
    planSeconds: 2,
    observability: (name) => ({
      logger: new Logger({ serviceName: `test-${name}`, logLevel: "SILENT" }),
      metrics: new Metrics({ namespace: "SaturnTest", serviceName: `test-${name}` }),
    }),
  });
  directory = await mkdtemp(join(tmpdir(), "saturn-remote-"));
  specPath = join(directory, "tiny.yaml");
  writeFileSync(specPath, SPEC);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function saturn(args: readonly string[], remote: Partial<RemoteEnvironment> = {}): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await main([...args, "--api", stack.apiUrl], {
      remote: {
        credentials: stack.user,
        ask: undefined,
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        // Each poll moves the stack ten virtual minutes on, instead of sleeping (no spot
        // interruptions here, so no step needs to be shorter than the two-minute notice).
        sleep: async () => stack.step(600),
        leftovers: async (id, region) => {
          const keep = { ...process.env };
          Object.assign(process.env, {
            AWS_ENDPOINT_URL_EC2: stack.emulatorEndpoint,
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
          });
          try {
            return await describeLeftoverInstances(id, region);
          } finally {
            process.env = keep;
          }
        },
        ...remote,
      },
    });
    return { code: code !== 0 ? code : (Number(process.exitCode ?? 0) as number), stdout, stderr };
  } finally {
    process.exitCode = saved;
    err.mockRestore();
    out.mockRestore();
  }
}

function idIn(text: string): string {
  const id = /as (w-[0-9a-f-]+)/.exec(text)?.[1];
  if (id === undefined) throw new Error(`Expected a workload id in:\n${text}`);
  return id;
}

describe("saturn submit, plan, list, approve, cancel, status against the local stack", () => {
  it("submits without --yes and without a terminal: shows the priced plan, leaves it planned, says how to approve", async () => {
    const result = await saturn(["submit", specPath]);

    expect(result.code, result.stdout + result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/expected cost +\$\d+\.\d\d/);
    expect(result.stdout).toMatch(/budget cost +\$\d+\.\d\d/);
    expect(result.stdout).toMatch(/makespan/);
    expect(result.stdout).toMatch(/g(5|6e)\.\w+ +│? *(spot|on-demand)/);
    const id = idIn(result.stdout);
    expect(result.stdout).toContain(`saturn approve ${id}`);

    const listed = await saturn(["list"]);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain("planned");

    const plan = await saturn(["plan", id, "--json"]);
    expect(JSON.parse(plan.stdout).assignments).toHaveLength(2);

    const html = join(directory, "plan.html");
    const report = await saturn(["plan", id, "--html", html]);
    expect(report.code).toBe(EXIT.ok);
    expect(await readFile(html, "utf8")).toContain("<svg");

    const cancelled = await saturn(["cancel", id]);
    expect(cancelled.stdout).toContain(`${id} is cancelled`);
    const again = await saturn(["approve", id]);
    expect(again.code).toBe(EXIT.conflict);
    expect(again.stderr).toContain("HTTP 409");
  });

  it("answers exit 5 for an unknown workload and exit 2 for a bad spec, sending nothing", async () => {
    const unknown = await saturn(["status", "w-00000000-0000-0000-0000-000000000000"]);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.stderr).toContain("HTTP 404");

    const bad = join(directory, "bad.yaml");
    writeFileSync(bad, SPEC.replace("deadlineHours: 12", "deadlineHours: -3"));
    const before = (await saturn(["list", "--json"])).stdout;
    const refused = await saturn(["submit", bad, "--yes"]);
    expect(refused.code).toBe(EXIT.badInput);
    expect(refused.stderr).toContain("objective.deadlineHours");
    expect((await saturn(["list", "--json"])).stdout).toBe(before);
  });

  it("refuses another owner's workload with exit 4 (HTTP 403)", async () => {
    const mine = idIn((await saturn(["submit", specPath])).stdout);
    const other = await stack.identities.createUser("someone-else");

    const result = await saturn(["status", mine], { credentials: other });

    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toContain("HTTP 403");
  });

  it("submit --yes --watch runs the workload to completion and confirms nothing is left running", async () => {
    const result = await saturn(["submit", specPath, "--yes", "--watch"]);

    // (stderr carries the handlers' Powertools notices, not the CLI's.)
    expect(result.stderr).not.toMatch(/saturn:|HTTP \d{3}/);
    expect(result.stdout).toContain("Approved:");
    expect(result.stdout).toMatch(/ended completed: 2\/2 jobs completed/);
    expect(result.stdout).toContain("Nothing left running");
    expect(result.code).toBe(EXIT.ok);
    const id = idIn(result.stdout);
    const ec2 = new EC2Client({
      region: "us-east-1",
      endpoint: stack.emulatorEndpoint,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const described = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tag:saturn:workload", Values: [id] }] }),
    );
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((state) => state === "terminated")).toBe(true);
    ec2.destroy();
  }, 300_000);
});
