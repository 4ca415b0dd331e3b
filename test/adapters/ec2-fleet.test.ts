import { randomUUID } from "node:crypto";
import {
  CreateLaunchTemplateCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSpotPriceHistoryCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import {
  EC2_TAGS,
  type Ec2ClientPort,
  Ec2FleetCloud,
  type Ec2FleetCloudOptions,
  REGIONAL_TAGS,
} from "../../lambdas/adapters/ec2-fleet.ts";
import { billedCostUsd } from "../../lambdas/core/cloud/billing.ts";
import { type LaunchRequest, SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { CapacityError, LaunchRefusedError, QuotaError } from "../../lambdas/core/cloud/launch-errors.ts";
import { emulatorClientConfig } from "../support/aws.ts";
import { createTestTable } from "../support/dynamodb-table.ts";
import { FaultyEc2 } from "../support/faulty-ec2.ts";

const catalog = loadCatalog();

interface Setup {
  readonly ec2: FaultyEc2;
  readonly workload: string;
  readonly subnets: readonly { id: string; zone: string }[];
  readonly options: Ec2FleetCloudOptions;
}

async function setup(): Promise<Setup> {
  const ec2 = new FaultyEc2();
  const workload = `w-${randomUUID().slice(0, 8)}`;
  const found = await ec2.real.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  const subnets = (found.Subnets ?? [])
    .slice(0, 3)
    .map((subnet) => ({ id: subnet.SubnetId ?? "", zone: subnet.AvailabilityZone ?? "" }));
  const template = async (name: string) =>
    (
      await ec2.real.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `${name}-${workload}`,
          LaunchTemplateData: { ImageId: "ami-12c6146b", MetadataOptions: { HttpTokens: "required" } },
        }),
      )
    ).LaunchTemplate?.LaunchTemplateId ?? "";
  const options: Ec2FleetCloudOptions = {
    region: "us-east-1",
    launchTemplateId: await template("saturn-worker"),
    efaLaunchTemplateId: await template("saturn-worker-efa"),
    subnetIds: subnets.map((subnet) => subnet.id),
    placementGroupName: `saturn-cluster-${workload}`,
    catalog,
    ec2,
  };
  return { ec2, workload, subnets, options };
}

function request(workload: string, slot: string, overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    instanceType: "g6e.xlarge",
    market: "spot",
    availabilityZone: undefined,
    tags: {
      [SATURN_TAGS.workload]: workload,
      [SATURN_TAGS.plan]: "1",
      [SATURN_TAGS.role]: "worker",
      [SATURN_TAGS.slot]: slot,
    },
    clientToken: `${workload}:0:v1:${slot}`,
    ...overrides,
  };
}

describe("Ec2FleetCloud against the emulator", () => {
  let s: Setup;

  beforeEach(async () => {
    s = await setup();
  });

  it("launches a spot instance with one CreateFleet instant, overrides per subnet and tags everywhere", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    const launched = await cloud.launch(request(s.workload, "i0"));
    const [input] = s.ec2.fleetInputs();
    expect(input?.Type).toBe("instant");
    expect(input?.ClientToken).toBe(`${s.workload}:0:v1:i0`);
    expect(input?.TargetCapacitySpecification).toMatchObject({
      TotalTargetCapacity: 1,
      DefaultTargetCapacityType: "spot",
    });
    expect(input?.LaunchTemplateConfigs?.[0]?.LaunchTemplateSpecification?.LaunchTemplateId).toBe(
      s.options.launchTemplateId,
    );
    expect(input?.LaunchTemplateConfigs?.[0]?.Overrides?.map((o) => [o.InstanceType, o.SubnetId])).toEqual(
      s.subnets.map((subnet) => ["g6e.xlarge", subnet.id]),
    );
    expect(input?.TagSpecifications?.map((spec) => spec.ResourceType)).toEqual(["instance", "volume", "fleet"]);
    for (const spec of input?.TagSpecifications ?? []) {
      expect(spec.Tags).toEqual(
        expect.arrayContaining([
          { Key: SATURN_TAGS.workload, Value: s.workload },
          { Key: SATURN_TAGS.slot, Value: "i0" },
          { Key: EC2_TAGS.token, Value: `${s.workload}:0:v1:i0` },
        ]),
      );
    }
    const [seen] = await cloud.describe({ [SATURN_TAGS.workload]: s.workload });
    expect(seen).toMatchObject({ id: launched.id, market: "spot", instanceType: "g6e.xlarge" });
    expect(seen?.tags[SATURN_TAGS.plan]).toBe("1");
    expect(s.subnets.map((subnet) => subnet.zone)).toContain(seen?.availabilityZone);
    // The zone's spot price at launch is recorded on the instance and read back.
    expect(Number(seen?.tags[EC2_TAGS.price])).toBe(seen?.hourlyPriceUsd);
    expect(seen?.hourlyPriceUsd).toBeGreaterThan(0);
    expect(seen?.privateIpAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it("launches on-demand in the requested zone at the catalog's price", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    const zone = s.subnets[1]?.zone;
    const launched = await cloud.launch(request(s.workload, "i1", { market: "on-demand", availabilityZone: zone }));
    const [input] = s.ec2.fleetInputs();
    expect(input?.TargetCapacitySpecification).toMatchObject({
      DefaultTargetCapacityType: "on-demand",
      OnDemandTargetCapacity: 1,
    });
    expect(input?.LaunchTemplateConfigs?.[0]?.Overrides?.map((o) => o.SubnetId)).toEqual([s.subnets[1]?.id]);
    const [seen] = await cloud.describe({ [SATURN_TAGS.workload]: s.workload });
    expect(seen).toMatchObject({ id: launched.id, market: "on-demand", availabilityZone: zone, hourlyPriceUsd: 1.861 });
  });

  it("returns the instance of an earlier launch with the same token and creates nothing", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    const first = await cloud.launch(request(s.workload, "i0"));
    const again = await new Ec2FleetCloud(s.options).launch(request(s.workload, "i0"));
    expect(again.id).toBe(first.id);
    expect(s.ec2.fleetInputs()).toHaveLength(1);
    expect(await cloud.describe({ [SATURN_TAGS.workload]: s.workload })).toHaveLength(1);
  });

  it.each([
    ["InsufficientInstanceCapacity", "CapacityError", CapacityError],
    ["UnfulfillableCapacity", "CapacityError", CapacityError],
    ["VcpuLimitExceeded", "QuotaError", QuotaError],
    ["MaxSpotInstanceCountExceeded", "QuotaError", QuotaError],
    ["InvalidParameterValue", "LaunchRefusedError", LaunchRefusedError],
  ] as const)(
    "maps a CreateFleet %s error (injected at the client seam) to %s and launches nothing",
    async (code, _, type) => {
      const cloud = new Ec2FleetCloud(s.options);
      s.ec2.failNextFleets({ codes: [code] });
      const failure = await cloud.launch(request(s.workload, "i0")).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(type);
      expect((failure as CapacityError).details).toMatchObject({ code, instanceType: "g6e.xlarge", market: "spot" });
      expect(await cloud.describe({ [SATURN_TAGS.workload]: s.workload })).toEqual([]);
    },
  );

  it("prefers a quota error over capacity errors of other overrides", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    s.ec2.failNextFleets({ codes: ["InsufficientInstanceCapacity", "VcpuLimitExceeded"] });
    const failure = await cloud.launch(request(s.workload, "i0")).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QuotaError);
    expect((failure as QuotaError).message).toContain("InsufficientInstanceCapacity");
  });

  it("launches under the same token after a refused launch (the refusal created nothing)", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    s.ec2.failNextFleets({ codes: ["InsufficientInstanceCapacity"] });
    await expect(cloud.launch(request(s.workload, "i0"))).rejects.toBeInstanceOf(CapacityError);
    const launched = await cloud.launch(request(s.workload, "i0"));
    expect(await cloud.describe({ [SATURN_TAGS.workload]: s.workload })).toMatchObject([{ id: launched.id }]);
  });

  it("puts all nodes of a multi-node launch in one zone and the placement group, with the EFA template on EFA types", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    const node0 = await cloud.launch(request(s.workload, "i0", { instanceType: "p4d.24xlarge", cluster: true }));
    const node1 = await cloud.launch(request(s.workload, "i1", { instanceType: "p4d.24xlarge", cluster: true }));
    const inputs = s.ec2.fleetInputs();
    for (const input of inputs) {
      const config = input.LaunchTemplateConfigs?.[0];
      expect(config?.LaunchTemplateSpecification?.LaunchTemplateId).toBe(s.options.efaLaunchTemplateId);
      expect(config?.Overrides).toHaveLength(1);
      expect(config?.Overrides?.[0]?.Placement?.GroupName).toBe(s.options.placementGroupName);
    }
    expect(node1.availabilityZone).toBe(node0.availabilityZone);
    expect(node0.tags[EC2_TAGS.placementGroup]).toBe(s.options.placementGroupName);
    // A type without EFA keeps the plain template.
    await cloud.launch(request(s.workload, "i2", { instanceType: "g6e.xlarge", cluster: true }));
    expect(s.ec2.fleetInputs()[2]?.LaunchTemplateConfigs?.[0]?.LaunchTemplateSpecification?.LaunchTemplateId).toBe(
      s.options.launchTemplateId,
    );
  });

  it("terminates idempotently, ignoring unknown and already terminated ids", async () => {
    const cloud = new Ec2FleetCloud(s.options);
    const a = await cloud.launch(request(s.workload, "i0"));
    const b = await cloud.launch(request(s.workload, "i1"));
    await cloud.terminate([a.id, "i-0000000000000dead"]);
    await cloud.terminate([a.id]);
    await cloud.terminate([]);
    const states = new Map((await cloud.describe({ [SATURN_TAGS.workload]: s.workload })).map((i) => [i.id, i.state]));
    expect(states.get(a.id)).not.toBe("running");
    expect(states.get(b.id)).toBe("running");
  });

  it("counts spend from lifetimes and launch prices, and keeps ended instances settled", async () => {
    const table = await createTestTable();
    const store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    let offset = 3600;
    const now = () => Date.now() / 1000 + offset;
    const cloud = new Ec2FleetCloud({ ...s.options, now, ledger: { store, workloadId: s.workload } });
    const a = await cloud.launch(request(s.workload, "i0", { market: "on-demand" }));
    await cloud.launch(request(s.workload, "i1", { market: "on-demand", instanceType: "g5.xlarge" }));
    const tags = { [SATURN_TAGS.workload]: s.workload };
    const before = await cloud.describe(tags);
    const spend = await cloud.spendUsd(tags);
    const hour = before.reduce((sum, i) => sum + billedCostUsd(i.launchedAt, now(), i.hourlyPriceUsd), 0);
    expect(spend).toBeGreaterThan(0.99 * (1.861 + 1.006));
    expect(spend).toBeLessThanOrEqual(hour + 1e-9);

    await cloud.terminate([a.id]);
    const ended = await cloud.spendUsd(tags);
    offset += 7200;
    const later = await cloud.spendUsd(tags);
    // Only the running instance keeps adding: two more hours of g5.xlarge.
    expect(later - ended).toBeCloseTo(2 * 1.006, 1);
    expect((await store.settledInstanceCosts(s.workload)).has(a.id)).toBe(true);
  });

  it("marks interruption warnings from the event source and drains each event once", async () => {
    const table = await createTestTable();
    const store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    const events = { source: store, workloadId: s.workload, sinceSeconds: 0 };
    const cloud = new Ec2FleetCloud({ ...s.options, events });
    const launched = await cloud.launch(request(s.workload, "i0"));
    await store.putCloudEvent(s.workload, {
      kind: "spot-interruption-warning",
      instanceId: launched.id,
      at: 1_765_000_000,
      reclaimAt: 1_765_000_120,
    });
    const [seen] = await cloud.describe({ [SATURN_TAGS.workload]: s.workload });
    expect(seen?.interruptionNoticeAt).toBe(1_765_000_000);
    expect((await cloud.drainEvents()).map((e) => e.kind)).toEqual(["spot-interruption-warning"]);
    expect(await cloud.drainEvents()).toEqual([]);
  });
});

describe("Ec2FleetCloud across regions", () => {
  const OTHER = "us-west-2";

  /** A regional stack's launch template in `OTHER`, tagged as cdk/regional-stack.ts tags it. */
  async function regionalTemplate(ec2: FaultyEc2, deployment: string): Promise<{ id: string; subnetIds: string[] }> {
    const found = await ec2.real.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const subnetIds = (found.Subnets ?? []).slice(0, 2).map((subnet) => subnet.SubnetId ?? "");
    const created = await ec2.real.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `saturn-worker-${deployment}`,
        LaunchTemplateData: { ImageId: "ami-12c6146b", MetadataOptions: { HttpTokens: "required" } },
        TagSpecifications: [
          {
            ResourceType: "launch-template",
            Tags: [
              { Key: REGIONAL_TAGS.deployment, Value: deployment },
              { Key: REGIONAL_TAGS.template, Value: "standard" },
              { Key: REGIONAL_TAGS.subnets, Value: subnetIds.join(",") },
            ],
          },
        ],
      }),
    );
    return { id: created.LaunchTemplate?.LaunchTemplateId ?? "", subnetIds };
  }

  it("launches in the request's region with that region's template and subnets, and describes, bills and terminates in every region", async () => {
    const home = await setup();
    const deployment = `saturn-${home.workload}`;
    const west = new FaultyEc2(emulatorClientConfig(OTHER));
    const template = await regionalTemplate(west, deployment);
    const options: Ec2FleetCloudOptions = {
      ...home.options,
      regions: ["us-east-1", OTHER],
      deployment,
      ec2ForRegion: (region) => (region === OTHER ? west : home.ec2),
    };
    const cloud = new Ec2FleetCloud(options);

    const inHome = await cloud.launch(request(home.workload, "i0", { market: "on-demand" }));
    const inWest = await cloud.launch(request(home.workload, "i1", { market: "on-demand", region: OTHER }));
    const spotInWest = await cloud.launch(request(home.workload, "i2", { region: OTHER }));
    expect(spotInWest.region).toBe(OTHER);

    const [westFleet] = west.fleetInputs();
    expect(westFleet?.LaunchTemplateConfigs?.[0]?.LaunchTemplateSpecification?.LaunchTemplateId).toBe(template.id);
    expect(westFleet?.LaunchTemplateConfigs?.[0]?.Overrides?.map((o) => o.SubnetId).sort()).toEqual(
      [...template.subnetIds].sort(),
    );
    expect(home.ec2.fleetInputs()).toHaveLength(1);
    expect(west.fleetInputs()).toHaveLength(2);
    expect(inHome.region).toBe("us-east-1");
    expect(inWest.region).toBe(OTHER);
    expect(inWest.availabilityZone.startsWith(OTHER)).toBe(true);
    // On-demand is priced from the catalog in the launch's own region.
    const type = catalog.instanceTypes.find((t) => t.name === "g6e.xlarge");
    expect(inWest.hourlyPriceUsd).toBe(type?.prices[OTHER]?.onDemandUsdPerHour);
    expect(inHome.hourlyPriceUsd).toBe(type?.prices["us-east-1"]?.onDemandUsdPerHour);

    // A fresh adapter (the next pass) knows no instance yet: it finds them by tag in each region.
    const next = new Ec2FleetCloud(options);
    const described = await next.describe({ [SATURN_TAGS.workload]: home.workload });
    expect(new Map(described.map((i) => [i.id, i.region]))).toEqual(
      new Map([
        [inHome.id, "us-east-1"],
        [inWest.id, OTHER],
        [spotInWest.id, OTHER],
      ]),
    );
    expect(described.find((i) => i.id === inWest.id)?.tags[SATURN_TAGS.slot]).toBe("i1");
    expect(await next.spendUsd({ [SATURN_TAGS.workload]: home.workload })).toBeGreaterThan(0);

    await new Ec2FleetCloud(options).terminate([inHome.id, inWest.id, spotInWest.id]);
    const after = await next.describe({ [SATURN_TAGS.workload]: home.workload });
    expect(after).toHaveLength(3);
    for (const instance of after) expect(["shutting-down", "terminated"]).toContain(instance.state);
  });

  it("refuses a multi-node launch in another region whose placement group cannot be looked up, launching nothing", async () => {
    const home = await setup();
    const deployment = `saturn-${home.workload}`;
    const west = new FaultyEc2(emulatorClientConfig(OTHER));
    await regionalTemplate(west, deployment);
    const cloud = new Ec2FleetCloud({
      ...home.options,
      regions: ["us-east-1", OTHER],
      deployment,
      ec2ForRegion: () => west,
    });
    // moto does not implement DescribePlacementGroups (it answers 500): the real emulator's
    // answer, not an injected one. A real region without the regional stack's group is refused the same way.
    const refused = cloud.launch(
      request(home.workload, "i0", { instanceType: "p4d.24xlarge", cluster: true, region: OTHER }),
    );
    await expect(refused).rejects.toBeInstanceOf(LaunchRefusedError);
    await expect(refused).rejects.toMatchObject({ details: { code: "PlacementGroupUnavailable" } });
    await expect(refused).rejects.toThrow(/us-west-2/);
    expect(west.fleetInputs()).toHaveLength(0);
    // A single-node launch there still goes ahead.
    const single = await cloud.launch(request(home.workload, "i1", { instanceType: "g6e.xlarge", region: OTHER }));
    expect(single.region).toBe(OTHER);
  });

  it("refuses a region the deployment does not cover, and one whose regional stack is missing, launching nothing", async () => {
    const home = await setup();
    const west = new FaultyEc2(emulatorClientConfig(OTHER));
    const cloud = new Ec2FleetCloud({
      ...home.options,
      regions: ["us-east-1", OTHER],
      deployment: `saturn-missing-${home.workload}`,
      ec2ForRegion: () => west,
    });
    await expect(cloud.launch(request(home.workload, "i0", { region: "eu-west-1" }))).rejects.toMatchObject({
      name: "LaunchRefusedError",
      details: { code: "RegionNotCovered" },
    });
    const missing = cloud.launch(request(home.workload, "i0", { region: OTHER }));
    await expect(missing).rejects.toBeInstanceOf(LaunchRefusedError);
    await expect(missing).rejects.toMatchObject({ details: { code: "RegionNotDeployed" } });
    await expect(missing).rejects.toThrow(/saturn:deployment=saturn-missing-/);
    expect(west.fleetInputs()).toHaveLength(0);
    expect(home.ec2.fleetInputs()).toHaveLength(0);
  });
});

describe("Ec2FleetCloud zone prices (the catalog keys byAz by AZ ID, EC2 names zones)", () => {
  let s: Setup;
  const type = catalog.instanceTypes.find((t) => t.name === "g6e.xlarge");
  const spot = type?.prices["us-east-1"]?.spot;

  beforeEach(async () => {
    s = await setup();
  });

  /** A configured subnet's zone whose catalog price (by its ID) is below the zones' maximum, so a name lookup would differ. */
  async function cheaperZone(): Promise<{ name: string; id: string; price: number }> {
    const zones = (await s.ec2.real.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones ?? [];
    const found = s.subnets
      .map((subnet) => zones.find((zone) => zone.ZoneName === subnet.zone))
      .map((zone) => ({ name: zone?.ZoneName ?? "", id: zone?.ZoneId ?? "", price: spot?.byAz[zone?.ZoneId ?? ""] }))
      .find((zone) => zone.price !== undefined && zone.price < (spot?.maxUsdPerHour ?? 0));
    if (found?.price === undefined)
      throw new Error("expected a configured zone with a catalog price below the maximum");
    // Names are not catalog keys: looked up by name the price would be the maximum.
    expect(spot?.byAz[found.name]).toBeUndefined();
    return { ...found, price: found.price };
  }

  /** Counts DescribeAvailabilityZones calls; with `noQuotes`, answers DescribeSpotPriceHistory with none (a type without quotes there). */
  function seam(noQuotes: boolean): { client: Ec2ClientPort; zoneReads: () => number } {
    let zoneReads = 0;
    const client: Ec2ClientPort = {
      send: async (command) => {
        if (command instanceof DescribeAvailabilityZonesCommand) zoneReads += 1;
        if (noQuotes && command instanceof DescribeSpotPriceHistoryCommand)
          return { $metadata: {}, SpotPriceHistory: [] };
        return s.ec2.send(command);
      },
    };
    return { client, zoneReads: () => zoneReads };
  }

  it("launches spot in a zone without a quote at the catalog price of that zone's ID, not the maximum", async () => {
    const zone = await cheaperZone();
    const { client, zoneReads } = seam(true);
    const cloud = new Ec2FleetCloud({ ...s.options, ec2: client });
    const launched = await cloud.launch(request(s.workload, "i0", { availabilityZone: zone.name }));
    expect(launched.availabilityZone).toBe(zone.name);
    expect(launched.hourlyPriceUsd).toBe(zone.price);
    expect(Number(launched.tags[EC2_TAGS.price])).toBe(zone.price);
    await cloud.launch(request(s.workload, "i1", { availabilityZone: zone.name }));
    // Zone IDs are read once per region and adapter.
    expect(zoneReads()).toBe(1);
  });

  it("prices a spot instance that lost its launch price (crash after launch) at its zone ID's catalog price", async () => {
    const zone = await cheaperZone();
    await s.ec2.real.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "g6e.xlarge",
        Placement: { AvailabilityZone: zone.name },
        InstanceMarketOptions: { MarketType: "spot" },
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: SATURN_TAGS.workload, Value: s.workload }] }],
      }),
    );
    const { client, zoneReads } = seam(false);
    const cloud = new Ec2FleetCloud({ ...s.options, ec2: client });
    const [seen] = await cloud.describe({ [SATURN_TAGS.workload]: s.workload });
    expect(seen?.market).toBe("spot");
    expect(seen?.tags[EC2_TAGS.price]).toBeUndefined();
    expect(seen?.hourlyPriceUsd).toBe(zone.price);
    expect(await cloud.spendUsd({ [SATURN_TAGS.workload]: s.workload })).toBeGreaterThan(0);
    expect(zoneReads()).toBe(1);
  });
});
