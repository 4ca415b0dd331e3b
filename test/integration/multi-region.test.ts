/**
 * Two regions on the local stack (issue 10): `saturn local --regions us-east-1,us-west-2`
 * deploys the home stack and a regional stack for us-west-2 into a moto server of its own
 * (moto serves every region on one endpoint). The reconciler's cloud, built by the
 * composition root from the deployed environment, launches a planned us-west-2 instance
 * with the regional stack's launch template (found by its tags), a fresh one finds it by
 * tag and terminates it, and the hourly sweeper ends a stray tagged instance there.
 *
 * A multi-node launch there is refused before anything launches (moto serves no placement
 * groups: its DescribePlacementGroups answers 500, the real emulator's answer), and a
 * submitted two-region workload runs through the API to completion in us-west-2.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import type { EventBridgeEvent, Handler } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGIONAL_OUTPUTS } from "../../cdk/regional-stack.ts";
import { SaturnApiClient } from "../../cli/api/saturn-api-client.ts";
import { WorkloadApi } from "../../cli/api/workload-api.ts";
import { lambdaContext } from "../../cli/local/lambda-context.ts";
import { LOCAL_REGION, LocalStack } from "../../cli/local/local-stack.ts";
import { formatPlanSummary } from "../../cli/remote/plan-summary.ts";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { LaunchRefusedError } from "../../lambdas/core/cloud/launch-errors.ts";
import { controlPlane } from "../../lambdas/handlers/composition-root.ts";
import { createEc2EventsHandler } from "../../lambdas/handlers/ec2-events.ts";
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

/** The control plane the composition root builds from the deployed environment. */
function homePlane() {
  return controlPlane(
    { ...stack.deployed.environment, AWS_REGION: LOCAL_REGION },
    {
      clientConfig: { endpoint: stack.emulatorEndpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } },
    },
  );
}

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
    const plane = homePlane();
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

    // The regional stack's rule forwards the region's EC2 events to the home bus. moto
    // delivers no EventBridge events, so the event is handed to the home handler as the rule
    // would deliver it (its region the source one): it finds the instance in us-west-2.
    const ec2Events = createEc2EventsHandler(() => plane.ec2Events(), {
      logger: new Logger({ serviceName: "test-ec2-events", logLevel: "SILENT" }),
      metrics: new Metrics({ namespace: "SaturnTest", serviceName: "test-ec2-events" }),
    }) as unknown as Handler<EventBridgeEvent<string, unknown>, unknown>;
    const forwarded: EventBridgeEvent<string, unknown> = {
      version: "0",
      id: randomUUID(),
      "detail-type": "EC2 Spot Instance Interruption Warning",
      source: "aws.ec2",
      account: stack.deployed.account,
      time: new Date().toISOString(),
      region: OTHER,
      resources: [`arn:aws:ec2:${OTHER}:${stack.deployed.account}:instance/${launched.id}`],
      detail: { "instance-id": launched.id, "instance-action": "terminate" },
    };
    expect(await ec2Events(forwarded, lambdaContext("ec2-events", randomUUID()), () => {})).toEqual({ workloadId });

    // The next pass's cloud finds it by tag, sees the warning, and ends it.
    const next = plane.reconciler().cloudFor(workloadId);
    const seen = await next.describe({ [SATURN_TAGS.workload]: workloadId });
    expect(seen.map((instance) => [instance.id, instance.region])).toEqual([[launched.id, OTHER]]);
    expect(seen[0]?.interruptionNoticeAt).toBeDefined();
    await next.terminate([launched.id]);
    const [after] = await instancesIn(OTHER, { [SATURN_TAGS.workload]: workloadId });
    expect(["shutting-down", "terminated"]).toContain(after?.State?.Name);
  });

  it("refuses a multi-node launch in the other region, whose placement group moto cannot look up, launching nothing", async () => {
    const plane = homePlane();
    const workloadId = "w-two-regions-cluster";
    const refused = plane
      .reconciler()
      .cloudFor(workloadId)
      .launch({
        instanceType: "g5.xlarge",
        market: "spot",
        region: OTHER,
        availabilityZone: undefined,
        cluster: true,
        tags: { [SATURN_TAGS.workload]: workloadId, [SATURN_TAGS.plan]: "1", [SATURN_TAGS.role]: "worker" },
        clientToken: `${workloadId}:0:v1:i001`,
      });
    await expect(refused).rejects.toBeInstanceOf(LaunchRefusedError);
    await expect(refused).rejects.toMatchObject({ details: { code: "PlacementGroupUnavailable" } });
    expect(await instancesIn(OTHER, { [SATURN_TAGS.workload]: workloadId })).toEqual([]);
  });

  it("runs a submitted two-region workload through the API to completion in the region it was planned in", async () => {
    const api = new WorkloadApi(
      new SaturnApiClient({
        endpoint: { url: new URL(stack.apiUrl), region: LOCAL_REGION, source: "--api" },
        credentials: stack.user,
      }),
    );
    // No spot quota at home: the spot fleet can only be in us-west-2.
    const spec = `name: two-region
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
jobs: [{ id: tiny, model: gpt2-xl, batchSize: 16, work: { samples: 6000 }, sweep: { lr: [0.0001, 0.001] } }]
`;
    const submitted = await api.submit(spec, randomUUID());
    let detail = await api.get(submitted.id);
    for (let k = 0; k < 60 && detail.status === "planning"; k++) {
      await stack.step(1);
      detail = await api.get(submitted.id);
    }
    expect(detail.status).toBe("planned");
    const planned = await api.plan(submitted.id);
    expect(planned.plan.instances.every((slot) => slot.region === OTHER)).toBe(true);
    const summary = formatPlanSummary(planned);
    expect(summary).toContain(OTHER);
    expect(summary).toMatch(/data transfer +\$\d+\.\d\d on top/);

    await api.approve(submitted.id);
    const launchedIn = new Set<string>();
    for (let k = 0; k < 60 && !["completed", "failed", "cancelled"].includes(detail.status); k++) {
      await stack.step(300);
      detail = await api.get(submitted.id);
      for (const instance of detail.instances) launchedIn.add(instance.region ?? "none");
    }
    expect(detail.status).toBe("completed");
    expect(detail.jobs.map((job) => job.status)).toEqual(["done", "done"]);
    expect([...launchedIn]).toEqual([OTHER]);
    expect(detail.spend.spentUsd).toBeGreaterThan(0);
    const left = (await instancesIn(OTHER, { [SATURN_TAGS.workload]: submitted.id })).filter(
      (instance) => !["shutting-down", "terminated"].includes(instance.State?.Name ?? ""),
    );
    expect(left).toEqual([]);
    expect(await instancesIn(LOCAL_REGION, { [SATURN_TAGS.workload]: submitted.id })).toEqual([]);
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
