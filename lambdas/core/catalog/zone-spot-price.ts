/**
 * A zone's spot price from the catalog. The catalog keys `byAz` by availability-zone **ID**
 * (use1-az4): IDs name the same physical zone in every account, while zone names
 * (us-east-1a) are mapped to IDs differently per account, so a price keyed by name would be
 * another zone's price in someone else's account. EC2 reports instances, subnets and spot
 * price history by zone name, so callers map the name to its ID (DescribeAvailabilityZones)
 * before looking it up. A catalog written by an older `saturn catalog refresh` may still key
 * names: the name is tried after the ID.
 */
import type { SpotPrice } from "./types.ts";

export interface Zone {
  readonly name: string;
  /** Undefined when the region's zone list did not name it. */
  readonly id: string | undefined;
}

/** The zone's price, or undefined when the catalog has none for that zone. */
export function zoneSpotPrice(spot: SpotPrice | null | undefined, zone: Zone): number | undefined {
  if (spot === null || spot === undefined) return undefined;
  return (zone.id === undefined ? undefined : spot.byAz[zone.id]) ?? spot.byAz[zone.name];
}
