/**
 * One optimizer step of a job under one configuration and one setting of the knobs
 * (micro-batch size, activation checkpointing): memory per GPU and seconds per step.
 * `estimate.ts` searches the knobs; the calibration uses the published knobs directly.
 *
 * Invariants the tests check: memory never depends on the time model; compute time is
 * hardware FLOPs over achievable FLOP/s, so no estimate exceeds peak; communication and
 * offload only add time.
 */
import type { GpuModel, InstanceType } from "../catalog/types.ts";
import type { BuiltInTechnique } from "../spec/workload-schema.ts";
import { allReduceSeconds, reduceScatterSeconds, stageTransferSeconds, type Topology } from "./communication.ts";
import {
  achievableFlopsPerSecond,
  CPU_ADAM_BYTES_PER_PARAMETER,
  HOST_MEMORY_USABLE_FRACTION,
  hostMemoryBytesPerSecond,
  hostToDeviceBytesPerSecond,
} from "./hardware-efficiency.ts";
import { hardwareFlopsPerSample, type ModelCosts } from "./model-costs.ts";

export interface StepSettings {
  /** Samples per GPU per forward/backward pass (per pipeline micro-batch for `pipeline`). */
  readonly microBatchSize: number;
  readonly activationCheckpointing: boolean;
}

/**
 * How the run stores weights, gradients and optimizer moments. Saturn's recipes train with
 * mixed-precision Adam (fp32 master weights and moments); "bf16" is a run that keeps all of
 * them in bf16 (e.g. torchtune's `dtype: bf16`), used to model published runs.
 */
export type StatePrecision = "mixed" | "bf16";

interface StateBytes {
  /** Per trainable parameter on the device (or host, offloaded). */
  readonly trainable: number;
  /** Gradient bytes DDP all-reduces per trainable parameter. */
  readonly ddpGradient: number;
  /** Weight bytes CPU offload keeps on the host and copies over PCIe per parameter. */
  readonly offloadedWeight: number;
  /** Host memory traffic of one CPU Adam step per parameter. */
  readonly cpuAdam: number;
}

const STATE_BYTES: Record<StatePrecision, StateBytes> = {
  // ZeRO paper (Rajbhandari et al. 2020, section 3.1): 2 + 2 + 12 bytes. Autocast keeps fp32
  // weights and gradients, so DDP all-reduces fp32 and offload copies fp32.
  mixed: { trainable: 16, ddpGradient: 4, offloadedWeight: 4, cpuAdam: CPU_ADAM_BYTES_PER_PARAMETER },
  // bf16 weight, gradient and two moments; Adam reads four 2-byte values and writes three.
  bf16: { trainable: 8, ddpGradient: 2, offloadedWeight: 2, cpuAdam: 14 },
};

export interface StepContext {
  readonly technique: BuiltInTechnique;
  /** Default "mixed". */
  readonly statePrecision?: StatePrecision;
  readonly costs: ModelCosts;
  /** Global batch: samples per optimizer step. */
  readonly batchSize: number;
  readonly gpu: GpuModel;
  readonly instance: InstanceType;
  readonly topology: Topology;
}

export interface StepResult {
  readonly gpuBytes: number;
  /** Host RAM per node the technique needs beyond the usual (CPU offload only). */
  readonly hostBytesPerNode: number;
  readonly computeSeconds: number;
  /** Communication not hidden behind compute. */
  readonly communicationSeconds: number;
  readonly offloadSeconds: number;
  readonly stepSeconds: number;
  /** Forward/backward passes per optimizer step on each GPU (pipeline: micro-batches). */
  readonly passesPerStep: number;
}

/** Frozen weights kept in bf16 (LoRA). */
const FROZEN_BYTES = 2;
/** FSDP all-gathers parameters and reduce-scatters gradients in bf16 (MixedPrecision param_dtype = reduce_dtype). */
const FSDP_WIRE_BYTES = 2;
/**
 * FSDP working set: two wrapped units (one layer each) gathered in bf16 while the next is
 * prefetched, plus one unit's unsharded bf16 gradient before its reduce-scatter.
 */
const FSDP_UNITS_GATHERED = 2;

export function evaluateStep(context: StepContext, settings: StepSettings): StepResult {
  return context.technique === "pipeline" ? pipelineStep(context, settings) : dataParallelStep(context, settings);
}

/** ddp, fsdp and fsdp-offload: every GPU runs the whole model on its share of the batch. */
function dataParallelStep(context: StepContext, settings: StepSettings): StepResult {
  const { technique, costs, topology, gpu } = context;
  const gpus = topology.nodes * topology.gpusPerNode;
  const samplesPerGpu = Math.ceil(context.batchSize / gpus);
  const micro = Math.min(settings.microBatchSize, samplesPerGpu);
  const passes = Math.ceil(samplesPerGpu / micro);
  const rate = achievableFlopsPerSecond(gpu, costs.family);
  const flopsPerSample = hardwareFlopsPerSample(costs, settings.activationCheckpointing);
  const computeSeconds = (samplesPerGpu * flopsPerSample) / rate;
  const microComputeSeconds = (micro * flopsPerSample) / rate;

  const bytes = STATE_BYTES[context.statePrecision ?? "mixed"];
  const trainable = costs.trainableParameters;
  const frozen = costs.frozenParameters;
  const allParameters = trainable + frozen;
  const activations = activationBytes(costs, micro, costs.layers, settings.activationCheckpointing);

  if (technique === "ddp") {
    const gpuBytes = trainable * bytes.trainable + frozen * FROZEN_BYTES + activations;
    // Gradients are all-reduced once per step (no_sync during accumulation), bucketed and
    // overlapped with the backward pass of the last micro-batch.
    const allReduce = allReduceSeconds(trainable * bytes.ddpGradient, topology);
    const lastBackward = (micro * costs.backwardFlops) / rate;
    const communicationSeconds = Math.max(0, allReduce - lastBackward);
    return finish(gpuBytes, 0, computeSeconds, communicationSeconds, 0, passes);
  }

  const perUnit = allParameters / costs.layers;
  const working = FSDP_UNITS_GATHERED * perUnit * FSDP_WIRE_BYTES + (trainable / costs.layers) * FSDP_WIRE_BYTES;
  // Per pass: all-gather for forward and again for backward, reduce-scatter of gradients;
  // prefetching overlaps them with compute, so a pass takes the longer of the two.
  const gather = reduceScatterSeconds(allParameters * FSDP_WIRE_BYTES, topology);
  const scatter = reduceScatterSeconds(trainable * FSDP_WIRE_BYTES, topology);
  const passCommunication = 2 * gather + scatter;
  const communicationSeconds = passes * Math.max(0, passCommunication - microComputeSeconds);

  if (technique === "fsdp") {
    const sharded = (trainable * bytes.trainable + frozen * FROZEN_BYTES) / gpus;
    return finish(sharded + working + activations, 0, computeSeconds, communicationSeconds, 0, passes);
  }

  // fsdp-offload: sharded weights, gradients and optimizer states live in host RAM; each
  // pass copies the weight shard in twice (forward, backward) and the gradient shard out;
  // the optimizer steps on the CPU. Neither overlaps compute (FSDP's offload is synchronous).
  const shardParameters = allParameters / gpus;
  const pcie = hostToDeviceBytesPerSecond(gpu);
  const copySeconds = (2 * shardParameters * bytes.offloadedWeight + (trainable / gpus) * bytes.offloadedWeight) / pcie;
  const optimizerSeconds = ((trainable / topology.nodes) * bytes.cpuAdam) / hostMemoryBytesPerSecond(context.instance);
  const offloadSeconds = passes * copySeconds + optimizerSeconds;
  const hostBytesPerNode = (trainable * bytes.trainable + frozen * bytes.offloadedWeight) / topology.nodes;
  return finish(working + activations, hostBytesPerNode, computeSeconds, communicationSeconds, offloadSeconds, passes);
}

/**
 * GPipe: the layers split evenly over all GPUs of the configuration (one stage each); the
 * batch splits into micro-batches that flow through the stages; a step takes
 * (m + P − 1) stage-slots, the P − 1 being the pipeline bubble.
 */
function pipelineStep(context: StepContext, settings: StepSettings): StepResult {
  const { costs, topology, gpu } = context;
  const stages = topology.nodes * topology.gpusPerNode;
  const micro = Math.min(settings.microBatchSize, context.batchSize);
  const microBatches = Math.ceil(context.batchSize / micro);
  const layersPerStage = Math.ceil(costs.layers / stages);
  const stageShare = layersPerStage / costs.layers;
  const rate = achievableFlopsPerSecond(gpu, costs.family);
  const flopsPerSample = hardwareFlopsPerSample(costs, settings.activationCheckpointing);
  const stageSlotSeconds = (micro * flopsPerSample * stageShare) / rate;
  const transferSeconds = stages > 1 ? 2 * stageTransferSeconds(micro * costs.boundaryBytes, topology) : 0;
  const slots = microBatches + stages - 1;
  const computeSeconds = slots * stageSlotSeconds;
  const communicationSeconds = slots * transferSeconds;
  // Worst stage: its share of the weights and states, and the activations of every
  // micro-batch in flight (GPipe runs all forwards before the backwards), counting the last
  // stage's logits on top (a conservative sum of the first and last stage's extremes).
  const bytes = STATE_BYTES[context.statePrecision ?? "mixed"];
  const states = (costs.trainableParameters * bytes.trainable + costs.frozenParameters * FROZEN_BYTES) * stageShare;
  const inFlight = microBatches * activationBytes(costs, micro, layersPerStage, settings.activationCheckpointing);
  return finish(states + inFlight, 0, computeSeconds, communicationSeconds, 0, microBatches);
}

/**
 * Activations kept for the backward pass by `layers` layers for a micro-batch: every
 * layer's full set without checkpointing; with it, each layer's input plus one layer's
 * full set while that layer is recomputed. The logits come on top.
 */
function activationBytes(costs: ModelCosts, micro: number, layers: number, checkpointing: boolean): number {
  const perLayer =
    checkpointing && costs.checkpointBytesPerLayer !== undefined
      ? layers * costs.checkpointBytesPerLayer + costs.activationBytesPerLayer
      : layers * costs.activationBytesPerLayer;
  return micro * (perLayer + costs.outputBytes);
}

function finish(
  gpuBytes: number,
  hostBytesPerNode: number,
  computeSeconds: number,
  communicationSeconds: number,
  offloadSeconds: number,
  passesPerStep: number,
): StepResult {
  return {
    gpuBytes,
    hostBytesPerNode,
    computeSeconds,
    communicationSeconds,
    offloadSeconds,
    stepSeconds: computeSeconds + communicationSeconds + offloadSeconds,
    passesPerStep,
  };
}

export function hostMemoryLimitBytes(instance: InstanceType): number {
  return instance.ramGiB * 1024 ** 3 * HOST_MEMORY_USABLE_FRACTION;
}
