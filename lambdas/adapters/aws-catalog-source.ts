/**
 * Reads what `saturn catalog refresh` needs from AWS: Linux on-demand prices (Price List
 * API `GetProducts`), current spot prices per availability zone (EC2
 * `DescribeSpotPriceHistory`, keyed by zone ID through `DescribeAvailabilityZones`) and instance
 * facts (EC2 `DescribeInstanceTypes`).
 *
 * Clients come in through the options (tests pass emulator or fake clients); defaults use
 * the SDK's own credential chain, retries and `AWS_ENDPOINT_URL`. The Price List API is
 * served only from a few regions, so its client lives in us-east-1 whatever region is priced.
 */
import {
  DescribeAvailabilityZonesCommand,
  type DescribeAvailabilityZonesCommandOutput,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandOutput,
  DescribeSpotPriceHistoryCommand,
  type DescribeSpotPriceHistoryCommandOutput,
  EC2Client,
  type InstanceTypeInfo,
} from "@aws-sdk/client-ec2";
import { GetProductsCommand, type GetProductsCommandOutput, PricingClient } from "@aws-sdk/client-pricing";
import type { InstanceFacts, RefreshData } from "../core/catalog/apply-refresh.ts";

/** The part of an EC2 client this adapter uses. */
export interface Ec2Port {
  send(command: DescribeSpotPriceHistoryCommand): Promise<DescribeSpotPriceHistoryCommandOutput>;
  send(command: DescribeAvailabilityZonesCommand): Promise<DescribeAvailabilityZonesCommandOutput>;
  send(command: DescribeInstanceTypesCommand): Promise<DescribeInstanceTypesCommandOutput>;
}

/** The part of a Price List client this adapter uses. */
export interface PricingPort {
  send(command: GetProductsCommand): Promise<GetProductsCommandOutput>;
}

export interface AwsCatalogSourceOptions {
  readonly region: string;
  readonly ec2?: Ec2Port;
  readonly pricing?: PricingPort;
  /** Progress lines (one per call or batch); the CLI prints them on stderr. */
  readonly onProgress?: (line: string) => void;
}

/** Missing, invalid or expired AWS credentials. CLI exit code 4. */
export class AwsCredentialsError extends Error {
  override readonly name = "AwsCredentialsError";
}

/** AWS refused a request these credentials may not make. CLI exit code 4. */
export class AwsAccessDeniedError extends Error {
  override readonly name = "AwsAccessDeniedError";
}

/** Any other failed AWS call (network, throttling after the SDK's retries, an endpoint that does not serve the API). */
export class AwsRequestError extends Error {
  override readonly name = "AwsRequestError";
}

/** Price List API endpoints exist in us-east-1, eu-central-1 and ap-south-1 only. */
const PRICING_API_REGION = "us-east-1";

/** DescribeInstanceTypes accepts a bounded number of filter values; 100 stays well inside it. */
const FACTS_BATCH = 100;

export class AwsCatalogSource {
  readonly #region: string;
  readonly #ec2: Ec2Port;
  readonly #pricing: PricingPort;
  readonly #onProgress: (line: string) => void;
  #zoneIds: Promise<ReadonlyMap<string, string>> | undefined;

  constructor(options: AwsCatalogSourceOptions) {
    this.#region = options.region;
    this.#ec2 = options.ec2 ?? new EC2Client({ region: options.region });
    this.#pricing = options.pricing ?? new PricingClient({ region: PRICING_API_REGION });
    this.#onProgress = options.onProgress ?? (() => {});
  }

  /** Everything a refresh needs for these types, dated `asOf` (YYYY-MM-DD); spot prices in effect at `now`. */
  async fetchRefreshData(instanceTypes: readonly string[], now: Date, asOf: string): Promise<RefreshData> {
    const onDemandUsdPerHour = await this.onDemandPrices(instanceTypes);
    const spotUsdPerHourByAz = await this.spotPrices(instanceTypes, now);
    const facts = await this.instanceFacts(instanceTypes);
    return { region: this.#region, asOf, onDemandUsdPerHour, spotUsdPerHourByAz, facts };
  }

  /**
   * Linux, shared-tenancy, no-pre-installed-software on-demand USD/hour, by type. Types the
   * Price List does not price in the region are absent. Where several products match, the
   * highest price is kept (a budget should not be promised on the lower one).
   */
  async onDemandPrices(instanceTypes: readonly string[]): Promise<Record<string, number>> {
    const prices: Record<string, number> = {};
    for (const [index, instanceType] of instanceTypes.entries()) {
      const found: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await call(`Price List GetProducts for ${instanceType}`, () =>
          this.#pricing.send(
            new GetProductsCommand({
              ServiceCode: "AmazonEC2",
              Filters: [
                { Type: "TERM_MATCH", Field: "instanceType", Value: instanceType },
                { Type: "TERM_MATCH", Field: "regionCode", Value: this.#region },
                { Type: "TERM_MATCH", Field: "operatingSystem", Value: "Linux" },
                { Type: "TERM_MATCH", Field: "tenancy", Value: "Shared" },
                { Type: "TERM_MATCH", Field: "preInstalledSw", Value: "NA" },
                { Type: "TERM_MATCH", Field: "capacitystatus", Value: "Used" },
                { Type: "TERM_MATCH", Field: "licenseModel", Value: "No License required" },
              ],
              FormatVersion: "aws_v1",
              MaxResults: 100,
              NextToken: nextToken,
            }),
          ),
        );
        for (const item of page.PriceList ?? []) found.push(...onDemandHourlyPrices(String(item)));
        nextToken = page.NextToken;
      } while (nextToken);
      if (found.length > 0) prices[instanceType] = Math.max(...found);
      this.#onProgress(
        `on-demand ${index + 1}/${instanceTypes.length} ${instanceType}: ` +
          (found.length > 0 ? `$${prices[instanceType]}/h` : `no Linux on-demand price in ${this.#region}`),
      );
    }
    return prices;
  }

  /**
   * Zone name -> zone ID of the region's availability zones (DescribeAvailabilityZones,
   * read once per object; a failed read is retried on the next call). Names map to IDs
   * differently in each account; IDs name the same physical zone everywhere.
   */
  zoneIds(): Promise<ReadonlyMap<string, string>> {
    this.#zoneIds ??= (async () => {
      const answer = await call("EC2 DescribeAvailabilityZones", () =>
        this.#ec2.send(new DescribeAvailabilityZonesCommand({})),
      );
      const ids = new Map<string, string>();
      for (const zone of answer.AvailabilityZones ?? []) {
        if (zone.ZoneName && zone.ZoneId) ids.set(zone.ZoneName, zone.ZoneId);
      }
      return ids;
    })();
    this.#zoneIds.catch(() => {
      this.#zoneIds = undefined;
    });
    return this.#zoneIds;
  }

  /**
   * Spot USD/hour in effect at `now`, by type and availability-zone **ID** (use1-az4, as the
   * catalog keys `byAz`; Linux/UNIX only). With StartTime = EndTime = now, EC2 returns the
   * price valid at that moment for each zone, stamped with the time it last changed (EC2 API
   * reference, DescribeSpotPriceHistory). EC2 names the zone of each quote; its ID comes from
   * the quote's `AvailabilityZoneId` where EC2 sends one, else from `zoneIds` (moto sends
   * names only). A zone the region's list does not name keeps its name.
   */
  async spotPrices(instanceTypes: readonly string[], now: Date): Promise<Record<string, Record<string, number>>> {
    const latest = new Map<string, { price: number; at: number }>();
    /** zone name -> the ID EC2 sent with its quotes (undefined: none sent). */
    const zoneIdOf = new Map<string, string | undefined>();
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await call("EC2 DescribeSpotPriceHistory", () =>
        this.#ec2.send(
          new DescribeSpotPriceHistoryCommand({
            InstanceTypes: [...instanceTypes] as DescribeSpotPriceHistoryCommand["input"]["InstanceTypes"],
            ProductDescriptions: ["Linux/UNIX"],
            StartTime: now,
            EndTime: now,
            NextToken: nextToken,
          }),
        ),
      );
      pages += 1;
      for (const entry of page.SpotPriceHistory ?? []) {
        const price = Number(entry.SpotPrice);
        if (!entry.InstanceType || !entry.AvailabilityZone || !Number.isFinite(price) || price <= 0) continue;
        if (!entry.ProductDescription?.startsWith("Linux/UNIX")) continue;
        zoneIdOf.set(entry.AvailabilityZone, entry.AvailabilityZoneId ?? zoneIdOf.get(entry.AvailabilityZone));
        const key = `${entry.InstanceType} ${entry.AvailabilityZone}`;
        const at = entry.Timestamp?.getTime() ?? 0;
        const seen = latest.get(key);
        if (seen === undefined || at > seen.at) latest.set(key, { price, at });
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken);

    const byType: Record<string, Record<string, number>> = {};
    const ids = [...zoneIdOf.values()].every((id) => id !== undefined)
      ? new Map<string, string>()
      : await this.zoneIds();
    for (const [key, { price }] of latest) {
      const [instanceType = "", zone = ""] = key.split(" ");
      const id = zoneIdOf.get(zone) ?? ids.get(zone) ?? zone;
      byType[instanceType] = { ...byType[instanceType], [id]: price };
    }
    this.#onProgress(
      `spot: ${latest.size} (type, zone) prices for ${Object.keys(byType).length}/${instanceTypes.length} types in ${pages} page(s)`,
    );
    return byType;
  }

  /** Facts by type; types EC2 does not know (in this region) are absent. */
  async instanceFacts(instanceTypes: readonly string[]): Promise<Record<string, InstanceFacts>> {
    const facts: Record<string, InstanceFacts> = {};
    for (let start = 0; start < instanceTypes.length; start += FACTS_BATCH) {
      const batch = instanceTypes.slice(start, start + FACTS_BATCH);
      let nextToken: string | undefined;
      do {
        // A filter, not the InstanceTypes parameter: that one fails the whole call on one unknown name.
        const page = await call("EC2 DescribeInstanceTypes", () =>
          this.#ec2.send(
            new DescribeInstanceTypesCommand({
              Filters: [{ Name: "instance-type", Values: batch }],
              NextToken: nextToken,
            }),
          ),
        );
        for (const info of page.InstanceTypes ?? []) {
          const parsed = instanceFactsOf(info);
          if (parsed !== undefined && info.InstanceType) facts[info.InstanceType] = parsed;
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken);
    }
    this.#onProgress(`instance facts: ${Object.keys(facts).length}/${instanceTypes.length} types described`);
    return facts;
  }
}

/** On-demand hourly USD prices in one Price List product document (the `aws_v1` format). */
export function onDemandHourlyPrices(document: string): number[] {
  const product = JSON.parse(document) as {
    terms?: {
      OnDemand?: Record<
        string,
        { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string> }> }
      >;
    };
  };
  const prices: number[] = [];
  for (const term of Object.values(product.terms?.OnDemand ?? {})) {
    for (const dimension of Object.values(term.priceDimensions ?? {})) {
      const usd = Number(dimension.pricePerUnit?.USD);
      // Zero-priced dimensions are placeholders (e.g. reserved-capacity rows), not a price.
      if (dimension.unit === "Hrs" && Number.isFinite(usd) && usd > 0) prices.push(usd);
    }
  }
  return prices;
}

/** Facts of one NVIDIA GPU type; undefined for types without NVIDIA GPUs. */
export function instanceFactsOf(info: InstanceTypeInfo): InstanceFacts | undefined {
  const gpu = info.GpuInfo?.Gpus?.find((entry) => entry.Manufacturer === "NVIDIA");
  const vcpus = info.VCpuInfo?.DefaultVCpus;
  const ramMiB = info.MemoryInfo?.SizeInMiB;
  if (!gpu?.Name || !gpu.Count || !gpu.MemoryInfo?.SizeInMiB || !vcpus || !ramMiB) return undefined;
  return {
    vcpus,
    ramGiB: round2(ramMiB / 1024),
    gpuName: gpu.Name,
    gpus: gpu.Count,
    gpuMemoryGiB: round2(gpu.MemoryInfo.SizeInMiB / 1024),
    networkGbps: networkGbpsOf(info),
    efa: info.NetworkInfo?.EfaSupported === true,
  };
}

/**
 * "3200 Gigabit" -> 3200, "4x 100 Gigabit" -> 400, "Up to 25 Gigabit" -> 25 (the catalog's
 * convention: the burst figure). Falls back to the sum of the network cards' peak bandwidth.
 */
export function networkGbpsOf(info: InstanceTypeInfo): number | null {
  const text = info.NetworkInfo?.NetworkPerformance ?? "";
  const multiple = /(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*Gigabit/i.exec(text);
  if (multiple) return Number(multiple[1]) * Number(multiple[2]);
  const single = /(\d+(?:\.\d+)?)\s*Gigabit/i.exec(text);
  if (single) return Number(single[1]);
  const cards = (info.NetworkInfo?.NetworkCards ?? []).reduce((sum, card) => sum + (card.PeakBandwidthInGbps ?? 0), 0);
  return cards > 0 ? cards : null;
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "AuthFailure",
  "ExpiredToken",
  "ExpiredTokenException",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "MissingAuthenticationToken",
]);
const ACCESS_ERRORS = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnauthorizedOperation",
  "UnauthorizedException",
  "OptInRequired",
]);

/** Runs one AWS call; credential and permission failures become errors the CLI maps to exit code 4; others name the call. */
async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    const detail = error instanceof Error ? error.message : String(error);
    if (CREDENTIAL_ERRORS.has(name)) {
      throw new AwsCredentialsError(
        `${what}: expected valid AWS credentials, got ${name}: ${detail}. ` +
          "Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` / `aws sso login`.",
        { cause: error },
      );
    }
    if (ACCESS_ERRORS.has(name)) {
      throw new AwsAccessDeniedError(
        `${what}: AWS refused the request (${name}: ${detail}). The refresh needs pricing:GetProducts, ` +
          "ec2:DescribeSpotPriceHistory, ec2:DescribeAvailabilityZones and ec2:DescribeInstanceTypes.",
        { cause: error },
      );
    }
    throw new AwsRequestError(`${what} failed: ${name || "Error"}: ${detail}`, { cause: error });
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
