/** Validation of catalog documents (the bundled `data/catalog.json` or a refreshed one). */
import { z } from "zod";
import { InvalidWorkloadError } from "../errors.ts";
import { formatIssues } from "../spec/format-issues.ts";
import { QUOTA_GROUPS } from "../spec/workload-schema.ts";
import type { Catalog } from "./types.ts";

const usd = z.number().nonnegative().finite();

const gpuModelSchema = z.strictObject({
  name: z.string().min(1),
  peakTflops: z.number().positive(),
  supportsBf16: z.boolean(),
  memoryGiB: z.number().positive(),
  memoryBandwidthGBps: z.number().positive(),
  source: z.string().min(1),
});

const regionPriceSchema = z.strictObject({
  onDemandUsdPerHour: usd.nullable(),
  spot: z.strictObject({ minUsdPerHour: usd, maxUsdPerHour: usd, byAz: z.record(z.string(), usd) }).nullable(),
  asOf: z.string().min(1),
  source: z.string().min(1),
  stale: z.boolean(),
});

const instanceTypeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/),
  family: z.string().min(1),
  gpuModel: z.string().min(1),
  gpus: z.int().min(1),
  gpuMemoryGiB: z.number().positive(),
  vcpus: z.int().min(1),
  ramGiB: z.number().positive(),
  interconnect: z.enum(["nvswitch", "nvlink", "pcie"]),
  intraNodeBusGBps: z.number().nonnegative(),
  intraNodeBusSource: z.string().min(1),
  networkGbps: z.number().positive(),
  efa: z.boolean(),
  quotaGroups: z.strictObject({ "on-demand": z.enum(QUOTA_GROUPS), spot: z.enum(QUOTA_GROUPS) }),
  prices: z.record(z.string(), regionPriceSchema),
  source: z.string().min(1),
  planByDefault: z.boolean().optional(),
  unconfirmed: z.array(z.string().min(1)).optional(),
});

export const catalogSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    generatedAt: z.string().min(1),
    notes: z.array(z.string()).default([]),
    gpus: z.record(z.string(), gpuModelSchema),
    instanceTypes: z.array(instanceTypeSchema).min(1),
  })
  .superRefine((catalog, ctx) => {
    catalog.instanceTypes.forEach((type, index) => {
      if (!(type.gpuModel in catalog.gpus)) {
        ctx.addIssue({
          code: "custom",
          path: ["instanceTypes", index, "gpuModel"],
          message: `expected one of the catalog's GPU models (${Object.keys(catalog.gpus).join(", ")})`,
        });
      }
    });
  });

/** Validates a parsed catalog document; throws InvalidWorkloadError (subject "catalog") naming each bad field. */
export function parseCatalog(data: unknown): Catalog {
  const result = catalogSchema.safeParse(data);
  if (!result.success) throw new InvalidWorkloadError(formatIssues(result.error.issues, data), { subject: "catalog" });
  return result.data;
}
