/**
 * Reads the account's EC2 vCPU quotas (Service Quotas `GetServiceQuota`, service code
 * `ec2`) for the codes in QUOTA_CODES, at plan time. A quota that cannot be read is left
 * out with a warning, never an exception: `resolveQuotas` then takes the spec's value or an
 * assumed default, and planning works offline without credentials.
 */
import {
  GetServiceQuotaCommand,
  type GetServiceQuotaCommandOutput,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { QUOTA_CODES, type QuotasFromAws } from "../core/catalog/quotas.ts";
import { MARKETS, QUOTA_GROUPS } from "../core/spec/workload-schema.ts";

/** The part of a Service Quotas client this adapter uses. */
export interface ServiceQuotasPort {
  send(command: GetServiceQuotaCommand): Promise<GetServiceQuotaCommandOutput>;
}

export interface AwsQuotaReading {
  /** vCPUs by group and market, for each code AWS answered. */
  readonly quotas: QuotasFromAws;
  /** Why a quota is missing (no credentials, access denied, unknown code...). */
  readonly warnings: string[];
}

/** Failures that affect every call alike: after one, the other codes are not tried. */
const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);

/** Reads every quota in QUOTA_CODES for `region`; pass `client` to use an emulator or a preconfigured client. */
export async function readQuotasFromAws(region: string, client?: ServiceQuotasPort): Promise<AwsQuotaReading> {
  const serviceQuotas = client ?? new ServiceQuotasClient({ region });
  const quotas: Record<string, Record<string, number>> = {};
  const warnings: string[] = [];
  for (const group of QUOTA_GROUPS) {
    for (const market of MARKETS) {
      const code = QUOTA_CODES[group][market];
      if (code === undefined) continue;
      try {
        const answer = await serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }));
        const value = answer.Quota?.Value;
        if (value === undefined || !Number.isFinite(value) || value < 0) {
          warnings.push(
            `Service Quotas ${code} (${group} ${market}) in ${region}: expected a vCPU count, got ${String(value)}`,
          );
          continue;
        }
        quotas[group] = { ...quotas[group], [market]: value };
      } catch (error) {
        const name = error instanceof Error ? error.name : "Error";
        const detail = error instanceof Error ? error.message : String(error);
        if (CREDENTIAL_ERRORS.has(name)) {
          warnings.push(
            `Service Quotas not read in ${region} (${name}: ${detail}); quotas come from the spec or are assumed. ` +
              "Set AWS credentials to read the account's real quotas.",
          );
          return { quotas: quotas as QuotasFromAws, warnings };
        }
        warnings.push(`Service Quotas ${code} (${group} ${market}) in ${region} not read: ${name}: ${detail}`);
      }
    }
  }
  return { quotas: quotas as QuotasFromAws, warnings };
}

export interface RegionQuotaReadings {
  /** region -> what AWS answered there (regions whose read failed entirely answer `{}`). */
  readonly byRegion: ReadonlyMap<string, QuotasFromAws>;
  readonly warnings: string[];
}

/**
 * Reads every quota in QUOTA_CODES in each region, through that region's own client: EC2
 * quotas are per region, and Service Quotas answers for the region its client is in.
 * `clientFor` is called once per region (pass one to use an emulator).
 */
export async function readRegionQuotasFromAws(
  regions: readonly string[],
  clientFor: (region: string) => ServiceQuotasPort = (region) => new ServiceQuotasClient({ region }),
): Promise<RegionQuotaReadings> {
  const byRegion = new Map<string, QuotasFromAws>();
  const warnings: string[] = [];
  for (const region of new Set(regions)) {
    const reading = await readQuotasFromAws(region, clientFor(region));
    byRegion.set(region, reading.quotas);
    warnings.push(...reading.warnings);
  }
  return { byRegion, warnings };
}
