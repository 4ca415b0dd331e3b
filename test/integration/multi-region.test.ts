/**
 * Two regions on the local stack (issue 10): `saturn local --regions us-east-1,us-west-2`
 * deploys the home stack and a regional stack for us-west-2 into a moto server of its own
 * (moto serves every region on one endpoint). The reconciler's cloud, built by the
 * composition root from the deployed environment, launches a planned us-west-2 instance
 * with the regional stack's launch template (found by its tags), a fresh one finds it by
 * tag and terminates it, and the hourly sweeper ends a stray tagged instance there.
 *
 * Not here: a whole submitted two-region workload run to completion through the API (see
 * docs/decisions.md, issue 10 part c: that run did not finish within the test's time and is
 * left open).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGIONAL_OUTPUTS } from "../../cdk/regional-stack.ts";
import { LOCAL_REGION, LocalStack } from "../../cli/local/local-stack.ts";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { controlPlane } from "../../lambdas/handlers/composition-root.ts";
import { launchTaggedInstance } from "./support/tagged-instance.ts";

const OTHER = "us-west-2";
let stack: LocalStack;

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

describe("a two-region workload on the local stack", { timeout: 600_000 }, () => {
  it("deploys a regional stack into the second region", () => {
    expect(stack.deployed.regions).toEqual([LOCAL_REGION, OTHER]);
    expect(stack.deployed.regionalOutputs[OTHER]?.[REGIONAL_OUTPUTS.launchTemplateId]).toMatch(/^lt-/);
  });

  it("launches in the planned region with the regional stack's template, observes and terminates it from home", async () => {
    // The reconciler's own cloud, built by the composition root from the deployed environment.
    const plane = controlPlane(
      { ...stack.deployed.environment, AWS_REGION: LOCAL_REGION },
      {
        clientConfig: {
          endpoint: stack.emulatorEndpoint,
          credentials: { accessKeyId: "test", secretAccessKey: "test" },
        },
      },
    );
    const workloadId = "w-two-regions";
    const cloud = plane.reconciler().cloudFor(workloadId);
    const launched = await cloud.launch({
      instanceType: "g6e.xlarge",
      market: "spot",
      region: OTHER,
      availabilityZone: undefined,
      tags: {
        [SATURN_TAGS.workload]: workloadId,
        [SATURN_TAGS.plan]: "1",
        [SATURN_TAGS.role]: "worker",
        [SATURN_TAGS.slot]: "i001",
      },
      clientToken: `${workloadId}:0:v1:i001`,
    });
    expect(launched.region).toBe(OTHER);
    const [west] = await instancesIn(OTHER, { [SATURN_TAGS.workload]: workloadId });
    expect(west?.InstanceId).toBe(launched.id);
    expect(west?.Placement?.AvailabilityZone?.startsWith(OTHER)).toBe(true);
    expect(west?.InstanceLifecycle).toBe("spot");
    expect(await instancesIn(LOCAL_REGION, { [SATURN_TAGS.workload]: workloadId })).toEqual([]);

    // The next pass's cloud finds it by tag and ends it.
    const next = plane.reconciler().cloudFor(workloadId);
    const seen = await next.describe({ [SATURN_TAGS.workload]: workloadId });
    expect(seen.map((instance) => [instance.id, instance.region])).toEqual([[launched.id, OTHER]]);
    await next.terminate([launched.id]);
    const [after] = await instancesIn(OTHER, { [SATURN_TAGS.workload]: workloadId });
    expect(["shutting-down", "terminated"]).toContain(after?.State?.Name);
  });

  it("sweeps a stray Saturn-tagged instance in the other region", async () => {
    const ec2 = ec2In(OTHER);
    const strayId = await launchTaggedInstance(ec2, {
      [SATURN_TAGS.workload]: "w-unknown-stray",
      [SATURN_TAGS.role]: "worker",
    });
    ec2.destroy();
    // The hourly sweeper runs within the next virtual hour.
    await stack.step(3600);
    const [after] = await instancesIn(OTHER, { [SATURN_TAGS.workload]: "w-unknown-stray" });
    expect(after?.InstanceId).toBe(strayId);
    expect(["shutting-down", "terminated"]).toContain(after?.State?.Name);
  });
});
