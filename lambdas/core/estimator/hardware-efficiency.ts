/**
 * How much of a machine's nominal capability a training job gets. Every figure here is
 * either a published measurement (with its source) or a named assumption; docs/estimator.md
 * lists them all, and the calibration test checks the combination against measured runs.
 */
import type { GpuModel, InstanceType } from "../catalog/types.ts";
import type { ModelFamily } from "../models/presets.ts";

/**
 * Achieved fraction of the catalog's dense BF16/FP16 peak, counting the FLOPs the hardware
 * actually executes (recomputation included, i.e. hardware FLOP utilisation).
 */
export interface UtilisationFigure {
  readonly fraction: number;
  readonly source: string;
}

const A100: UtilisationFigure = {
  fraction: 0.6,
  source:
    "published-throughput.md, 'MFU ranges': A100 FSDP bf16 MFU 39-64% (llm-foundry), 47-57% MFU / 59-67% HFU (IBM), 50.5-61.1% (torchtitan); 0.60 is the middle of the 50-71% HFU band",
};

const HOPPER: UtilisationFigure = {
  fraction: 0.45,
  source:
    "published-throughput.md, 'MFU ranges': H100 bf16 MFU 26-46% (llm-foundry, HFU up to 58.6%), 32-37% MFU / 40-45% HFU (IBM), 41-49% (Megatron-Core); 0.45 is the middle of the 37-58% HFU band. H200 has the H100's tensor cores: same figure, unmeasured",
};

const VOLTA: UtilisationFigure = {
  fraction: 0.3,
  source:
    "published-throughput.md, 'MFU ranges': V100 Megatron single GPU 39 TFLOPs = 30% of peak (arXiv:1909.08053); PyTorch DDP 30 TFLOPs/GPU (DeepSpeed ZeRO-3 Offload post)",
};

/** Assumption: no published absolute training throughput was found for these GPUs. */
const UNMEASURED: UtilisationFigure = {
  fraction: 0.35,
  source:
    "assumption, no published measurement found (published-throughput.md, 'Gaps'): between the V100's 30% and the A100's 60%",
};

const UTILISATION_BY_GPU: Readonly<Record<string, UtilisationFigure>> = {
  "A100-40GB": A100,
  "A100-80GB": A100,
  H100: HOPPER,
  H200: HOPPER,
  V100: VOLTA,
  "V100-32GB": VOLTA,
};

/**
 * Convolutional networks use tensor cores far less well than transformers (small
 * channel counts, batch norm and element-wise layers are memory-bound). Measured:
 * ResNet-50 v1.5 with AMP, 8.18 GFLOPs forward x 3 per image, trains at 2470 img/s on one
 * A100 80GB (60.8 TFLOP/s, 19.5% of 312) and 1200 img/s on one V100 16GB (29.5 TFLOP/s,
 * 23.6% of 125): NVIDIA/DeepLearningExamples PyTorch/Classification/ConvNets/resnet50v1.5/
 * README.md @291f0d02e815b148fa5c2b81bf07aa3552142895, 'Training performance results'.
 */
const CONVOLUTIONAL: UtilisationFigure = {
  fraction: 0.2,
  source:
    "NVIDIA DeepLearningExamples ResNet-50 v1.5 AMP training: 19.5% of peak on A100, 23.6% on V100 (README @291f0d02)",
};

export function utilisationOf(gpu: GpuModel, family: ModelFamily = "decoder"): UtilisationFigure {
  if (family === "cnn") return CONVOLUTIONAL;
  return UTILISATION_BY_GPU[gpu.name] ?? UNMEASURED;
}

/** Achievable training FLOP/s of one GPU for a model family. */
export function achievableFlopsPerSecond(gpu: GpuModel, family: ModelFamily = "decoder"): number {
  return gpu.peakTflops * 1e12 * utilisationOf(gpu, family).fraction;
}

/**
 * GPU memory a job may use: CUDA context, cuBLAS/NCCL workspaces and allocator
 * fragmentation take the rest. Assumption (unmeasured here): 1 GiB fixed plus 8%.
 */
export const GPU_MEMORY_RESERVED_GIB = 1;
export const GPU_MEMORY_FRAGMENTATION = 0.08;

export function usableGpuMemoryBytes(gpu: GpuModel): number {
  return (gpu.memoryGiB * (1 - GPU_MEMORY_FRAGMENTATION) - GPU_MEMORY_RESERVED_GIB) * GIB;
}

/**
 * Host RAM a CPU-offloading job may fill; the rest stays for the OS, the data loader and
 * pinned staging buffers. Assumption: 80%.
 */
export const HOST_MEMORY_USABLE_FRACTION = 0.8;

/**
 * Host-to-device bandwidth per GPU, GB/s per direction: the PCIe generation's x16 rate
 * (PCI-SIG: Gen3 15.75, Gen4 31.5, Gen5 63 GB/s) times 0.8 for protocol overhead
 * (assumption). Generations from NVIDIA's product pages: T4 and V100 Gen3; A10G, L4, L40S
 * and A100 Gen4; H100 and H200 Gen5.
 */
const PCIE_GEN_BY_GPU: Readonly<Record<string, 3 | 4 | 5>> = {
  T4: 3,
  V100: 3,
  "V100-32GB": 3,
  A10G: 4,
  L4: 4,
  L40S: 4,
  "A100-40GB": 4,
  "A100-80GB": 4,
  H100: 5,
  H200: 5,
};
const PCIE_X16_GBPS = { 3: 15.75, 4: 31.5, 5: 63 } as const;
export const PCIE_EFFICIENCY = 0.8;

export function hostToDeviceBytesPerSecond(gpu: GpuModel): number {
  const generation = PCIE_GEN_BY_GPU[gpu.name] ?? 3;
  return PCIE_X16_GBPS[generation] * PCIE_EFFICIENCY * 1e9;
}

/**
 * CPU optimizer step (offload): Adam is memory-bound, touching 28 bytes per parameter
 * (reads fp32 weight, gradient, two moments: 16 B; writes weight and moments: 12 B).
 * Host memory bandwidth is not in the catalog; assumption: 2 GB/s per vCPU (a p4d's
 * 96 vCPUs: 192 GB/s, about two sockets of 6-channel DDR4-2933).
 */
export const CPU_ADAM_BYTES_PER_PARAMETER = 28;
export const HOST_MEMORY_GBPS_PER_VCPU = 2;

export function hostMemoryBytesPerSecond(instance: InstanceType): number {
  return instance.vcpus * HOST_MEMORY_GBPS_PER_VCPU * 1e9;
}

/**
 * Inter-node collective bandwidth per node, bytes/s: the instance's network rate. With
 * EFA, NCCL reaches about the line rate (2 x p4de: 78.33 GB/s all-reduce busbw over
 * 16 GPUs and 400 Gbit/s, which the hierarchical model below reproduces within 10%;
 * published-throughput.md, 'Measured all-reduce bandwidth'). Without EFA, NCCL runs over
 * TCP sockets; assumption (no measurement found): half the line rate.
 */
export const NON_EFA_NETWORK_EFFICIENCY = 0.5;

export function interNodeBytesPerSecond(instance: InstanceType): number {
  return (instance.networkGbps / 8) * 1e9 * (instance.efa ? 1 : NON_EFA_NETWORK_EFFICIENCY);
}

export const GIB = 1024 ** 3;
