/**
 * Synthetic catalogs, workloads and candidates for planner tests. Prices, runtimes and
 * quotas here are invented test inputs, not facts about AWS.
 */
import type { Catalog, InstanceType } from "../../../lambdas/core/catalog/types.ts";
import type { Candidate, Configuration } from "../../../lambdas/core/estimator/types.ts";
import type { QuotaTable } from "../../../lambdas/core/planner/api.ts";
import { mulberry32 } from "../../../lambdas/core/random/seeded-random.ts";
import { parseWorkload, type Workload } from "../../../lambdas/core/spec/workload.ts";
import type { QuotaGroup, Technique } from "../../../lambdas/core/spec/workload-schema.ts";

export const REGION = "us-east-1";

export interface TypeSpec {
  readonly name: string;
  readonly gpus: number;
  readonly vcpus: number;
  readonly onDemand: number | null;
  /** Lowest spot price over the zones (null: no spot market). */
  readonly spot: number | null;
  /** Highest spot price over the zones; default: `spot` (one price everywhere). */
  readonly spotMax?: number;
  readonly group?: QuotaGroup;
}

export function instanceType(spec: TypeSpec): InstanceType {
  const group = spec.group ?? "G";
  return {
    name: spec.name,
    family: spec.name.split(".")[0] ?? spec.name,
    gpuModel: "T4",
    gpus: spec.gpus,
    gpuMemoryGiB: 16 * spec.gpus,
    vcpus: spec.vcpus,
    ramGiB: 8 * spec.vcpus,
    interconnect: "pcie",
    intraNodeBusGBps: 10,
    intraNodeBusSource: "test fixture",
    networkGbps: 25,
    efa: false,
    quotaGroups: { spot: group, "on-demand": group },
    prices: {
      [REGION]: {
        onDemandUsdPerHour: spec.onDemand,
        spot:
          spec.spot === null ? null : { minUsdPerHour: spec.spot, maxUsdPerHour: spec.spotMax ?? spec.spot, byAz: {} },
        asOf: "2026-11-27",
        source: "test fixture",
        stale: false,
      },
    },
    source: "test fixture",
  };
}

export function catalogOf(types: readonly TypeSpec[]): Catalog {
  return {
    schemaVersion: 1,
    generatedAt: "2026-11-27",
    gpus: {
      T4: {
        name: "T4",
        peakTflops: 65,
        supportsBf16: false,
        memoryGiB: 16,
        memoryBandwidthGBps: 320,
        source: "test fixture",
      },
    },
    instanceTypes: types.map(instanceType),
  };
}

export interface JobSpec {
  readonly id: string;
  readonly checkpointable?: boolean;
  readonly deadlineHours?: number;
  readonly samples?: number;
}

export function workloadOf(options: {
  readonly jobs: readonly JobSpec[];
  readonly objective?: unknown;
  readonly markets?: readonly string[];
  readonly bootMinutes?: number;
  readonly timeLimitSeconds?: number;
  readonly mipGap?: number;
  readonly slotMinutes?: number;
  readonly spot?: unknown;
}): Workload {
  return parseWorkload({
    name: "test",
    region: REGION,
    objective: options.objective ?? { kind: "min-cost", deadlineHours: 24 },
    markets: options.markets ?? ["spot", "on-demand"],
    ...(options.spot === undefined ? {} : { spot: options.spot }),
    planner: {
      bootMinutes: options.bootMinutes ?? 5,
      timeLimitSeconds: options.timeLimitSeconds ?? 30,
      mipGap: options.mipGap ?? 0,
      ...(options.slotMinutes === undefined ? {} : { slotMinutes: options.slotMinutes }),
    },
    jobs: options.jobs.map((job) => ({
      id: job.id,
      model: "gpt2-xl",
      batchSize: 8,
      work: { samples: job.samples ?? 3600 },
      checkpointable: job.checkpointable ?? true,
      ...(job.deadlineHours === undefined ? {} : { deadlineHours: job.deadlineHours }),
    })),
  });
}

export function quotasOf(cells: Partial<Record<QuotaGroup, { spot?: number; "on-demand"?: number }>> = {}): QuotaTable {
  const big = 100_000;
  const cell = (group: QuotaGroup) => ({
    spot: cells[group]?.spot ?? big,
    "on-demand": cells[group]?.["on-demand"] ?? big,
  });
  return { G: cell("G"), P: cell("P"), P5: cell("P5") };
}

export function candidate(
  jobId: string,
  config: Partial<Configuration> & { instanceType: string },
  runtimeHours: number | undefined,
  samples = 3600,
): Candidate {
  const full: Configuration = {
    technique: (config.technique ?? "ddp") as Technique,
    instanceType: config.instanceType,
    nodes: config.nodes ?? 1,
    gpusPerNode: config.gpusPerNode ?? 1,
  };
  if (runtimeHours === undefined) {
    return {
      jobId,
      config: full,
      estimate: { fits: false, reason: "needs 61.2 GiB per GPU, the T4 has 16 GiB", peakMemoryGiBPerGpu: 61.2 },
      runtimeSeconds: undefined,
      costUsd: {},
    };
  }
  const runtimeSeconds = runtimeHours * 3600;
  return {
    jobId,
    config: full,
    estimate: {
      fits: true,
      samplesPerSecond: samples / runtimeSeconds,
      peakMemoryGiBPerGpu: 10,
      activationCheckpointing: false,
      source: "estimated",
    },
    runtimeSeconds,
    costUsd: {},
  };
}

/** Deterministic PRNG so that every random case is reproducible from its seed. */
export const seededRandom = mulberry32;
