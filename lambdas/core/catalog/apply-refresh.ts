/**
 * Merges what `saturn catalog refresh` read from AWS into a catalog. Pure: the adapter
 * fetches, this decides.
 *
 * Rules (docs/catalog.md, "Refresh"):
 * - A type that either price call returned gets a new price for the region, built from AWS
 *   alone: `asOf` = the refresh date, `source` = the APIs, `stale` = false. A market AWS did
 *   not return for it is recorded as not offered (null).
 * - A type that neither price call returned keeps its old price entry, stale flag included.
 * - Instance facts (vCPUs, RAM, GPU count and memory, network, EFA) are replaced by what
 *   DescribeInstanceTypes returned; interconnect and bus bandwidth are not reported by AWS and stay.
 */
import type { Catalog, InstanceType, RegionPrice, SpotPrice } from "./types.ts";

/** One instance type's facts as EC2 DescribeInstanceTypes reports them. */
export interface InstanceFacts {
  readonly vcpus: number;
  readonly ramGiB: number;
  /** AWS's GPU name, e.g. "A100", "H100", "A10G". */
  readonly gpuName: string;
  readonly gpus: number;
  /** Per-GPU memory as AWS reports it (usable MiB / 1024; below the marketing figure on some GPUs). */
  readonly gpuMemoryGiB: number;
  /** Network bandwidth, Gbit/s (the "Up to" figure where AWS gives one); null: AWS gave no number, keep the catalog's. */
  readonly networkGbps: number | null;
  readonly efa: boolean;
}

export interface RefreshData {
  readonly region: string;
  /** ISO date (YYYY-MM-DD) the data was read. */
  readonly asOf: string;
  /** Linux on-demand USD per hour by instance type (AWS Price List GetProducts). */
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  /** Current spot USD per hour by instance type and availability zone (DescribeSpotPriceHistory). */
  readonly spotUsdPerHourByAz: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Facts by instance type (DescribeInstanceTypes). */
  readonly facts: Readonly<Record<string, InstanceFacts>>;
}

export interface RefreshOutcome {
  readonly catalog: Catalog;
  /** Types whose price for the region was rebuilt from AWS. */
  readonly repriced: readonly string[];
  /** Types AWS returned no price for: kept as they were. */
  readonly keptPrices: readonly string[];
  /** Types whose facts were replaced. */
  readonly refreshedFacts: readonly string[];
  readonly warnings: readonly string[];
}

export const REFRESH_PRICE_SOURCE =
  "AWS Price List API GetProducts (AmazonEC2, Linux, shared tenancy, no pre-installed software) and " +
  "EC2 DescribeSpotPriceHistory (Linux/UNIX, price in effect at the refresh, per availability zone)";

const FACTS_NOTE = /; refreshed from EC2 DescribeInstanceTypes .*$/;

export function applyRefresh(catalog: Catalog, data: RefreshData): RefreshOutcome {
  const repriced: string[] = [];
  const keptPrices: string[] = [];
  const refreshedFacts: string[] = [];
  const warnings: string[] = [];

  const instanceTypes = catalog.instanceTypes.map((type): InstanceType => {
    const onDemand = data.onDemandUsdPerHour[type.name];
    const spotByAz = data.spotUsdPerHourByAz[type.name];
    let prices = type.prices;
    if (onDemand !== undefined || spotByAz !== undefined) {
      prices = { ...type.prices, [data.region]: freshPrice(onDemand, spotByAz, data.asOf) };
      repriced.push(type.name);
    } else {
      keptPrices.push(type.name);
    }

    const facts = data.facts[type.name];
    if (facts === undefined) return { ...type, prices };
    refreshedFacts.push(type.name);
    if (!type.gpuModel.toLowerCase().startsWith(facts.gpuName.toLowerCase())) {
      warnings.push(
        `${type.name}: AWS reports ${facts.gpus} x ${facts.gpuName} GPUs, the catalog says ${type.gpus} x ${type.gpuModel}; ` +
          "the GPU model was kept (its peak TFLOP/s are sourced per model); check data/catalog.json",
      );
    }
    return {
      ...type,
      vcpus: facts.vcpus,
      ramGiB: facts.ramGiB,
      gpus: facts.gpus,
      gpuMemoryGiB: facts.gpuMemoryGiB,
      networkGbps: facts.networkGbps ?? type.networkGbps,
      efa: facts.efa,
      prices,
      source:
        type.source.replace(FACTS_NOTE, "") +
        `; refreshed from EC2 DescribeInstanceTypes on ${data.asOf}: vCPUs, RAM, GPU count and memory, network, EFA`,
    };
  });

  return {
    catalog: { ...catalog, generatedAt: data.asOf, instanceTypes },
    repriced,
    keptPrices,
    refreshedFacts,
    warnings,
  };
}

function freshPrice(
  onDemand: number | undefined,
  spotByAz: Readonly<Record<string, number>> | undefined,
  asOf: string,
): RegionPrice {
  return {
    onDemandUsdPerHour: onDemand ?? null,
    spot: spotByAz === undefined ? null : spotPrice(spotByAz),
    asOf,
    source: REFRESH_PRICE_SOURCE,
    stale: false,
  };
}

function spotPrice(byAz: Readonly<Record<string, number>>): SpotPrice | null {
  const prices = Object.values(byAz);
  if (prices.length === 0) return null;
  const sortedAz = Object.fromEntries(Object.entries(byAz).sort(([a], [b]) => a.localeCompare(b)));
  return { minUsdPerHour: Math.min(...prices), maxUsdPerHour: Math.max(...prices), byAz: sortedAz };
}
