/**
 * A two-region workload on the local stack (issue 10): `saturn local --regions
 * us-east-1,us-west-2` deploys the home stack and a regional stack for us-west-2 into a
 * moto server of its own (moto serves every region on one endpoint). The spec allows no
 * spot vCPUs at home, so the planner must put the jobs in us-west-2; the reconciler then
 * launches them there with the regional stack's launch template (found by its tags), the
 * simulated agents run them, everything is terminated at the end, and the sweeper ends a
 * stray tagged instance in the other region. Virtual time moves only in `step`.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { REGIONAL_OUTPUTS } from "../../cdk/regional-stack.ts";
import { EXIT } from "../../cli/exit-codes.ts";
import { LOCAL_REGION, LocalStack } from "../../cli/local/local-stack.ts";
import { main } from "../../cli/main.ts";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";

const OTHER = "us-west-2";
let stack: LocalStack;
let specPath: string;

const SPEC = `
name: two-regions
region: ${LOCAL_REGION}
regions: [${LOCAL_REGION}, ${OTHER}]
objective: { kind: min-cost, deadlineHours: 12 }
markets: [spot]
instanceTypes: { allow: [g5, g6e] }
quotas:
  - { region: ${LOCAL_REGION}, group: G, market: spot, vcpus: 0 }
  - { region: ${OTHER}, group: G, market: spot, vcpus: 256 }
spot: { checkpointIntervalMinutes: 15, restartMinutes: 3 }
planner: { timeLimitSeconds: 2, bootMinutes: 4 }
jobs:
  - { id: tiny, model: gpt2-xl, batchSize: 16, work: { samples: 12000 }, sweep: { lr: [0.0001, 0.001] } }
`;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  stack = await LocalStack.start({
    regions: [LOCAL_REGION, OTHER],
    spotInterruptions: false,
    planSeconds: 2,
    observability: (name) => ({
      logger: new Logger({ serviceName: `test-${name}`, logLevel: "SILENT" }),
      metrics: new Metrics({ namespace: "SaturnTest", serviceName: `test-${name}` }),
    }),
  });
  const directory = await mkdtemp(join(tmpdir(), "saturn-regions-"));
  specPath = join(directory, "two-regions.yaml");
  writeFileSync(specPath, SPEC);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

function ec2In(region: string): EC2Client {
  return new EC2Client({
    region,
    endpoint: stack.emulatorEndpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

async function instancesIn(region: string, tags: Readonly<Record<string, string>>): Promise<Instance[]> {
  const ec2 = ec2In(region);
  try {
    const described = await ec2.send(
      new DescribeInstancesCommand({
        Filters: Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
      }),
    );
    return (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
  } finally {
    ec2.destroy();
  }
}

/** `saturn submit <spec> --yes --watch` against the local stack; each poll moves it ten virtual minutes. */
async function submitAndWatch(): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await main(["submit", specPath, "--yes", "--watch", "--api", stack.apiUrl], {
      remote: {
        credentials: stack.user,
        ask: undefined,
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        sleep: async () => stack.step(600),
        leftovers: async () => [],
      },
    });
    return { code: code !== 0 ? code : Number(process.exitCode ?? 0), stdout };
  } finally {
    process.exitCode = saved;
    out.mockRestore();
    err.mockRestore();
  }
}

describe("a two-region workload on the local stack", { timeout: 600_000 }, () => {
  it("deploys a regional stack into the second region", () => {
    expect(stack.deployed.regions).toEqual([LOCAL_REGION, OTHER]);
    expect(stack.deployed.regionalOutputs[OTHER]?.[REGIONAL_OUTPUTS.launchTemplateId]).toMatch(/^lt-/);
  });

  it("launches the jobs in the planned region with their tags and terminates everything at the end", async () => {
    const result = await submitAndWatch();
    expect(result.stdout).toMatch(/ended completed: 2\/2 jobs completed/);
    expect(result.code, result.stdout).toBe(EXIT.ok);
    const id = /as (w-[0-9a-f-]+)/.exec(result.stdout)?.[1] ?? "";
    expect(id).not.toBe("");

    const west = await instancesIn(OTHER, { [SATURN_TAGS.workload]: id });
    expect(west.length).toBeGreaterThan(0);
    for (const instance of west) {
      expect(instance.Placement?.AvailabilityZone?.startsWith(OTHER)).toBe(true);
      const tags = Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
      expect(tags[SATURN_TAGS.role]).toBe("worker");
      expect(tags[SATURN_TAGS.plan]).toMatch(/^\d+$/);
      expect(tags[SATURN_TAGS.slot]).toBeDefined();
      expect(instance.InstanceLifecycle).toBe("spot");
      expect(["shutting-down", "terminated"]).toContain(instance.State?.Name);
    }
    // Home had no spot quota: nothing launched there.
    expect(await instancesIn(LOCAL_REGION, { [SATURN_TAGS.workload]: id })).toEqual([]);
  });

  it("sweeps a stray Saturn-tagged instance in the other region", async () => {
    const ec2 = ec2In(OTHER);
    const image = (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images?.[0]?.ImageId;
    const stray = await ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        InstanceType: "g5.xlarge",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: SATURN_TAGS.workload, Value: "w-unknown-stray" },
              { Key: SATURN_TAGS.role, Value: "worker" },
            ],
          },
        ],
      }),
    );
    ec2.destroy();
    const strayId = stray.Instances?.[0]?.InstanceId ?? "";
    // The hourly sweeper runs within the next virtual hour.
    await stack.step(3600);
    const [after] = await instancesIn(OTHER, { [SATURN_TAGS.workload]: "w-unknown-stray" });
    expect(after?.InstanceId).toBe(strayId);
    expect(["shutting-down", "terminated"]).toContain(after?.State?.Name);
  });
});
