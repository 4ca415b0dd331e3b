/**
 * What AWS charges per GB moved between two regions (data transfer out of the source
 * region; inbound is free). Figures: redresscompliance.com, "AWS inter-region transfer
 * costs" (2026), quoting AWS's EC2 data-transfer price table: US East (N. Virginia) <->
 * US East (Ohio) $0.01/GB, every other US pair $0.02/GB, most US <-> Europe/Asia pairs
 * $0.02/GB; wring.co's 2026 AWS data transfer guide also gives "Cross-region $0.02 / one
 * direction". Pairs outside these are priced at the default with the same caveat: check
 * AWS's price page for your regions.
 */

/** USD per GB between regions not listed below. */
export const DEFAULT_INTER_REGION_USD_PER_GB = 0.02;

const PAIR_USD_PER_GB: Readonly<Record<string, number>> = {
  "us-east-1|us-east-2": 0.01,
};

/** USD per GB from one region to another; 0 within a region. */
export function interRegionUsdPerGb(from: string, to: string): number {
  if (from === to) return 0;
  const key = [from, to].sort().join("|");
  return PAIR_USD_PER_GB[key] ?? DEFAULT_INTER_REGION_USD_PER_GB;
}
