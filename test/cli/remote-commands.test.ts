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
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { describeLeftoverInstances } from "../../cli/api/leftover-instances.ts";
import type { RemoteEnvironment } from "../../cli/commands/remote-context.ts";
import { EXIT } from "../../cli/exit-codes.ts";
import { LocalStack } from "../../cli/local/local-stack.ts";
import { main } from "../../cli/main.ts";
import { ENV } from "../../lambdas/config/stack-contract.ts";
import type { ProfilingPhase } from "../../lambdas/core/control-plane/profiling-phase-record.ts";
import type { ProfileRecord } from "../../lambdas/core/estimator/types.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
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

/** The tiny sweep with a profiling phase (as test/sim/fixtures/tiny-profiled.yaml), margin 0: only the configuration each plan chose is measured. */
const PROFILED_SPEC = `${SPEC.replace("name: tiny-sweep", "name: tiny-profiled")}
profiling: { budgetUsd: 5, maxMinutes: 120, marginPercent: 0, warmupSteps: 5, measuredSteps: 20 }
`;

describe("the profiling phase on the local stack", () => {
  const emulator = () => ({
    region: "us-east-1",
    endpoint: stack.emulatorEndpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });

  async function instancesOf(id: string) {
    const ec2 = new EC2Client(emulator());
    try {
      const described = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: "tag:saturn:workload", Values: [id] }] }),
      );
      return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    } finally {
      ec2.destroy();
    }
  }
  const tag = (instance: { Tags?: { Key?: string; Value?: string }[] }, key: string) =>
    instance.Tags?.find((t) => t.Key === key)?.Value;

  async function storedProfiles(signatures: readonly string[]): Promise<ProfileRecord[]> {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient(emulator()));
    try {
      const records: ProfileRecord[] = [];
      for (const signature of new Set(signatures)) {
        const page = await client.send(
          new QueryCommand({
            TableName: deployedStack().environment[ENV.tableName],
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": `PROFILE#${signature}` },
          }),
        );
        for (const item of page.Items ?? []) records.push(item.record as ProfileRecord);
      }
      return records;
    } finally {
      client.destroy();
    }
  }

  it("shows the profiling price with the plan, profiles on the local stack after approval, plans again on measured figures, and runs that plan to completion", async () => {
    const path = join(directory, "profiled.yaml");
    writeFileSync(path, PROFILED_SPEC);
    const submitted = await saturn(["submit", path]);
    expect(submitted.code, submitted.stdout + submitted.stderr).toBe(EXIT.ok);
    expect(submitted.stdout).toMatch(
      /Profiling phase first \(approving this plan approves it\): \d+ on-demand profile runs, about \$\d+\.\d\d \(hard limit \$5\.00, 120 min\)/,
    );
    const id = idIn(submitted.stdout);

    const first = JSON.parse((await saturn(["plan", id, "--json"])).stdout) as Plan;
    expect(first.assignments.every((a) => a.throughputSource === "estimated")).toBe(true);
    const proposed = JSON.parse((await saturn(["status", id, "--json"])).stdout) as { profiling: ProfilingPhase };
    const phase = proposed.profiling;
    expect(phase.status).toBe("proposed");
    expect(phase.runs.length).toBeGreaterThanOrEqual(1);
    expect(phase.estimatedCostUsd).toBeLessThanOrEqual(5);

    // Nothing launches before approval, even with passes and agents running.
    await stack.step(600);
    expect(await instancesOf(id)).toEqual([]);

    expect((await saturn(["approve", id])).code).toBe(EXIT.ok);
    let status = "";
    let sawProfilers = false;
    for (let step = 0; step < 40; step++) {
      await stack.step(60);
      const profilers = (await instancesOf(id)).filter((i) => tag(i, "saturn:role") === "profiler");
      for (const instance of profilers) {
        sawProfilers = true;
        expect(instance.InstanceLifecycle).toBeUndefined(); // on demand
        expect(tag(instance, "saturn:slot")).toMatch(/^profile-\d+-n\d+$/);
      }
      status = JSON.parse((await saturn(["status", id, "--json"])).stdout).status as string;
      if (status === "planned") break;
    }
    expect(sawProfilers).toBe(true);
    expect(status).toBe("planned");
    // Every profile instance is gone before the measured plan is shown.
    const afterPhase = await instancesOf(id);
    expect(afterPhase.length).toBeGreaterThanOrEqual(phase.runs.length);
    expect(afterPhase.every((i) => i.State?.Name === "terminated")).toBe(true);

    const detail = JSON.parse((await saturn(["status", id, "--json"])).stdout) as {
      planVersion: number;
      profiling: ProfilingPhase;
    };
    expect(detail.planVersion).toBe(2);
    const ended = detail.profiling;
    expect(ended.status).toBe("done");
    expect(ended.runs.map((run) => run.status)).toEqual(ended.runs.map(() => "measured"));
    expect(ended.spentUsd).toBeGreaterThan(0);
    expect(ended.spentUsd).toBeLessThanOrEqual(5);

    // The records are in the profile store with where they were measured.
    const records = await storedProfiles(ended.runs.map((run) => run.jobSignature));
    const key = (r: { technique: string; instanceType: string; nodes: number; gpusPerNode: number }) =>
      `${r.technique}|${r.instanceType}|${r.nodes}|${r.gpusPerNode}`;
    for (const run of ended.runs) {
      const record = records.find((r) => key(r) === key(run.config));
      expect(record?.samplesPerSecond).toBe(run.samplesPerSecond);
      expect(record?.where).toMatch(/^local:i-/);
    }

    // Plan v2 says which figures were measured: those of the profiled configurations.
    const second = JSON.parse((await saturn(["plan", id, "--json"])).stdout) as Plan;
    expect(second.assignments.some((a) => a.throughputSource === "measured")).toBe(true);
    const measuredKeys = new Set(ended.runs.map((run) => key(run.config)));
    for (const assignment of second.assignments) {
      const instanceType = second.instances.find((slot) => slot.id === assignment.instanceIds[0])?.instanceType ?? "";
      const config = {
        technique: assignment.technique,
        instanceType,
        nodes: assignment.instanceIds.length,
        gpusPerNode: assignment.gpusPerInstance,
      };
      expect(assignment.throughputSource === "measured").toBe(measuredKeys.has(key(config)));
    }

    // The second approval runs the measured plan to the end; nothing is left running.
    const watched = await saturn(["approve", id]);
    expect(watched.code).toBe(EXIT.ok);
    const done = await saturn(["status", id, "--watch"]);
    expect(done.stdout).toMatch(/ended completed: 2\/2 jobs completed/);
    expect((await instancesOf(id)).every((i) => i.State?.Name === "terminated")).toBe(true);
  }, 300_000);
});
