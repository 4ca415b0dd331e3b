/**
 * Fixtures for the baseline tests: the bundled catalog (real prices and quota groups) with
 * synthetic candidates whose runtimes are easy to reason about, so the tests pin down the
 * baselines' rules rather than the estimator's numbers.
 */
import { loadCatalog } from "../../../../lambdas/adapters/catalog-file.ts";
import type { InstanceType } from "../../../../lambdas/core/catalog/types.ts";
import type { Candidate, Configuration } from "../../../../lambdas/core/estimator/types.ts";
import type { QuotaTable } from "../../../../lambdas/core/planner/api.ts";
import type { BaselineContext } from "../../../../lambdas/core/planner/baselines/baseline-context.ts";
import { type Job, parseWorkload } from "../../../../lambdas/core/spec/workload.ts";
import type { Market } from "../../../../lambdas/core/spec/workload-schema.ts";

export const catalog = loadCatalog();

export function quotas(p: number, g = 768): QuotaTable {
  return {
    G: { spot: g, "on-demand": g },
    P: { spot: p, "on-demand": p },
    P5: { spot: 192, "on-demand": 0 },
  };
}

/** A spec in the shape users write; `jobs` default to four small sweep jobs. */
export function workload(overrides: Record<string, unknown> = {}) {
  return parseWorkload({
    name: "baseline-fixture",
    objective: { kind: "min-cost", deadlineHours: 48 },
    instanceTypes: { allow: ["p4d.24xlarge", "g6e.12xlarge", "g5.xlarge"] },
    planner: { bootMinutes: 5 },
    jobs: [
      { id: "small", model: "gpt2-xl", batchSize: 16, work: { samples: 20_000 }, sweep: { lr: [1, 2] } },
      { id: "big", model: "gpt-j-6b", batchSize: 16, work: { samples: 20_000 }, sweep: { lr: [1, 2] } },
    ],
    ...overrides,
  });
}

/**
 * Synthetic throughput: samples/s = base(job) x GPUs^0.8 x (GPU TFLOPs / 312) x technique
 * factor. Memory: "big" jobs (gpt-j) need 60 GiB of model state, split by FSDP/pipeline over
 * the job's GPUs; DDP keeps it whole; CPU offload always fits.
 */
export function syntheticCandidates(job: Job, types: readonly InstanceType[]): Candidate[] {
  const big = job.modelName === "gpt-j-6b";
  const base = big ? 0.5 : 2;
  const stateGiB = big ? 60 : 20;
  const factor = { ddp: 1, fsdp: 0.95, "fsdp-offload": 0.4, pipeline: 0.8 } as const;
  const candidates: Candidate[] = [];
  for (const technique of job.techniques) {
    for (const type of types) {
      const gpu = catalog.gpus[type.gpuModel];
      if (gpu === undefined) continue;
      for (const gpusPerNode of [1, 2, 4, 8].filter((count) => count <= type.gpus)) {
        for (const nodes of gpusPerNode === type.gpus ? [1, 2] : [1]) {
          const config: Configuration = { technique, instanceType: type.name, nodes, gpusPerNode };
          const gpus = nodes * gpusPerNode;
          const perGpu = technique === "ddp" ? stateGiB : technique === "fsdp-offload" ? 4 : stateGiB / gpus;
          if (perGpu > gpu.memoryGiB * 0.9) {
            candidates.push({
              jobId: job.id,
              config,
              estimate: { fits: false, reason: `needs ${perGpu} GiB per GPU`, peakMemoryGiBPerGpu: perGpu },
              runtimeSeconds: undefined,
              costUsd: {},
            });
            continue;
          }
          const samplesPerSecond =
            base * gpus ** 0.8 * (gpu.peakTflops / 312) * factor[technique as keyof typeof factor];
          candidates.push({
            jobId: job.id,
            config,
            estimate: {
              fits: true,
              samplesPerSecond,
              peakMemoryGiBPerGpu: perGpu,
              activationCheckpointing: false,
              source: "estimated",
            },
            runtimeSeconds: job.totalSamples / samplesPerSecond,
            costUsd: {},
          });
        }
      }
    }
  }
  return candidates;
}

/** Spot runs take 5% longer in expectation (interruptions); on-demand runs take their runtime. */
export function expectedRuntimeSeconds(candidate: Candidate, market: Market): number {
  return (candidate.runtimeSeconds ?? Number.POSITIVE_INFINITY) * (market === "spot" ? 1.05 : 1);
}

export function context(overrides: Partial<BaselineContext> = {}): BaselineContext {
  return {
    workload: workload(),
    catalog,
    quotas: quotas(384),
    candidatesFor: syntheticCandidates,
    expectedRuntimeSeconds,
    ...overrides,
  };
}
