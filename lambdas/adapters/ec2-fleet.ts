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
 * docs/control-plane.md, "EC2 adapter".
 */
import { createHash } from "node:crypto";
import {
  CreateFleetCommand,
  type CreateFleetCommandOutput,
  CreateTagsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  DescribeSubnetsCommand,
  type DescribeSubnetsCommandOutput,
  EC2Client,
  type FleetLaunchTemplateOverridesRequest,
  type Instance,
  type TagSpecification,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { Catalog, InstanceType } from "../core/catalog/types.ts";
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

/** The part of an EC2 client this adapter uses (tests wrap a real client here). */
export interface Ec2ClientPort {
  send(command: object): Promise<unknown>;
}

export interface Ec2FleetCloudOptions {
  readonly region: string;
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
  /** Default: an EC2Client with adaptive retries (throttling backs off there). */
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

export class Ec2FleetCloud implements CloudPort {
  readonly #options: Ec2FleetCloudOptions;
  readonly #ec2: Ec2ClientPort;
  readonly #now: () => number;
  readonly #types: ReadonlyMap<string, InstanceType>;
  readonly #spotPrices: AwsCatalogSource;
  #subnets: Promise<ReadonlyMap<string, string>> | undefined;
  #eventCursor: number;
  readonly #drained = new Set<string>();

  constructor(options: Ec2FleetCloudOptions) {
    if (options.subnetIds.length === 0) {
      throw new Error("Expected at least one subnet id for Ec2FleetCloud, got none");
    }
    this.#options = options;
    this.#ec2 = options.ec2 ?? defaultEc2Client(options.region);
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#types = new Map(options.catalog.instanceTypes.map((type) => [type.name, type]));
    this.#spotPrices = new AwsCatalogSource({
      region: options.region,
      ec2: this.#ec2 as CatalogEc2Port,
      pricing: {
        send: async () => {
          throw new Error("Ec2FleetCloud reads on-demand prices from the catalog, not the Price List API");
        },
      },
    });
    this.#eventCursor = options.events?.sinceSeconds ?? 0;
  }

  async launch(request: LaunchRequest): Promise<CloudInstance> {
    const token = tokenTagValue(request.clientToken);
    const [existing] = await this.describe({ [EC2_TAGS.token]: token });
    if (existing !== undefined) return existing;

    const details: LaunchFailureDetails = {
      code: "Unsupported",
      instanceType: request.instanceType,
      market: request.market,
      availabilityZone: request.availabilityZone,
    };
    const type = this.#types.get(request.instanceType);
    if (type === undefined) {
      throw new CapacityError(
        details,
        `Unsupported: ${request.instanceType} is not in the catalog; expected one of the catalog's instance types`,
      );
    }
    const cluster = request.cluster === true && this.#options.placementGroupName !== undefined;
    const zones = await this.#candidateZones(request, cluster);
    if (zones.size === 0) {
      throw new LaunchRefusedError(
        { ...details, code: "NoSubnetInZone" },
        `No configured subnet in ${request.availabilityZone ?? "any zone"} for ${request.instanceType}; expected one of the stack's subnets' zones`,
      );
    }
    const prices = await this.#launchPrices(type, request, [...new Set(zones.values())]);
    const distinctPrices = new Set(prices.values());
    const tags: Record<string, string> = { ...request.tags, [EC2_TAGS.token]: token };
    if (distinctPrices.size === 1) tags[EC2_TAGS.price] = String([...distinctPrices][0]);
    if (cluster && this.#options.placementGroupName !== undefined) {
      tags[EC2_TAGS.placementGroup] = this.#options.placementGroupName;
    }
    const efa = cluster && type.efa && this.#options.efaLaunchTemplateId !== undefined;
    const overrides: FleetLaunchTemplateOverridesRequest[] = [...zones.keys()].map((subnetId) => ({
      InstanceType: request.instanceType as FleetLaunchTemplateOverridesRequest["InstanceType"],
      SubnetId: subnetId,
      ...(cluster ? { Placement: { GroupName: this.#options.placementGroupName } } : {}),
    }));
    const response = (await this.#ec2.send(
      new CreateFleetCommand({
        Type: "instant",
        ClientToken: clientToken(request.clientToken),
        LaunchTemplateConfigs: [
          {
            LaunchTemplateSpecification: {
              LaunchTemplateId: efa ? this.#options.efaLaunchTemplateId : this.#options.launchTemplateId,
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

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (let offset = 0; offset < instanceIds.length; offset += TERMINATE_BATCH) {
      let batch = [...new Set(instanceIds.slice(offset, offset + TERMINATE_BATCH))];
      // EC2 fails the whole call for one unknown id: drop the ids it names and send the rest.
      while (batch.length > 0) {
        try {
          await this.#ec2.send(new TerminateInstancesCommand({ InstanceIds: batch }));
          break;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          const unknown = new Set(String((error as Error).message).match(/i-[0-9a-z]+/g) ?? []);
          const rest = batch.filter((id) => !unknown.has(id));
          if (rest.length === batch.length) throw error;
          batch = rest;
        }
      }
    }
  }

  async describe(tags: Readonly<Record<string, string>>): Promise<readonly CloudInstance[]> {
    const instances = await this.#describeRaw(tags);
    const notices = await this.#interruptionNotices();
    return instances.map((instance) => this.#view(instance, notices));
  }

  async tag(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    try {
      await this.#ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: toTags(tags) }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
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
   * Billed so far: per second from launch to the end (shutting-down or terminated) or now,
   * 60 s minimum, at the `saturn:price` recorded at launch. Ended instances are settled in
   * the ledger once, so they still count after EC2 forgets them.
   */
  async spendUsd(tags: Readonly<Record<string, string>>): Promise<number> {
    const instances = await this.#describeRaw(tags);
    const ledger = this.#options.ledger;
    const settled =
      ledger === undefined ? new Map<string, number>() : await ledger.store.settledInstanceCosts(ledger.workloadId);
    const endedAt = await this.#endTimes();
    const now = this.#now();
    let total = 0;
    const counted = new Set<string>();
    for (const instance of instances) {
      const id = instance.InstanceId ?? "";
      counted.add(id);
      const known = settled.get(id);
      if (known !== undefined) {
        total += known;
        continue;
      }
      const view = this.#view(instance, new Map());
      const state = view.state;
      const end =
        state === "pending" || state === "running" ? now : (terminationTime(instance) ?? endedAt.get(id) ?? now);
      const cost = billedCostUsd(view.launchedAt, Math.min(end, now), view.hourlyPriceUsd);
      total += cost;
      if (ledger !== undefined && state === "terminated")
        await ledger.store.settleInstanceCost(ledger.workloadId, id, cost);
    }
    // Settled instances EC2 no longer lists.
    for (const [id, usd] of settled) if (!counted.has(id)) total += usd;
    return total;
  }

  /** Private IPv4 addresses of running instances (multi-node rendezvous). */
  async privateAddresses(instanceIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (instanceIds.length === 0) return new Map();
    const output = (await this.#ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [...instanceIds] }),
    )) as DescribeInstancesCommandOutput;
    const addresses = new Map<string, string>();
    for (const reservation of output.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (instance.InstanceId && instance.PrivateIpAddress)
          addresses.set(instance.InstanceId, instance.PrivateIpAddress);
      }
    }
    return addresses;
  }

  // ---- internals ----

  async #describeRaw(
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
      const page = (await this.#ec2.send(
        new DescribeInstancesCommand({ Filters: filters, MaxResults: DESCRIBE_PAGE, NextToken: nextToken }),
      )) as DescribeInstancesCommandOutput;
      for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    return instances;
  }

  /** subnet id -> zone of the configured subnets (read once). */
  #subnetZones(): Promise<ReadonlyMap<string, string>> {
    this.#subnets ??= (async () => {
      const output = (await this.#ec2.send(
        new DescribeSubnetsCommand({ SubnetIds: [...this.#options.subnetIds] }),
      )) as DescribeSubnetsCommandOutput;
      const zones = new Map<string, string>();
      for (const subnet of output.Subnets ?? []) {
        if (subnet.SubnetId && subnet.AvailabilityZone) zones.set(subnet.SubnetId, subnet.AvailabilityZone);
      }
      return zones;
    })();
    return this.#subnets;
  }

  /**
   * Subnets this launch may use: the requested zone's, and for a cluster node the zone its
   * placement group already runs in (a cluster placement group spans one zone).
   */
  async #candidateZones(request: LaunchRequest, cluster: boolean): Promise<ReadonlyMap<string, string>> {
    const all = await this.#subnetZones();
    let zone = request.availabilityZone;
    if (cluster && this.#options.placementGroupName !== undefined) {
      const peers = await this.#describeRaw({ [EC2_TAGS.placementGroup]: this.#options.placementGroupName }, [
        { Name: "instance-state-name", Values: ["pending", "running"] },
      ]);
      zone ??= peers.find((peer) => peer.Placement?.AvailabilityZone)?.Placement?.AvailabilityZone;
    }
    const candidates = new Map([...all].filter(([, subnetZone]) => zone === undefined || subnetZone === zone));
    // Without a pinned zone a cluster node still goes to one zone: the first subnet's.
    if (cluster && zone === undefined) {
      const [first] = candidates;
      return new Map(first === undefined ? [] : [first]);
    }
    return candidates;
  }

  /** USD/hour by zone: on-demand from the catalog, spot from DescribeSpotPriceHistory now. */
  async #launchPrices(
    type: InstanceType,
    request: LaunchRequest,
    zones: readonly string[],
  ): Promise<Map<string, number>> {
    const price = type.prices[this.#options.region];
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
          `Unsupported: the catalog lists no on-demand price for ${type.name} in ${this.#options.region}`,
        );
      }
      for (const zone of zones) prices.set(zone, onDemand);
      return prices;
    }
    const observed = (await this.#spotPrices.spotPrices([type.name], new Date(this.#now() * 1000)))[type.name] ?? {};
    for (const zone of zones) {
      // A zone without a quote falls back to the catalog's zone price, then its maximum (never under-count).
      const quote =
        observed[zone] ?? price?.spot?.byAz[zone] ?? price?.spot?.maxUsdPerHour ?? price?.onDemandUsdPerHour;
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

  #view(instance: Instance, notices: ReadonlyMap<string, number>): CloudInstance {
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
      availabilityZone,
      state,
      tags,
      launchedAt,
      runningSince: state === "running" ? launchedAt : undefined,
      hourlyPriceUsd: this.#recordedPrice(tags, instanceType, market, availabilityZone),
      interruptionNoticeAt: notices.get(id),
      privateIpAddress: instance.PrivateIpAddress,
    };
  }

  /** The price tagged at launch; without one (a crash right after launch), the catalog's highest for the zone. */
  #recordedPrice(tags: Readonly<Record<string, string>>, instanceType: string, market: string, zone: string): number {
    const tagged = Number(tags[EC2_TAGS.price]);
    if (tags[EC2_TAGS.price] !== undefined && Number.isFinite(tagged) && tagged >= 0) return tagged;
    const price = this.#types.get(instanceType)?.prices[this.#options.region];
    if (market === "on-demand") return price?.onDemandUsdPerHour ?? 0;
    return price?.spot?.byAz[zone] ?? price?.spot?.maxUsdPerHour ?? price?.onDemandUsdPerHour ?? 0;
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
