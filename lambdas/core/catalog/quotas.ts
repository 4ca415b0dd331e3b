/**
 * EC2 vCPU quotas per quota group and market, and how the planner's quota table is resolved:
 * a spec override wins over the value read from Service Quotas, which wins over an assumed
 * default. Every assumed value produces a warning that names it and says how to replace it.
 *
 * AWS counts on-demand P5 instances in the on-demand P quota (L-417A185B), so the table's
 * P5/on-demand cell is not a quota of its own: no instance type maps to it and it is 0.
 */
import type { QuotaTable } from "../planner/api.ts";
import { MARKETS, type Market, QUOTA_GROUPS, type QuotaGroup, type QuotaOverride } from "../spec/workload-schema.ts";

/** Service Quotas codes (service code `ec2`), counted in vCPUs. Source: shared/reference/aws-gpu.md. */
export const QUOTA_CODES: Record<QuotaGroup, Partial<Record<Market, string>>> = {
  /** "Running On-Demand G and VT instances", "All G and VT Spot Instance Requests" (g4dn-g6e; G7 and G7e too, per a third-party quota guide). */
  G: { "on-demand": "L-DB2E81BA", spot: "L-3819A6DF" },
  /** "Running On-Demand P instances" (includes P5 and P6), "All P4, P3 and P2 Spot Instance Requests". */
  P: { "on-demand": "L-417A185B", spot: "L-7212CCBC" },
  /**
   * "All P5 Spot Instance Requests": P5, P5e, P5en. The code appears in a public export of
   * ListServiceQuotas (default 192); P6 spot is counted here after a third-party guide
   * (UNCONFIRMED). A refused read falls back to the default.
   */
  P5: { spot: "L-C4BD4855" },
};

/**
 * vCPUs assumed for a quota that neither the spec nor AWS supplies: enough for exactly one of
 * the largest GPU instances of any group (192 vCPUs: g5/g6/g6e.48xlarge, p5.48xlarge), so a
 * plan built on a guess never counts on more than one big machine per group and market at a
 * time. Real accounts may hold less (new accounts often start at 0 for P), hence the warning.
 */
export const ASSUMED_QUOTA_VCPUS = 192;

export type QuotaSource = "spec" | "aws" | "assumed" | "not-applicable";

export type QuotasFromAws = Partial<Record<QuotaGroup, Partial<Record<Market, number>>>>;

export interface QuotaResolution {
  readonly quotas: QuotaTable;
  /** One line per assumed quota; the planner repeats them in every plan that uses that group and market. */
  readonly warnings: string[];
  /** Where each cell of `quotas` came from. */
  readonly sources: Readonly<Record<QuotaGroup, Readonly<Record<Market, QuotaSource>>>>;
}

/** True for the group/market cells that correspond to a real Service Quotas code. */
export function isQuotaApplicable(group: QuotaGroup, market: Market): boolean {
  return QUOTA_CODES[group][market] !== undefined;
}

/**
 * Resolves each (group, market) cell: the last spec override for it, else the AWS value
 * (rounded down: AWS reports doubles), else ASSUMED_QUOTA_VCPUS with a warning.
 */
export function resolveQuotas(
  overrides: readonly QuotaOverride[],
  fromAws: QuotasFromAws | undefined,
  /** Named in the warnings (multi-region workloads); overrides are taken as given, whatever their region. */
  region?: string,
): QuotaResolution {
  const applicable = overrides;
  const warnings: string[] = [];
  const quotas = {} as Record<QuotaGroup, Record<Market, number>>;
  const sources = {} as Record<QuotaGroup, Record<Market, QuotaSource>>;
  for (const group of QUOTA_GROUPS) {
    quotas[group] = { spot: 0, "on-demand": 0 };
    sources[group] = { spot: "not-applicable", "on-demand": "not-applicable" };
    for (const market of MARKETS) {
      if (!isQuotaApplicable(group, market)) continue;
      const override = applicable.findLast((entry) => entry.group === group && entry.market === market);
      const aws = fromAws?.[group]?.[market];
      if (override !== undefined) {
        quotas[group][market] = override.vcpus;
        sources[group][market] = "spec";
      } else if (aws !== undefined && Number.isFinite(aws) && aws >= 0) {
        quotas[group][market] = Math.floor(aws);
        sources[group][market] = "aws";
      } else {
        quotas[group][market] = ASSUMED_QUOTA_VCPUS;
        sources[group][market] = "assumed";
        warnings.push(assumedQuotaWarning(group, market, region));
      }
    }
  }
  return { quotas, warnings, sources };
}

/** The warning for one assumed cell, with the spec line that replaces the guess. */
export function assumedQuotaWarning(group: QuotaGroup, market: Market, region?: string): string {
  const where = region === undefined ? "" : ` in ${region}`;
  const regionField = region === undefined ? "" : `region: ${region}, `;
  return (
    `quota assumed: ${group} ${market}${where} = ${ASSUMED_QUOTA_VCPUS} vCPUs (not read from AWS Service Quotas ` +
    `${QUOTA_CODES[group][market] ?? ""} and not set in the spec); your account may allow less. ` +
    `Run with AWS credentials or add to the spec: quotas: [{ ${regionField}group: ${group}, market: ${market}, vcpus: N }]`
  );
}

/** Quotas of every region a workload plans in; `quotas` is the home region's. */
export interface RegionQuotaResolution {
  readonly quotas: QuotaTable;
  readonly quotasByRegion: Readonly<Record<string, QuotaTable>>;
  readonly warnings: string[];
}

/**
 * Resolves each planning region (and the home region) on its own: quotas are per region in
 * EC2. An override with `region` holds only there; one without holds in every region.
 * Warnings name the region only when the workload plans in more than one.
 */
export function resolveWorkloadQuotas(
  workload: { readonly region: string; readonly regions: readonly string[]; readonly quotas: readonly QuotaOverride[] },
  fromAws: (region: string) => QuotasFromAws | undefined,
): RegionQuotaResolution {
  const multi = workload.regions.length > 1 || workload.regions[0] !== workload.region;
  const quotasByRegion: Record<string, QuotaTable> = {};
  const warnings: string[] = [];
  for (const region of [...new Set([workload.region, ...workload.regions])]) {
    const overrides = workload.quotas.filter((entry) => entry.region === undefined || entry.region === region);
    const resolved = resolveQuotas(overrides, fromAws(region), multi ? region : undefined);
    quotasByRegion[region] = resolved.quotas;
    // The home region's quotas matter only where jobs may run there.
    if (workload.regions.includes(region)) warnings.push(...resolved.warnings);
  }
  return { quotas: quotasByRegion[workload.region] as QuotaTable, quotasByRegion, warnings };
}
