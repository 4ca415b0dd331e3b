/**
 * The cloud port on EC2. Launch is one `CreateFleet` of type `instant` per planned instance,
 * from the stack's launch template, with one override per allowed subnet; the fleet picks
 * the subnet (zone). Every instance, volume and fleet carries the `saturn:` tags, plus:
 *
 * - `saturn:token`: the launch's client token. EC2 honours `ClientToken` for a few hours,
 *   moto not at all, so a launch first looks for an instance with this tag and returns it;
 * - `saturn:price`: the USD/hour in force at launch (on-demand: the catalog's price; spot:
 *   the zone's price from DescribeSpotPriceHistory), so spend is reproducible later;
 * - `saturn:placement-group`: on nodes of multi-node attempts, which all go to one zone and
 *   the cluster placement group (EFA launch template where the type supports EFA).
 *
 * CreateFleet `instant` reports refusals in its `Errors` list, not as exceptions: quota codes
 * become `QuotaError`, capacity codes `CapacityError`, anything else `LaunchRefusedError`.
 * Throttling is left to the SDK (adaptive retry mode). Events come from EventBridge through
 * the store (`CloudEventSource`); spot interruption warnings mark `interruptionNoticeAt`.
 *
 * Regions: the deployment covers its home region (the options' template, subnets and
 * placement group) and any `regions` more. EC2 is regional, so there is one client per
 * region (built lazily from `ec2ForRegion`), a launch goes to the request's region with
 * that region's launch template and subnets, and describe, spend and terminate by tag
 * look in every covered region. Another region's resources come from its regional stack:
 * its launch templates carry `saturn:deployment` (found with one DescribeLaunchTemplates,
 * once per adapter) and name their subnets and placement group in tags, so no
 * CloudFormation reference crosses regions. docs/control-plane.md, "EC2 adapter".
 */
import { createHash } from "node:crypto";
import {
  CreateFleetCommand,
  type CreateFleetCommandOutput,
  CreateTagsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  DescribeLaunchTemplatesCommand,
  type DescribeLaunchTemplatesCommandOutput,
  DescribePlacementGroupsCommand,
  type DescribePlacementGroupsCommandOutput,
  DescribeSubnetsCommand,
  type DescribeSubnetsCommandOutput,
  EC2Client,
  type FleetLaunchTemplateOverridesRequest,
  type Instance,
  type TagSpecification,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { Catalog, InstanceType } from "../core/catalog/types.ts";
import { type Zone, zoneSpotPrice } from "../core/catalog/zone-spot-price.ts";
import { billedCostUsd } from "../core/cloud/billing.ts";
import type { CloudEventSource } from "../core/cloud/cloud-event-source.ts";
import type { CloudEvent, CloudInstance, CloudPort, LaunchRequest } from "../core/cloud/cloud-port.ts";
import { EC2_INSTANCE_STATES } from "../core/cloud/eventbridge-ec2-event.ts";
import type { InstanceCostLedger } from "../core/cloud/instance-cost-ledger.ts";
import {
  CapacityError,
  classifyLaunchErrorCode,
  type LaunchFailureDetails,
  LaunchRefusedError,
  QuotaError,
} from "../core/cloud/launch-errors.ts";
import { AwsCatalogSource, type Ec2Port as CatalogEc2Port } from "./aws-catalog-source.ts";

/** Tags the adapter adds to those of the request. */
export const EC2_TAGS = {
  token: "saturn:token",
  price: "saturn:price",
  placementGroup: "saturn:placement-group",
} as const;

/**
 * Tags a regional stack puts on its launch templates, so the control plane finds them at
 * run time (cdk/regional-stack.ts). Values: the deployment's stack name (on everything
 * of the stack, the cluster placement group included); `standard` or `efa`;
 * comma-separated subnet ids. A template's tags also reach the instances launched from
 * it, so none of these keys is one the adapter looks instances up by.
 */
export const REGIONAL_TAGS = {
  deployment: "saturn:deployment",
  template: "saturn:launch-template",
  subnets: "saturn:regional-subnets",
} as const;

/** The part of an EC2 client this adapter uses (tests wrap a real client here). */
export interface Ec2ClientPort {
  send(command: object): Promise<unknown>;
}

/** What a launch in one region uses: the home region's from the options, others' from their stack. */
export interface RegionalFleetResources {
  readonly launchTemplateId: string;
  readonly efaLaunchTemplateId?: string;
  readonly subnetIds: readonly string[];
  readonly placementGroupName?: string;
}

export interface Ec2FleetCloudOptions {
  /** The home region: the deployment's own, where the resources below live. */
  readonly region: string;
  /**
   * Every region the deployment covers (the home region is added when missing). Default:
   * the home region only.
   */
  readonly regions?: readonly string[];
  /** The EC2 client of another region (default: `defaultEc2Client(region)`); built once per region, on first use. */
  readonly ec2ForRegion?: (region: string) => Ec2ClientPort;
  /** The `saturn:deployment` tag value of the regional stacks' launch templates (the stack name). */
  readonly deployment?: string;
  /** Resources of other regions given outright (default: found by the `saturn:deployment` tag). */
  readonly regionalResources?: Readonly<Record<string, RegionalFleetResources>>;
  readonly launchTemplateId: string;
  /** Default `$Default`. */
  readonly launchTemplateVersion?: string;
  /** Launch template with an EFA network interface, for multi-node attempts on EFA types. */
  readonly efaLaunchTemplateId?: string;
  /** Subnets the fleet may launch into (one per zone is typical). */
  readonly subnetIds: readonly string[];
  /** The stack's cluster placement group (multi-node attempts). */
  readonly placementGroupName?: string;
  /** On-demand prices and EFA support per type. */
  readonly catalog: Catalog;
  /** The home region's client. Default: an EC2Client with adaptive retries (throttling backs off there). */
  readonly ec2?: Ec2ClientPort;
  /** Where EventBridge's EC2 events for this workload are kept, and which workload this is. */
  readonly events?: { readonly source: CloudEventSource; readonly workloadId: string; readonly sinceSeconds: number };
  /** Keeps the final cost of ended instances (spend never goes down when EC2 forgets them). */
  readonly ledger?: { readonly store: InstanceCostLedger; readonly workloadId: string };
  /** Seconds since the epoch (default: the system clock). */
  readonly now?: () => number;
}

const DESCRIBE_PAGE = 1000;
const TERMINATE_BATCH = 1000;
const NOT_FOUND_CODES = new Set(["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]);

export function defaultEc2Client(region: string): EC2Client {
  return new EC2Client({ region, retryMode: "adaptive", maxAttempts: 8 });
}

/** Another region's regional stack is missing or incomplete: nothing can launch there. */
export class RegionNotDeployedError extends Error {
  override readonly name = "RegionNotDeployedError";
}

/** One region's client, price source and (lazily) resources and subnet zones. */
interface RegionalFleet {
  readonly region: string;
  readonly ec2: Ec2ClientPort;
  readonly spotPrices: AwsCatalogSource;
  resources?: Promise<RegionalFleetResources>;
  subnets?: Promise<ReadonlyMap<string, string>>;
  placementGroup?: Promise<string | undefined>;
}

export class Ec2FleetCloud implements CloudPort {
  readonly #options: Ec2FleetCloudOptions;
  readonly #regions: readonly string[];
  readonly #fleets = new Map<string, RegionalFleet>();
  readonly #now: () => number;
  readonly #types: ReadonlyMap<string, InstanceType>;
  /** instance id -> region, from every launch and describe (terminate and tag go straight there). */
  readonly #regionOf = new Map<string, string>();
  #eventCursor: number;
  readonly #drained = new Set<string>();

  constructor(options: Ec2FleetCloudOptions) {
    if (options.subnetIds.length === 0) {
      throw new Error("Expected at least one subnet id for Ec2FleetCloud, got none");
    }
    this.#options = options;
    this.#regions = [...new Set([options.region, ...(options.regions ?? [])])];
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#types = new Map(options.catalog.instanceTypes.map((type) => [type.name, type]));
    this.#eventCursor = options.events?.sinceSeconds ?? 0;
  }

  /** The regions this cloud launches in and looks in, home first. */
  get regions(): readonly string[] {
    return this.#regions;
  }

  async launch(request: LaunchRequest): Promise<CloudInstance> {
    const region = request.region ?? this.#options.region;
    const details: LaunchFailureDetails = {
      code: "Unsupported",
      instanceType: request.instanceType,
      market: request.market,
      availabilityZone: request.availabilityZone,
    };
    if (!this.#regions.includes(region)) {
      throw new LaunchRefusedError(
        { ...details, code: "RegionNotCovered" },
        `RegionNotCovered: this deployment launches in ${this.#regions.join(", ")}, not ${region}; deploy with -c regions=... to cover it`,
      );
    }
    const fleet = this.#fleet(region);
    const token = tokenTagValue(request.clientToken);
    const [existing] = await this.#describeIn(fleet, { [EC2_TAGS.token]: token }, [], new Map());
    if (existing !== undefined) return existing;

    const type = this.#types.get(request.instanceType);
    if (type === undefined) {
      throw new CapacityError(
        details,
        `Unsupported: ${request.instanceType} is not in the catalog; expected one of the catalog's instance types`,
      );
    }
    let resources: RegionalFleetResources;
    try {
      resources = await this.#resources(fleet);
    } catch (error) {
      if (!(error instanceof RegionNotDeployedError)) throw error;
      throw new LaunchRefusedError({ ...details, code: "RegionNotDeployed" }, error.message, { cause: error });
    }
    const placementGroupName =
      request.cluster === true ? await this.#clusterPlacementGroup(fleet, resources, details) : undefined;
    const cluster = placementGroupName !== undefined;
    const zones = await this.#candidateZones(fleet, request, cluster ? placementGroupName : undefined);
    if (zones.size === 0) {
      throw new LaunchRefusedError(
        { ...details, code: "NoSubnetInZone" },
        `No configured subnet in ${request.availabilityZone ?? "any zone"} of ${region} for ${request.instanceType}; expected one of the stack's subnets' zones`,
      );
    }
    const prices = await this.#launchPrices(fleet, type, request, [...new Set(zones.values())]);
    const distinctPrices = new Set(prices.values());
    const tags: Record<string, string> = { ...request.tags, [EC2_TAGS.token]: token };
    if (distinctPrices.size === 1) tags[EC2_TAGS.price] = String([...distinctPrices][0]);
    if (cluster) tags[EC2_TAGS.placementGroup] = placementGroupName;
    const efa = cluster && type.efa && resources.efaLaunchTemplateId !== undefined;
    const overrides: FleetLaunchTemplateOverridesRequest[] = [...zones.keys()].map((subnetId) => ({
      InstanceType: request.instanceType as FleetLaunchTemplateOverridesRequest["InstanceType"],
      SubnetId: subnetId,
      ...(cluster ? { Placement: { GroupName: placementGroupName } } : {}),
    }));
    const response = (await fleet.ec2.send(
      new CreateFleetCommand({
        Type: "instant",
        ClientToken: clientToken(request.clientToken),
        LaunchTemplateConfigs: [
          {
            LaunchTemplateSpecification: {
              LaunchTemplateId: efa ? resources.efaLaunchTemplateId : resources.launchTemplateId,
              Version: this.#options.launchTemplateVersion ?? "$Default",
            },
            Overrides: overrides,
          },
        ],
        TargetCapacitySpecification: {
          TotalTargetCapacity: 1,
          DefaultTargetCapacityType: request.market,
          ...(request.market === "spot" ? { SpotTargetCapacity: 1 } : { OnDemandTargetCapacity: 1 }),
        },
        ...(request.market === "spot"
          ? { SpotOptions: { AllocationStrategy: "price-capacity-optimized", SingleAvailabilityZone: true } }
          : { OnDemandOptions: { AllocationStrategy: "lowest-price", SingleAvailabilityZone: true } }),
        TagSpecifications: (["instance", "volume", "fleet"] as const).map(
          (resource): TagSpecification => ({ ResourceType: resource, Tags: toTags(tags) }),
        ),
      }),
    )) as CreateFleetCommandOutput;

    const launched = response.Instances?.find((entry) => (entry.InstanceIds?.length ?? 0) > 0);
    const instanceId = launched?.InstanceIds?.[0];
    if (instanceId === undefined) throw launchError(response, details);
    this.#regionOf.set(instanceId, region);
    const subnetId = launched?.LaunchTemplateAndOverrides?.Overrides?.SubnetId;
    const zone = (subnetId === undefined ? undefined : zones.get(subnetId)) ?? [...zones.values()][0] ?? "";
    const price = prices.get(zone) ?? Math.max(...prices.values());
    if (tags[EC2_TAGS.price] === undefined) {
      // The zone was the fleet's choice: record the price there now (spend reads it back).
      tags[EC2_TAGS.price] = String(price);
      await this.tag(instanceId, { [EC2_TAGS.price]: String(price) });
    }
    return {
      id: instanceId,
      instanceType: request.instanceType,
      market: request.market,
      region,
      availabilityZone: zone,
      state: "pending",
      tags,
      launchedAt: this.#now(),
      runningSince: undefined,
      hourlyPriceUsd: price,
      interruptionNoticeAt: undefined,
      privateIpAddress: undefined,
    };
  }

  /**
   * Ids this adapter saw (launched or described) go to their region; any other id is sent
   * to every covered region, where EC2 answers NotFound for the ids it does not hold.
   */
  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (const [region, ids] of this.#byRegion(instanceIds)) {
      const fleet = this.#fleet(region);
      for (let offset = 0; offset < ids.length; offset += TERMINATE_BATCH) {
        await terminateBatch(fleet.ec2, ids.slice(offset, offset + TERMINATE_BATCH));
      }
    }
  }

  async describe(tags: Readonly<Record<string, string>>): Promise<readonly CloudInstance[]> {
    const notices = await this.#interruptionNotices();
    const found = await Promise.all(
      this.#regions.map((region) => this.#describeIn(this.#fleet(region), tags, [], notices)),
    );
    return found.flat();
  }

  async tag(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    for (const [region] of this.#byRegion([instanceId])) {
      try {
        await this.#fleet(region).ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: toTags(tags) }));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  async drainEvents(): Promise<readonly CloudEvent[]> {
    const events = this.#options.events;
    if (events === undefined) return [];
    const found = await events.source.cloudEvents(events.workloadId, this.#eventCursor);
    const fresh = found.filter((event) => !this.#drained.has(eventKey(event)));
    for (const event of fresh) {
      this.#drained.add(eventKey(event));
      this.#eventCursor = Math.max(this.#eventCursor, Math.floor(event.at));
    }
    return fresh;
  }

  /**
   * Billed so far, in every covered region: per second from launch to the end
   * (shutting-down or terminated) or now, 60 s minimum, at the `saturn:price` recorded at
   * launch. Ended instances are settled in the ledger once, so they still count after EC2
   * forgets them.
   */
  async spendUsd(tags: Readonly<Record<string, string>>): Promise<number> {
    const perRegion = await Promise.all(
      this.#regions.map(async (region) => {
        const fleet = this.#fleet(region);
        const instances = await this.#describeRaw(fleet, tags);
        return { region, instances, zoneIds: await this.#zoneIdsToPrice(fleet, instances) };
      }),
    );
    const ledger = this.#options.ledger;
    const settled =
      ledger === undefined ? new Map<string, number>() : await ledger.store.settledInstanceCosts(ledger.workloadId);
    const endedAt = await this.#endTimes();
    const now = this.#now();
    let total = 0;
    const counted = new Set<string>();
    for (const { region, instances, zoneIds } of perRegion) {
      for (const instance of instances) {
        const id = instance.InstanceId ?? "";
        counted.add(id);
        const known = settled.get(id);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const view = this.#view(region, instance, new Map(), zoneIds);
        const state = view.state;
        const end =
          state === "pending" || state === "running" ? now : (terminationTime(instance) ?? endedAt.get(id) ?? now);
        const cost = billedCostUsd(view.launchedAt, Math.min(end, now), view.hourlyPriceUsd);
        total += cost;
        if (ledger !== undefined && state === "terminated")
          await ledger.store.settleInstanceCost(ledger.workloadId, id, cost);
      }
    }
    // Settled instances EC2 no longer lists.
    for (const [id, usd] of settled) if (!counted.has(id)) total += usd;
    return total;
  }

  /** Private IPv4 addresses of running instances (multi-node rendezvous). */
  async privateAddresses(instanceIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const addresses = new Map<string, string>();
    for (const [region, ids] of this.#byRegion(instanceIds)) {
      // A filter, not InstanceIds: ids held by another region match nothing instead of failing the call.
      const instances = await this.#describeRaw(this.#fleet(region), {}, [{ Name: "instance-id", Values: ids }]);
      for (const instance of instances) {
        if (instance.InstanceId && instance.PrivateIpAddress)
          addresses.set(instance.InstanceId, instance.PrivateIpAddress);
      }
    }
    return addresses;
  }

  // ---- internals ----

  #fleet(region: string): RegionalFleet {
    let fleet = this.#fleets.get(region);
    if (fleet === undefined) {
      const home = region === this.#options.region;
      const ec2 =
        (home ? this.#options.ec2 : undefined) ?? this.#options.ec2ForRegion?.(region) ?? defaultEc2Client(region);
      fleet = {
        region,
        ec2,
        spotPrices: new AwsCatalogSource({
          region,
          ec2: ec2 as CatalogEc2Port,
          pricing: {
            send: async () => {
              throw new Error("Ec2FleetCloud reads on-demand prices from the catalog, not the Price List API");
            },
          },
        }),
      };
      this.#fleets.set(region, fleet);
    }
    return fleet;
  }

  /** Covered region -> the given ids that may be there (known ones: their region only). */
  #byRegion(instanceIds: readonly string[]): ReadonlyMap<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const id of new Set(instanceIds)) {
      const known = this.#regionOf.get(id);
      for (const region of known === undefined ? this.#regions : [known]) {
        groups.set(region, [...(groups.get(region) ?? []), id]);
      }
    }
    return groups;
  }

  /** The home region's resources from the options; another region's from its regional stack's tags. */
  #resources(fleet: RegionalFleet): Promise<RegionalFleetResources> {
    fleet.resources ??= (async (): Promise<RegionalFleetResources> => {
      const options = this.#options;
      if (fleet.region === options.region) {
        return {
          launchTemplateId: options.launchTemplateId,
          subnetIds: options.subnetIds,
          ...(options.efaLaunchTemplateId === undefined ? {} : { efaLaunchTemplateId: options.efaLaunchTemplateId }),
          ...(options.placementGroupName === undefined ? {} : { placementGroupName: options.placementGroupName }),
        };
      }
      const given = options.regionalResources?.[fleet.region];
      if (given !== undefined) return given;
      return discoverRegionalResources(fleet.ec2, fleet.region, options.deployment);
    })();
    // A failed discovery is not cached: the next launch looks again (the stack may be deploying).
    fleet.resources.catch(() => {
      fleet.resources = undefined;
    });
    return fleet.resources;
  }

  /**
   * The placement group of a multi-node launch, looked up before anything launches. In
   * another region a group that cannot be found (none tagged with the deployment, or the
   * lookup itself failed after the SDK's retries, as moto's unimplemented
   * DescribePlacementGroups does) refuses the launch: the nodes of a multi-node job must
   * share one group, nothing has launched yet, and the refusal lets the reconciler exclude
   * the offer and re-plan, where an unclassified error would fail every pass of the
   * workload. The home region's group comes from the options, as before.
   */
  async #clusterPlacementGroup(
    fleet: RegionalFleet,
    resources: RegionalFleetResources,
    details: LaunchFailureDetails,
  ): Promise<string | undefined> {
    if (fleet.region === this.#options.region) return this.#placementGroup(fleet, resources);
    let name: string | undefined;
    try {
      name = await this.#placementGroup(fleet, resources);
    } catch (error) {
      throw new LaunchRefusedError(
        { ...details, code: "PlacementGroupUnavailable" },
        `PlacementGroupUnavailable: could not look up the cluster placement group of ${fleet.region} (${error instanceof Error ? error.message : String(error)}); a multi-node launch there needs it, so the offer is refused`,
        { cause: error },
      );
    }
    if (name === undefined) {
      throw new LaunchRefusedError(
        { ...details, code: "PlacementGroupUnavailable" },
        `PlacementGroupUnavailable: no cluster placement group tagged ${REGIONAL_TAGS.deployment}=${this.#options.deployment ?? "(no deployment name)"} in ${fleet.region}; expected the regional stack's group for a multi-node launch there`,
      );
    }
    return name;
  }

  /**
   * The region's cluster placement group: the home one from the options; another region's,
   * looked up by its `saturn:deployment` tag on the first multi-node launch there (only
   * then: moto serves no placement groups).
   */
  #placementGroup(fleet: RegionalFleet, resources: RegionalFleetResources): Promise<string | undefined> {
    fleet.placementGroup ??= (async () => {
      const deployment = this.#options.deployment;
      if (resources.placementGroupName !== undefined || fleet.region === this.#options.region) {
        return resources.placementGroupName;
      }
      if (deployment === undefined) return undefined;
      const output = (await fleet.ec2.send(
        new DescribePlacementGroupsCommand({
          Filters: [
            { Name: `tag:${REGIONAL_TAGS.deployment}`, Values: [deployment] },
            { Name: "strategy", Values: ["cluster"] },
          ],
        }),
      )) as DescribePlacementGroupsCommandOutput;
      return output.PlacementGroups?.find((group) => group.GroupName !== undefined)?.GroupName;
    })();
    fleet.placementGroup.catch(() => {
      fleet.placementGroup = undefined;
    });
    return fleet.placementGroup;
  }

  async #describeIn(
    fleet: RegionalFleet,
    tags: Readonly<Record<string, string>>,
    extraFilters: readonly { Name: string; Values: string[] }[],
    notices: ReadonlyMap<string, number>,
  ): Promise<CloudInstance[]> {
    const instances = await this.#describeRaw(fleet, tags, extraFilters);
    const zoneIds = await this.#zoneIdsToPrice(fleet, instances);
    return instances.map((instance) => this.#view(fleet.region, instance, notices, zoneIds));
  }

  /**
   * Zone name -> ID in the fleet's region when some spot instance lacks its launch price (a
   * crash right after launch): the catalog's zone price is keyed by ID. Otherwise no call.
   */
  async #zoneIdsToPrice(fleet: RegionalFleet, instances: readonly Instance[]): Promise<ReadonlyMap<string, string>> {
    const unpriced = instances.some(
      (instance) =>
        instance.InstanceLifecycle === "spot" &&
        tagPrice(Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]))) ===
          undefined,
    );
    return unpriced ? fleet.spotPrices.zoneIds() : new Map();
  }

  async #describeRaw(
    fleet: RegionalFleet,
    tags: Readonly<Record<string, string>>,
    extraFilters: readonly { Name: string; Values: string[] }[] = [],
  ): Promise<Instance[]> {
    const filters = [
      ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
      ...extraFilters,
    ];
    const instances: Instance[] = [];
    let nextToken: string | undefined;
    do {
      const page = (await fleet.ec2.send(
        new DescribeInstancesCommand({ Filters: filters, MaxResults: DESCRIBE_PAGE, NextToken: nextToken }),
      )) as DescribeInstancesCommandOutput;
      for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    for (const instance of instances) if (instance.InstanceId) this.#regionOf.set(instance.InstanceId, fleet.region);
    return instances;
  }

  /** subnet id -> zone of the region's configured subnets (read once). */
  #subnetZones(fleet: RegionalFleet): Promise<ReadonlyMap<string, string>> {
    fleet.subnets ??= (async () => {
      const { subnetIds } = await this.#resources(fleet);
      const output = (await fleet.ec2.send(
        new DescribeSubnetsCommand({ SubnetIds: [...subnetIds] }),
      )) as DescribeSubnetsCommandOutput;
      const zones = new Map<string, string>();
      for (const subnet of output.Subnets ?? []) {
        if (subnet.SubnetId && subnet.AvailabilityZone) zones.set(subnet.SubnetId, subnet.AvailabilityZone);
      }
      return zones;
    })();
    return fleet.subnets;
  }

  /**
   * Subnets this launch may use: the requested zone's, and for a cluster node the zone its
   * placement group already runs in (a cluster placement group spans one zone).
   */
  async #candidateZones(
    fleet: RegionalFleet,
    request: LaunchRequest,
    placementGroupName: string | undefined,
  ): Promise<ReadonlyMap<string, string>> {
    const all = await this.#subnetZones(fleet);
    let zone = request.availabilityZone;
    if (placementGroupName !== undefined) {
      const peers = await this.#describeRaw(fleet, { [EC2_TAGS.placementGroup]: placementGroupName }, [
        { Name: "instance-state-name", Values: ["pending", "running"] },
      ]);
      zone ??= peers.find((peer) => peer.Placement?.AvailabilityZone)?.Placement?.AvailabilityZone;
    }
    const candidates = new Map([...all].filter(([, subnetZone]) => zone === undefined || subnetZone === zone));
    // Without a pinned zone a cluster node still goes to one zone: the first subnet's.
    if (placementGroupName !== undefined && zone === undefined) {
      const [first] = candidates;
      return new Map(first === undefined ? [] : [first]);
    }
    return candidates;
  }

  /** USD/hour by zone: on-demand from the catalog's price in the region, spot from the region's DescribeSpotPriceHistory now. */
  async #launchPrices(
    fleet: RegionalFleet,
    type: InstanceType,
    request: LaunchRequest,
    zones: readonly string[],
  ): Promise<Map<string, number>> {
    const price = type.prices[fleet.region];
    const prices = new Map<string, number>();
    if (request.market === "on-demand") {
      const onDemand = price?.onDemandUsdPerHour;
      if (onDemand === null || onDemand === undefined) {
        throw new CapacityError(
          {
            code: "Unsupported",
            instanceType: type.name,
            market: "on-demand",
            availabilityZone: request.availabilityZone,
          },
          `Unsupported: the catalog lists no on-demand price for ${type.name} in ${fleet.region}`,
        );
      }
      for (const zone of zones) prices.set(zone, onDemand);
      return prices;
    }
    // Quotes and the catalog are keyed by zone ID, subnets name their zone: map names to IDs.
    const observed = (await fleet.spotPrices.spotPrices([type.name], new Date(this.#now() * 1000)))[type.name] ?? {};
    const ids = await fleet.spotPrices.zoneIds();
    for (const zone of zones) {
      const id = ids.get(zone);
      // A zone without a quote falls back to the catalog's zone price, then its maximum (never under-count).
      const quote =
        (id === undefined ? undefined : observed[id]) ??
        observed[zone] ??
        zoneSpotPrice(price?.spot, { name: zone, id }) ??
        price?.spot?.maxUsdPerHour ??
        price?.onDemandUsdPerHour;
      if (quote !== undefined && quote !== null) prices.set(zone, quote);
    }
    if (prices.size === 0) {
      throw new CapacityError(
        { code: "Unsupported", instanceType: type.name, market: "spot", availabilityZone: request.availabilityZone },
        `Unsupported: no spot price for ${type.name} in ${zones.join(", ")}; expected a DescribeSpotPriceHistory quote or a catalog price`,
      );
    }
    return prices;
  }

  /** instance id -> when the cloud announced its reclaim (spot interruption warning). */
  async #interruptionNotices(): Promise<ReadonlyMap<string, number>> {
    const events = this.#options.events;
    if (events === undefined) return new Map();
    const notices = new Map<string, number>();
    for (const event of await events.source.cloudEvents(events.workloadId, events.sinceSeconds)) {
      if (event.kind !== "spot-interruption-warning") continue;
      notices.set(event.instanceId, Math.min(notices.get(event.instanceId) ?? event.at, event.at));
    }
    return notices;
  }

  /** instance id -> when EventBridge saw it enter shutting-down or terminated. */
  async #endTimes(): Promise<ReadonlyMap<string, number>> {
    const events = this.#options.events;
    if (events === undefined) return new Map();
    const ends = new Map<string, number>();
    for (const event of await events.source.cloudEvents(events.workloadId, events.sinceSeconds)) {
      if (event.kind !== "instance-state" || (event.state !== "shutting-down" && event.state !== "terminated"))
        continue;
      ends.set(event.instanceId, Math.min(ends.get(event.instanceId) ?? event.at, event.at));
    }
    return ends;
  }

  #view(
    region: string,
    instance: Instance,
    notices: ReadonlyMap<string, number>,
    zoneIds: ReadonlyMap<string, string>,
  ): CloudInstance {
    const tags: Record<string, string> = {};
    for (const tag of instance.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
    const instanceType = instance.InstanceType ?? "";
    const market = instance.InstanceLifecycle === "spot" ? "spot" : "on-demand";
    const availabilityZone = instance.Placement?.AvailabilityZone ?? "";
    const state = EC2_INSTANCE_STATES[instance.State?.Name ?? ""] ?? "pending";
    const launchedAt = (instance.LaunchTime?.getTime() ?? this.#now() * 1000) / 1000;
    const id = instance.InstanceId ?? "";
    return {
      id,
      instanceType,
      market,
      region,
      availabilityZone,
      state,
      tags,
      launchedAt,
      runningSince: state === "running" ? launchedAt : undefined,
      hourlyPriceUsd: this.#recordedPrice(region, tags, instanceType, market, {
        name: availabilityZone,
        id: zoneIds.get(availabilityZone),
      }),
      interruptionNoticeAt: notices.get(id),
      privateIpAddress: instance.PrivateIpAddress,
    };
  }

  /** The price tagged at launch; without one (a crash right after launch), the catalog's highest for the zone. */
  #recordedPrice(
    region: string,
    tags: Readonly<Record<string, string>>,
    instanceType: string,
    market: string,
    zone: Zone,
  ): number {
    const tagged = tagPrice(tags);
    if (tagged !== undefined) return tagged;
    const price = this.#types.get(instanceType)?.prices[region];
    if (market === "on-demand") return price?.onDemandUsdPerHour ?? 0;
    return zoneSpotPrice(price?.spot, zone) ?? price?.spot?.maxUsdPerHour ?? price?.onDemandUsdPerHour ?? 0;
  }
}

/** The USD/hour recorded in `saturn:price` at launch; undefined when absent or not a price. */
function tagPrice(tags: Readonly<Record<string, string>>): number | undefined {
  const value = tags[EC2_TAGS.price];
  const tagged = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(tagged) && tagged >= 0 ? tagged : undefined;
}

/**
 * Finds a regional stack's resources by its launch templates' tags: the `standard` one
 * (required, with the subnets) and the `efa` one. One DescribeLaunchTemplates call; the
 * placement group is looked up on the first multi-node launch.
 */
export async function discoverRegionalResources(
  ec2: Ec2ClientPort,
  region: string,
  deployment: string | undefined,
): Promise<RegionalFleetResources> {
  if (deployment === undefined) {
    throw new RegionNotDeployedError(
      `No regional resources for ${region}: expected the deployment's name (the ${REGIONAL_TAGS.deployment} tag value) to find them`,
    );
  }
  const output = (await ec2.send(
    new DescribeLaunchTemplatesCommand({
      Filters: [{ Name: `tag:${REGIONAL_TAGS.deployment}`, Values: [deployment] }],
    }),
  )) as DescribeLaunchTemplatesCommandOutput;
  const tagged = (output.LaunchTemplates ?? []).map((template) => ({
    id: template.LaunchTemplateId ?? "",
    tags: Object.fromEntries((template.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
  }));
  const standard = tagged.find((template) => template.tags[REGIONAL_TAGS.template] === "standard");
  const efa = tagged.find((template) => template.tags[REGIONAL_TAGS.template] === "efa");
  const subnetIds = (standard?.tags[REGIONAL_TAGS.subnets] ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (standard === undefined || subnetIds.length === 0) {
    throw new RegionNotDeployedError(
      `No Saturn launch template in ${region} tagged ${REGIONAL_TAGS.deployment}=${deployment} and ${REGIONAL_TAGS.template}=standard with its ${REGIONAL_TAGS.subnets}; got ${tagged.length} template(s). Deploy the regional stack with -c regions=...`,
    );
  }
  return {
    launchTemplateId: standard.id,
    subnetIds,
    ...(efa === undefined ? {} : { efaLaunchTemplateId: efa.id }),
  };
}

/** EC2 fails the whole call for one unknown id: drop the ids it names and send the rest. */
async function terminateBatch(ec2: Ec2ClientPort, ids: readonly string[]): Promise<void> {
  let batch = [...ids];
  while (batch.length > 0) {
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: batch }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const unknown = new Set(String((error as Error).message).match(/i-[0-9a-z]+/g) ?? []);
      const rest = batch.filter((id) => !unknown.has(id));
      if (rest.length === batch.length) throw error;
      batch = rest;
    }
  }
}

/** The error for a fleet that launched nothing: quota before capacity before anything else. */
function launchError(response: CreateFleetCommandOutput, details: LaunchFailureDetails): Error {
  const errors = response.Errors ?? [];
  const ranked = [...errors].sort((a, b) => rank(a.ErrorCode) - rank(b.ErrorCode));
  const first = ranked[0];
  const code = first?.ErrorCode ?? "NoInstanceLaunched";
  const zoneOf = first?.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone ?? details.availabilityZone;
  const withCode = { ...details, code, availabilityZone: zoneOf };
  const summary =
    errors.map((e) => `${e.ErrorCode}: ${e.ErrorMessage ?? ""}`.trim()).join("; ") || "no instance and no error";
  const message = `CreateFleet launched no ${details.market} ${details.instanceType}: ${summary}`;
  switch (classifyLaunchErrorCode(code)) {
    case "quota":
      return new QuotaError(withCode, `${message}. Request a quota increase or use fewer vCPUs.`);
    case "capacity":
      return new CapacityError(withCode, `${message}. Try another zone, type or market.`);
    default:
      return new LaunchRefusedError(withCode, message);
  }
}

function rank(code: string | undefined): number {
  const kind = classifyLaunchErrorCode(code ?? "");
  return kind === "quota" ? 0 : kind === "capacity" ? 1 : 2;
}

function toTags(tags: Readonly<Record<string, string>>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Tag values hold up to 256 characters; longer tokens are hashed. */
function tokenTagValue(token: string): string {
  return token.length <= 256 ? token : createHash("sha256").update(token).digest("hex");
}

/** CreateFleet's ClientToken holds up to 64 ASCII characters. */
function clientToken(token: string): string {
  return /^[\x20-\x7e]{1,64}$/.test(token) ? token : createHash("sha256").update(token).digest("hex");
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { Code?: string }).Code ?? error.name;
  return NOT_FOUND_CODES.has(code) || NOT_FOUND_CODES.has(error.name);
}

/** "User initiated (2026-12-01 22:50:16 GMT)" -> seconds; EC2 writes it when a termination is requested. */
function terminationTime(instance: Instance): number | undefined {
  const match = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(instance.StateTransitionReason ?? "");
  if (match === null) return undefined;
  const at = Date.parse(`${match[1]}T${match[2]}Z`);
  return Number.isFinite(at) ? at / 1000 : undefined;
}

function eventKey(event: CloudEvent): string {
  return `${event.kind}|${event.instanceId}|${event.at}|${event.kind === "instance-state" ? event.state : ""}`;
}
