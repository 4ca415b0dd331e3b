/**
 * Which instance types a workload may use, and what an hour of one costs.
 *
 * Allow/deny entries name either an exact type (`p4d.24xlarge`, has a dot) or a whole
 * family (`g6e`, no dot). Families are matched exactly: `p5` does not include `p5en`.
 * An entry that names nothing in the catalog is an error, not a silent no-op: a typo in
 * `deny` would otherwise let the very type through that the user meant to exclude.
 */
import { type InputIssue, InvalidWorkloadError } from "../errors.ts";
import type { Workload } from "../spec/workload.ts";
import type { Market } from "../spec/workload-schema.ts";
import { editDistance } from "../text/edit-distance.ts";
import type { Catalog, InstanceType } from "./types.ts";

export type InstanceTypeFilter = Pick<Workload, "region" | "instanceTypes"> & {
  /** Regions to plan in; a type offered in any of them is selected. Default: `region`. */
  readonly regions?: readonly string[];
};

export interface InstanceTypeSelection {
  readonly types: InstanceType[];
  /** Valid entries that select nothing in the region, and similar things worth knowing. */
  readonly warnings: string[];
}

/**
 * Types offered in the workload's region (a price in at least one market) with allow/deny
 * applied, in catalog order; types marked `planByDefault: false` only when allow names them. Throws InvalidWorkloadError when an allow/deny entry names no
 * type or family of the catalog.
 */
export function offeredInstanceTypes(catalog: Catalog, workload: InstanceTypeFilter): InstanceType[] {
  return selectInstanceTypes(catalog, workload).types;
}

/** `offeredInstanceTypes` plus warnings for entries that are known but select nothing in the region. */
export function selectInstanceTypes(catalog: Catalog, workload: InstanceTypeFilter): InstanceTypeSelection {
  const { allow, deny } = workload.instanceTypes;
  const issues = [
    ...unknownEntries(catalog, allow ?? [], "instanceTypes.allow"),
    ...unknownEntries(catalog, deny, "instanceTypes.deny"),
  ];
  if (issues.length > 0) throw new InvalidWorkloadError(issues);

  const regions = workload.regions ?? [workload.region];
  const where = regions.join(", ");
  const inRegion = catalog.instanceTypes.filter((type) => regions.some((region) => isOfferedIn(type, region)));
  // A type whose entry rests on UNCONFIRMED figures (planByDefault: false) is planned only
  // when allow names it or its family: a plan must not count on a guessed GPU peak unasked.
  const types = inRegion.filter((type) => {
    const allowed = allow?.some((entry) => matches(type, entry));
    if (type.planByDefault === false && allowed !== true) return false;
    return (allow === undefined || allowed === true) && !deny.some((entry) => matches(type, entry));
  });

  const warnings: string[] = [];
  for (const entry of allow ?? []) {
    if (!inRegion.some((type) => matches(type, entry))) {
      warnings.push(
        `instanceTypes.allow: '${entry}' has no price in ${where} in the catalog, so it selects nothing there; ` +
          `run \`saturn catalog refresh --regions ${regions.join(",")}\` or pick another region`,
      );
    }
  }
  if (types.length === 0) {
    warnings.push(
      `no instance type is offered in ${where} after allow/deny (${inRegion.length} offered before); ` +
        "widen instanceTypes.allow, shorten instanceTypes.deny, or pick another region",
    );
  }
  return { types, warnings };
}

/** True when the catalog holds an on-demand or a spot price for the type in the region. */
export function isOfferedIn(type: InstanceType, region: string): boolean {
  const price = type.prices[region];
  return price !== undefined && (price.onDemandUsdPerHour !== null || price.spot !== null);
}

/**
 * Which of the two prices of an offer: what an hour is *expected* to cost (the planner's
 * objective, a plan's `expectedCostUsd`), or the most it can cost (the *budget* price: every
 * hard limit, the min-time budget row, the validator's budget check, the reconciler's
 * budget projection). They differ only for spot. docs/plan.md, "Expected and budget prices".
 */
export type PriceBasis = "expected" | "budget";

/**
 * USD per instance-hour at the *budget* (worst-case) price; undefined when the type is not
 * offered in that market and region.
 *
 * Spot: the highest current price over the region's availability zones. The planner may
 * not choose the AZ (multi-node jobs need one AZ with capacity, and EC2 Fleet's
 * price-capacity-optimized strategy weighs capacity over price), and a budget is a hard
 * limit, so the cheapest AZ would be an optimistic promise. See docs/catalog.md.
 */
export function hourlyPrice(type: InstanceType, region: string, market: Market): number | undefined {
  const price = type.prices[region];
  if (price === undefined) return undefined;
  if (market === "on-demand") return price.onDemandUsdPerHour ?? undefined;
  return price.spot?.maxUsdPerHour ?? undefined;
}

/** Same as `hourlyPrice`, named for what it is where both prices are used side by side. */
export const budgetHourlyPrice = hourlyPrice;

/**
 * USD per instance-hour a run is *expected* to pay; undefined where `hourlyPrice` is.
 *
 * Spot: the mean of the per-AZ prices when the catalog has them (EC2 Fleet may place an
 * instance in any AZ of the region, taken as equally likely), else the midpoint of the
 * catalog's AZ min-max range (the SkyPilot snapshot keeps no per-AZ figures): with nothing
 * known about where in the range an AZ's price lies, a price uniform in the range is the
 * least-informed assumption, and its mean is the midpoint. The simulated cloud bills spot
 * under the same assumption (the AZ's price when known, else uniform in min-max), so its
 * executed cost is unbiased against the plan. On-demand: the one catalog price.
 */
export function expectedHourlyPrice(type: InstanceType, region: string, market: Market): number | undefined {
  const price = type.prices[region];
  if (price === undefined) return undefined;
  if (market === "on-demand") return price.onDemandUsdPerHour ?? undefined;
  const spot = price.spot;
  if (spot === null) return undefined;
  const zones = Object.values(spot.byAz);
  if (zones.length > 0) return zones.reduce((sum, zone) => sum + zone, 0) / zones.length;
  return (spot.minUsdPerHour + spot.maxUsdPerHour) / 2;
}

/** The price on the given basis: `expectedHourlyPrice` or `hourlyPrice` (budget). */
export function priceOn(basis: PriceBasis, type: InstanceType, region: string, market: Market): number | undefined {
  return basis === "expected" ? expectedHourlyPrice(type, region, market) : hourlyPrice(type, region, market);
}

/** USD per GPU-hour at `hourlyPrice`; undefined where `hourlyPrice` is. */
export function gpuHourPrice(type: InstanceType, region: string, market: Market): number | undefined {
  const perHour = hourlyPrice(type, region, market);
  return perHour === undefined ? undefined : perHour / type.gpus;
}

function matches(type: InstanceType, entry: string): boolean {
  return entry.includes(".") ? type.name === entry : type.family === entry;
}

function unknownEntries(catalog: Catalog, entries: readonly string[], path: string): InputIssue[] {
  const issues: InputIssue[] = [];
  entries.forEach((entry, index) => {
    if (catalog.instanceTypes.some((type) => matches(type, entry))) return;
    const isType = entry.includes(".");
    const known = isType
      ? catalog.instanceTypes.map((type) => type.name)
      : [...new Set(catalog.instanceTypes.map((type) => type.family))];
    const close = closestNames(entry, known);
    issues.push({
      path: `${path}[${index}]`,
      message:
        `expected an instance ${isType ? "type" : "family"} in the catalog, got '${entry}'` +
        (close.length > 0 ? `; did you mean ${close.map((name) => `'${name}'`).join(" or ")}?` : "") +
        " (see `saturn catalog`)",
    });
  });
  return issues;
}

/** Up to three names that extend `name` or lie within edit distance 2 of it; extensions first, then closest. */
function closestNames(name: string, known: readonly string[]): string[] {
  return known
    .map((candidate) => ({ candidate, extends: candidate.startsWith(name), distance: editDistance(name, candidate) }))
    .filter((entry) => entry.extends || entry.distance <= 2)
    .sort(
      (a, b) =>
        Number(b.extends) - Number(a.extends) || a.distance - b.distance || a.candidate.localeCompare(b.candidate),
    )
    .slice(0, 3)
    .map(({ candidate }) => candidate);
}
