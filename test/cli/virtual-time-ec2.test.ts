/**
 * The local stack's EC2 seam against moto: moto stamps launches and terminations with its
 * wall clock, the control plane runs on the virtual clock. Spend of an instance launched an
 * hour (virtual) into a run counts from its launch, not from moto's wall-clock stamp.
 */
import { randomUUID } from "node:crypto";
import { CreateLaunchTemplateCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../cli/local/virtual-clock.ts";
import { VirtualTimeEc2 } from "../../cli/local/virtual-time-ec2.ts";
import { loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { Ec2FleetCloud } from "../../lambdas/adapters/ec2-fleet.ts";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { emulatorClientConfig } from "../support/aws.ts";

const G5_XLARGE_ON_DEMAND = 1.006;

async function cloudOn(clock: VirtualClock, workload: string): Promise<Ec2FleetCloud> {
  const real = new EC2Client({ ...emulatorClientConfig(), maxAttempts: 1 });
  const subnets = await real.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  const template = await real.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `virtual-time-${workload}`,
      LaunchTemplateData: { ImageId: "ami-12c6146b" },
    }),
  );
  return new Ec2FleetCloud({
    region: "us-east-1",
    launchTemplateId: template.LaunchTemplate?.LaunchTemplateId ?? "",
    subnetIds: (subnets.Subnets ?? []).slice(0, 2).map((subnet) => subnet.SubnetId ?? ""),
    placementGroupName: `pg-${workload}`,
    catalog: loadCatalog(),
    ec2: new VirtualTimeEc2(real, clock),
    now: clock.nowSeconds,
  });
}

describe("VirtualTimeEc2", () => {
  it("bills an instance launched an hour into virtual time from its virtual launch, and ends it at its virtual termination", async () => {
    const clock = new VirtualClock(Date.now());
    const workload = `w-${randomUUID().slice(0, 8)}`;
    const cloud = await cloudOn(clock, workload);
    const tags = { [SATURN_TAGS.workload]: workload };
    clock.advanceBy(3600_000);
    const launched = await cloud.launch({
      instanceType: "g5.xlarge",
      market: "on-demand",
      availabilityZone: undefined,
      tags: { ...tags, [SATURN_TAGS.plan]: "1", [SATURN_TAGS.role]: "worker", [SATURN_TAGS.slot]: "s1" },
      clientToken: `${workload}:v1:s1`,
    });
    clock.advanceBy(600_000);
    const [seen] = await cloud.describe(tags);
    expect(seen?.launchedAt).toBeCloseTo(clock.nowSeconds() - 600, 3);
    // Ten virtual minutes: moto's wall-clock LaunchTime would have made it seventy.
    expect(await cloud.spendUsd(tags)).toBeCloseTo((600 / 3600) * G5_XLARGE_ON_DEMAND, 6);

    await cloud.terminate([launched.id]);
    const ended = await cloud.spendUsd(tags);
    clock.advanceBy(3600_000);
    // An hour later nothing more is billed (EC2's reason stamp has whole seconds, rounded up).
    expect(await cloud.spendUsd(tags)).toBeCloseTo(ended, 3);
    expect(ended).toBeCloseTo((600 / 3600) * G5_XLARGE_ON_DEMAND, 3);
  });

  it("reads a wall-clock stamp it did not see as the virtual time in force at that moment", () => {
    let real = 1_000_000;
    const clock = new VirtualClock(5_000_000, () => real);
    real += 2000;
    clock.advanceBy(60_000);
    real += 3000;
    clock.advanceBy(60_000);
    expect(clock.virtualAt(999_000)).toBe(5_000_000);
    expect(clock.virtualAt(1_001_000)).toBe(5_000_000);
    expect(clock.virtualAt(1_002_500)).toBe(5_060_000);
    expect(clock.virtualAt(1_009_000)).toBe(5_120_000);
  });
});
