/**
 * The analytical throughput estimator: for one job and one configuration, does it fit and
 * how many samples per second. It searches the knobs a run would tune (micro-batch size,
 * activation checkpointing) and keeps the fastest setting that fits in GPU memory (and, for
 * CPU offload, host RAM). docs/estimator.md gives the model and its sources.
 *
 * Results are memoised per catalog, job signature and configuration: sweeps are clones.
 */
import type { Catalog, GpuModel, InstanceType } from "../catalog/types.ts";
import type { Job } from "../spec/workload.ts";
import { isBuiltInTechnique } from "../spec/workload-schema.ts";
import { topologyOf } from "./communication.ts";
import { GIB, HOST_MEMORY_USABLE_FRACTION, usableGpuMemoryBytes } from "./hardware-efficiency.ts";
import { jobSignature } from "./job-signature.ts";
import { modelCosts } from "./model-costs.ts";
import {
  evaluateStep,
  hostMemoryLimitBytes,
  type StatePrecision,
  type StepContext,
  type StepResult,
  type StepSettings,
} from "./training-step.ts";
import type { Configuration, ThroughputEstimate } from "./types.ts";

export function estimateThroughput(job: Job, config: Configuration, catalog: Catalog): ThroughputEstimate {
  const memo = memoFor(catalog);
  const key = `${jobSignature(job)}|${configurationKey(config)}`;
  const known = memo.estimates.get(key);
  if (known !== undefined) return known;
  const estimate = searchSettings(job, config, catalog, memo.instances);
  memo.estimates.set(key, estimate);
  return estimate;
}

/**
 * The estimate with the knobs fixed, as a published run set them (calibration). Returns
 * `fits: false` when that setting would not fit.
 */
export function estimateWithSettings(
  job: Job,
  config: Configuration,
  catalog: Catalog,
  settings: StepSettings,
  statePrecision: StatePrecision = "mixed",
): ThroughputEstimate {
  const prepared = prepare(job, config, catalog, memoFor(catalog).instances);
  if ("reason" in prepared) return prepared;
  const context = { ...prepared.context, statePrecision };
  return toEstimate(prepared, settings, evaluateStep(context, settings));
}

export function configurationKey(config: Configuration): string {
  return `${config.technique}:${config.instanceType}:${config.nodes}x${config.gpusPerNode}`;
}

interface Prepared {
  readonly job: Job;
  readonly context: StepContext;
  readonly gpu: GpuModel;
  readonly instance: InstanceType;
  /** Largest useful micro-batch: samples per GPU per step (pipeline: the whole batch). */
  readonly maxMicroBatch: number;
}

type NotFitting = Extract<ThroughputEstimate, { fits: false }>;

function searchSettings(
  job: Job,
  config: Configuration,
  catalog: Catalog,
  instances: ReadonlyMap<string, InstanceType>,
): ThroughputEstimate {
  const prepared = prepare(job, config, catalog, instances);
  if ("reason" in prepared) return prepared;
  const checkpointingOptions = prepared.context.costs.checkpointBytesPerLayer === undefined ? [false] : [false, true];
  let best: { settings: StepSettings; result: StepResult } | undefined;
  let smallest: { settings: StepSettings; result: StepResult } | undefined;
  for (const activationCheckpointing of checkpointingOptions) {
    for (const microBatchSize of microBatchSizes(prepared.maxMicroBatch)) {
      const settings = { microBatchSize, activationCheckpointing };
      const result = evaluateStep(prepared.context, settings);
      if (smallest === undefined || result.gpuBytes < smallest.result.gpuBytes) smallest = { settings, result };
      if (!fitsIn(prepared, result)) continue;
      if (
        best === undefined ||
        result.stepSeconds < best.result.stepSeconds ||
        (result.stepSeconds === best.result.stepSeconds && result.gpuBytes < best.result.gpuBytes)
      ) {
        best = { settings, result };
      }
    }
  }
  if (best !== undefined) return toEstimate(prepared, best.settings, best.result);
  // `smallest` exists: microBatchSizes always yields 1.
  const fallback = smallest as { settings: StepSettings; result: StepResult };
  return toEstimate(prepared, fallback.settings, fallback.result);
}

function prepare(
  job: Job,
  config: Configuration,
  catalog: Catalog,
  instances: ReadonlyMap<string, InstanceType>,
): Prepared | NotFitting {
  const instance = instances.get(config.instanceType);
  if (instance === undefined) {
    return notFitting(`instance type ${config.instanceType} is not in the catalog`, 0);
  }
  const gpu = catalog.gpus[instance.gpuModel];
  if (gpu === undefined) {
    return notFitting(`the catalog has no GPU model '${instance.gpuModel}' for ${instance.name}`, 0);
  }
  if (!Number.isInteger(config.nodes) || config.nodes < 1) {
    return notFitting(`expected a node count >= 1, got ${config.nodes}`, 0);
  }
  if (!Number.isInteger(config.gpusPerNode) || config.gpusPerNode < 1 || config.gpusPerNode > instance.gpus) {
    return notFitting(
      `${instance.name} has ${instance.gpus} GPU(s), the configuration asks for ${config.gpusPerNode}`,
      0,
    );
  }
  if (job.method === "lora" && job.model.family === "cnn") {
    return notFitting("LoRA is modelled for transformers (decoder, vit) only; use method 'full' for a CNN", 0);
  }
  const technique = config.technique;
  if (!isBuiltInTechnique(technique)) return notFitting(pluginWithoutFigureReason(technique), 0);
  const gpus = config.nodes * config.gpusPerNode;
  const costs = modelCosts(job);
  if (config.technique === "pipeline") {
    if (gpus < 2) return notFitting("pipeline parallelism needs at least 2 GPUs (one stage each)", 0);
    if (costs.layers < gpus) {
      return notFitting(`pipeline over ${gpus} GPUs needs at least ${gpus} layers; the model has ${costs.layers}`, 0);
    }
  } else if (job.batchSize < gpus) {
    return notFitting(
      `global batch ${job.batchSize} is smaller than ${gpus} data-parallel GPUs (each needs at least one sample per step)`,
      0,
    );
  }
  const context: StepContext = {
    technique,
    costs,
    batchSize: job.batchSize,
    gpu,
    instance,
    topology: topologyOf(instance, config.nodes, config.gpusPerNode),
  };
  const maxMicroBatch = config.technique === "pipeline" ? job.batchSize : Math.ceil(job.batchSize / gpus);
  return { job, context, gpu, instance, maxMicroBatch };
}

/**
 * Why a plug-in configuration is no candidate until a profile record gives it a figure:
 * the estimator has no model of a user's technique (docs/estimator.md, "Plug-in techniques").
 */
export function pluginWithoutFigureReason(technique: string): string {
  return (
    `plug-in technique '${technique}' has no throughput figure for this configuration (the estimator has no model of it): ` +
    `run \`saturn profile SPEC --technique ${technique}\` for its search's estimate, or let the profiling phase measure it`
  );
}

function fitsIn(prepared: Prepared, result: StepResult): boolean {
  return (
    result.gpuBytes <= usableGpuMemoryBytes(prepared.gpu) &&
    result.hostBytesPerNode <= hostMemoryLimitBytes(prepared.instance)
  );
}

function toEstimate(prepared: Prepared, settings: StepSettings, result: StepResult): ThroughputEstimate {
  const peakMemoryGiBPerGpu = result.gpuBytes / GIB;
  const { gpu, instance } = prepared;
  if (result.hostBytesPerNode > hostMemoryLimitBytes(instance)) {
    return notFitting(
      `CPU offload needs ${gib(result.hostBytesPerNode)} GiB of host RAM per node; ${instance.name} has ${instance.ramGiB} GiB ` +
        `(${gib(hostMemoryLimitBytes(instance))} usable at ${HOST_MEMORY_USABLE_FRACTION * 100}%)`,
      peakMemoryGiBPerGpu,
    );
  }
  if (result.gpuBytes > usableGpuMemoryBytes(gpu)) {
    const knobs = `micro-batch ${settings.microBatchSize}${settings.activationCheckpointing ? " with activation checkpointing" : ""}`;
    return notFitting(
      `needs ${gib(result.gpuBytes)} GiB per GPU at ${knobs}; the ${gpu.name} has ${gpu.memoryGiB} GiB ` +
        `(${gib(usableGpuMemoryBytes(gpu))} usable)`,
      peakMemoryGiBPerGpu,
    );
  }
  return {
    fits: true,
    samplesPerSecond: prepared.job.batchSize / result.stepSeconds,
    peakMemoryGiBPerGpu,
    activationCheckpointing: settings.activationCheckpointing,
    source: "estimated",
    stepSeconds: {
      compute: result.computeSeconds,
      communication: result.communicationSeconds,
      offload: result.offloadSeconds,
    },
    microBatchSize: Math.min(settings.microBatchSize, prepared.maxMicroBatch),
    passesPerStep: result.passesPerStep,
    precision: gpu.supportsBf16 ? "bf16" : "fp16",
    hostMemoryGiBPerNode: result.hostBytesPerNode / GIB,
  };
}

/** Powers of two up to the cap, and the cap itself (no wasted padding at the top). */
function microBatchSizes(cap: number): number[] {
  const sizes: number[] = [];
  for (let size = 1; size < cap; size *= 2) sizes.push(size);
  sizes.push(cap);
  return sizes;
}

function notFitting(reason: string, peakMemoryGiBPerGpu: number): NotFitting {
  return { fits: false, reason, peakMemoryGiBPerGpu };
}

function gib(bytes: number): string {
  return (bytes / GIB).toFixed(1);
}

interface Memo {
  readonly instances: ReadonlyMap<string, InstanceType>;
  readonly estimates: Map<string, ThroughputEstimate>;
}

const memos = new WeakMap<Catalog, Memo>();

function memoFor(catalog: Catalog): Memo {
  let memo = memos.get(catalog);
  if (memo === undefined) {
    memo = {
      instances: new Map(catalog.instanceTypes.map((type) => [type.name, type])),
      estimates: new Map(),
    };
    memos.set(catalog, memo);
  }
  return memo;
}
