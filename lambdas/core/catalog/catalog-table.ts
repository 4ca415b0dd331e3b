/**
 * The rows `saturn catalog` prints: one per instance type offered in a region, with prices
 * per hour and per GPU-hour. Pure; the CLI renders them (cli-table3 or JSON).
 */
import { gpuHourPrice, hourlyPrice, isOfferedIn } from "./select.ts";
import type { Catalog, InstanceType } from "./types.ts";

export interface CatalogRow {
  readonly instanceType: string;
  readonly family: string;
  readonly gpus: number;
  readonly gpuModel: string;
  /** Per GPU. */
  readonly gpuMemoryGiB: number;
  readonly vcpus: number;
  readonly ramGiB: number;
  readonly interconnect: string;
  readonly networkGbps: number;
  readonly efa: boolean;
  readonly onDemandUsdPerHour: number | null;
  readonly spotMinUsdPerHour: number | null;
  readonly spotMaxUsdPerHour: number | null;
  readonly onDemandUsdPerGpuHour: number | null;
  /** At the spot price the planner budgets with (the highest over availability zones). */
  readonly spotUsdPerGpuHour: number | null;
  readonly priceAsOf: string;
  readonly priceSource: string;
  readonly stale: boolean;
  readonly quotaGroups: { readonly "on-demand": string; readonly spot: string };
}

export interface CatalogTableFilter {
  readonly region: string;
  /** Families to keep (exact family names); empty or undefined keeps all. */
  readonly families?: readonly string[];
}

export function catalogRows(catalog: Catalog, filter: CatalogTableFilter): CatalogRow[] {
  const families = filter.families ?? [];
  return catalog.instanceTypes
    .filter((type) => isOfferedIn(type, filter.region))
    .filter((type) => families.length === 0 || families.includes(type.family))
    .map((type) => row(type, filter.region));
}

function row(type: InstanceType, region: string): CatalogRow {
  const price = type.prices[region];
  return {
    instanceType: type.name,
    family: type.family,
    gpus: type.gpus,
    gpuModel: type.gpuModel,
    gpuMemoryGiB: type.gpuMemoryGiB,
    vcpus: type.vcpus,
    ramGiB: type.ramGiB,
    interconnect: type.interconnect,
    networkGbps: type.networkGbps,
    efa: type.efa,
    onDemandUsdPerHour: hourlyPrice(type, region, "on-demand") ?? null,
    spotMinUsdPerHour: price?.spot?.minUsdPerHour ?? null,
    spotMaxUsdPerHour: price?.spot?.maxUsdPerHour ?? null,
    onDemandUsdPerGpuHour: gpuHourPrice(type, region, "on-demand") ?? null,
    spotUsdPerGpuHour: gpuHourPrice(type, region, "spot") ?? null,
    priceAsOf: price?.asOf ?? "",
    priceSource: price?.source ?? "",
    stale: price?.stale ?? false,
    quotaGroups: type.quotaGroups,
  };
}
