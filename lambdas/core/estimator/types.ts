/** Configurations, throughput estimates and the candidates the planner chooses among. */
import type { Market, Technique } from "../spec/workload-schema.ts";

/** One way to run a job: technique x instance type x nodes x GPUs per node. */
export interface Configuration {
  readonly technique: Technique;
  readonly instanceType: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
}

export type ThroughputSource = "measured" | "estimated";

export type ThroughputEstimate =
  | {
      readonly fits: true;
      readonly samplesPerSecond: number;
      readonly peakMemoryGiBPerGpu: number;
      readonly activationCheckpointing: boolean;
      readonly source: ThroughputSource;
      /** Seconds per optimizer step split by cause (estimates only; measured: undefined). */
      readonly stepSeconds?: { readonly compute: number; readonly communication: number; readonly offload: number };
      /** Samples per GPU per forward/backward pass (pipeline: per micro-batch); estimates only. */
      readonly microBatchSize?: number;
      /** Forward/backward passes per optimizer step (gradient accumulation; pipeline: micro-batches). */
      readonly passesPerStep?: number;
      /** Mixed precision in use: bf16 where the GPU supports it, else fp16. */
      readonly precision?: "bf16" | "fp16";
      /** Host RAM per node the configuration fills (CPU offload), GiB; estimates only. */
      readonly hostMemoryGiBPerNode?: number;
    }
  | {
      readonly fits: false;
      /** Why not, e.g. "needs 61.2 GiB per GPU, the A10G has 24 GiB". */
      readonly reason: string;
      readonly peakMemoryGiBPerGpu: number;
    };

/** A configuration for a job with its estimate, runtime and price. */
export interface Candidate {
  readonly jobId: string;
  readonly config: Configuration;
  readonly estimate: ThroughputEstimate;
  /** Seconds to finish the job's work (undefined when it does not fit). */
  readonly runtimeSeconds: number | undefined;
  /** Cost of the GPUs it occupies for its runtime, per market (share of the instance price). */
  readonly costUsd: Partial<Record<Market, number>>;
}

/** A measured throughput record (from a profiling run or a finished job). */
export interface ProfileRecord {
  readonly jobSignature: string;
  readonly technique: Technique;
  readonly instanceType: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
  readonly samplesPerSecond: number;
  readonly peakMemoryGiBPerGpu: number;
  readonly measuredAt: string;
  /** Where it was measured: "aws:us-east-1:i-0abc", "sim", "cpu-harness", ... */
  readonly where: string;
  /**
   * False: the profile run found, across ranks, that the configuration does not fit (out of
   * memory); `samplesPerSecond` is then 0 and the planner leaves the configuration out.
   * Absent or true: a measurement. (Additive: files and stores written before it omit it.)
   */
  readonly fits?: boolean;
  /** Why it does not fit, as the harness said it (only with `fits: false`). */
  readonly reason?: string;
  /**
   * What the figure is. Absent or `measured`: timed steps (profile mode, a finished job).
   * `plugin-estimate`: a plug-in technique's own `search` answer (its estimated runtime
   * turned into samples/s, or its does-not-fit), written by `saturn profile`; it prices a
   * plug-in configuration until a measurement replaces it (docs/estimator.md, "Plug-in
   * techniques"). Additive.
   */
  readonly basis?: ProfileBasis;
  /** The knobs the technique's search chose (plug-ins), for the record's reader. Additive. */
  readonly knobs?: Readonly<Record<string, number | string | boolean | null>>;
}

export const PROFILE_BASES = ["measured", "plugin-estimate"] as const;
export type ProfileBasis = (typeof PROFILE_BASES)[number];

/** Port: measured records override estimates. */
export interface ProfileStore {
  find(jobSignature: string, config: Configuration): ProfileRecord | undefined;
}
