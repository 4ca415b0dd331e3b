/**
 * The GPU instance catalog as the core reads it. The data lives in `data/catalog.json`
 * (every fact with its source and date) and is validated by `catalog-schema.ts`;
 * `saturn catalog refresh` rewrites it from AWS. Code never hard-codes a price.
 */
import type { Market, QuotaGroup } from "../spec/workload-schema.ts";

export interface GpuModel {
  /** Catalog key, e.g. "A100-40GB", "H100", "L40S". */
  readonly name: string;
  /** Dense BF16 tensor TFLOP/s, or FP16 where the GPU has no BF16 (T4, V100). */
  readonly peakTflops: number;
  readonly supportsBf16: boolean;
  readonly memoryGiB: number;
  readonly memoryBandwidthGBps: number;
  readonly source: string;
}

export type Interconnect = "nvswitch" | "nvlink" | "pcie";

export interface RegionPrice {
  /** Linux on-demand, USD per hour; null where AWS lists no price (type not offered). */
  readonly onDemandUsdPerHour: number | null;
  /** Spot prices over the region's availability zones; null: no spot market recorded. */
  readonly spot: SpotPrice | null;
  /** ISO date the prices were read. */
  readonly asOf: string;
  readonly source: string;
  /** True when the price is known to be out of date (e.g. P-family before the June 2025 cut). */
  readonly stale: boolean;
}

export interface SpotPrice {
  readonly minUsdPerHour: number;
  readonly maxUsdPerHour: number;
  /** Per-AZ prices where known (a refresh from AWS fills this; snapshots may hold only min/max). */
  readonly byAz: Readonly<Record<string, number>>;
}

export interface InstanceType {
  readonly name: string;
  readonly family: string;
  readonly gpuModel: string;
  readonly gpus: number;
  readonly gpuMemoryGiB: number;
  readonly vcpus: number;
  readonly ramGiB: number;
  readonly interconnect: Interconnect;
  /** Effective all-reduce bus bandwidth among the GPUs of one instance, GB/s. */
  readonly intraNodeBusGBps: number;
  readonly intraNodeBusSource: string;
  /** Network bandwidth between instances, Gbit/s. */
  readonly networkGbps: number;
  readonly efa: boolean;
  readonly quotaGroups: { readonly [M in Market]: QuotaGroup };
  readonly prices: Readonly<Record<string, RegionPrice>>;
  readonly source: string;
  /**
   * False: the type rests on UNCONFIRMED figures (G7, G7e GPU peaks) and is planned only
   * when `instanceTypes.allow` names it or its family. Absent: planned by default.
   */
  readonly planByDefault?: boolean;
  /** Figures of this entry that no confirming source backs (conservative values chosen). */
  readonly unconfirmed?: readonly string[];
}

export interface Catalog {
  readonly schemaVersion: 1;
  readonly generatedAt: string;
  readonly gpus: Readonly<Record<string, GpuModel>>;
  readonly instanceTypes: readonly InstanceType[];
}
