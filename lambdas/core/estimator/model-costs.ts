/**
 * What one training sample costs a model: FLOPs, trainable state and activation bytes.
 * Decoders and ViTs are transformers (a ViT's patches are its tokens); CNNs give their
 * forward FLOPs directly. docs/estimator.md derives each formula.
 */
import type { ModelFamily } from "../models/presets.ts";
import type { Job } from "../spec/workload.ts";

export interface ModelCosts {
  readonly family: ModelFamily;
  /** Parameters the optimizer updates: the whole model, or the LoRA adapters. */
  readonly trainableParameters: number;
  /** Parameters held but not updated (LoRA's base model); 0 for full fine-tuning. */
  readonly frozenParameters: number;
  readonly layers: number;
  /** Forward FLOPs per sample. */
  readonly forwardFlops: number;
  /** Backward FLOPs per sample (no weight gradients for frozen weights). */
  readonly backwardFlops: number;
  /** FLOPs recomputed per sample when activation checkpointing is on. */
  readonly recomputeFlops: number;
  /** Activation bytes one layer keeps per sample for the backward pass, no checkpointing. */
  readonly activationBytesPerLayer: number;
  /** Bytes one layer keeps per sample with checkpointing (its input); undefined: not supported. */
  readonly checkpointBytesPerLayer: number | undefined;
  /** Bytes kept per sample after the last layer (logits and their fp32 softmax). */
  readonly outputBytes: number;
  /** Bytes sent between pipeline stages per sample, each direction. */
  readonly boundaryBytes: number;
}

/** Bytes per activation value: bf16/fp16 mixed precision. */
const ACTIVATION_BYTES = 2;
/**
 * Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer
 * Models", eq. 1): a layer stores s·b·h·(34 + 5·a·s/h) bytes. The 5·a·s/h term is the
 * attention score matrix, which flash / memory-efficient attention (PyTorch SDPA) does not
 * store, so 34 bytes per token per hidden unit remain.
 */
const KORTHIKANTI_BYTES_PER_TOKEN_HIDDEN = 34;
/** Logits in bf16 plus the fp32 softmax kept for the cross-entropy backward: 2 + 4 bytes. */
const LOGIT_BYTES = 6;
/**
 * LoRA adapters on the four attention projections (h x h each) and two MLP projections
 * (h x 4h): r·(d_in + d_out) per matrix, 18·r·h per layer.
 */
const LORA_PARAMETERS_PER_RANK_HIDDEN_LAYER = 18;
/**
 * CNN activation memory per forward FLOP, from ResNet-50 v1.5 (8.18 GFLOPs forward at
 * 224 px: torchvision's 4.09 GMACs) training with AMP at the recipe's default batch of 256
 * per GPU on 16 GB V100s (NVIDIA/DeepLearningExamples PyTorch/Classification/ConvNets/
 * resnet50v1.5/README.md @291f0d02e815b148fa5c2b81bf07aa3552142895: '-b 256 per gpu',
 * 'DGX-1 16GB' results): at most ~55 MB per image, so 55e6 / 8.18e9 = 0.0067 bytes per
 * FLOP. An approximation for other CNNs.
 */
const CNN_ACTIVATION_BYTES_PER_FORWARD_FLOP = 0.0067;

export function modelCosts(job: Job): ModelCosts {
  const model = job.model;
  const lora = job.method === "lora";
  if (model.family === "cnn") {
    const forwardFlops = model.forwardFlopsPerSample;
    const activationBytes = forwardFlops * CNN_ACTIVATION_BYTES_PER_FORWARD_FLOP;
    return {
      family: "cnn",
      trainableParameters: lora ? loraParameters(job) : model.parameters,
      frozenParameters: lora ? model.parameters : 0,
      layers: model.layers,
      forwardFlops,
      // Full: activation gradients and weight gradients, each about one forward.
      backwardFlops: lora ? forwardFlops : 2 * forwardFlops,
      recomputeFlops: forwardFlops,
      activationBytesPerLayer: activationBytes / model.layers,
      checkpointBytesPerLayer: undefined,
      outputBytes: 0,
      boundaryBytes: activationBytes / model.layers,
    };
  }
  const tokens = job.sequenceLength;
  const { layers, hiddenSize } = model;
  const adapters = lora ? loraParameters(job) : 0;
  // Matmuls: 2 FLOPs per parameter per token forward; attention scores and their
  // application add 4·l·h·s per token forward (PaLM appendix B counting).
  // Mixture of experts: a token passes through the shared layers and its routed experts
  // only, so matmul FLOPs follow the active parameters; memory and communication (FSDP
  // gathers every expert: no expert parallelism) follow all of them.
  const denseForward = 2 * (model.activeParameters ?? model.parameters) * tokens;
  const attentionForward = 4 * layers * hiddenSize * tokens * tokens;
  const forwardFlops = denseForward + attentionForward + 2 * adapters * tokens;
  // Backward: activation gradients (one forward's worth) always; weight gradients (another)
  // only for trainable weights. Attention has no weights: twice its forward.
  const backwardFlops = lora
    ? denseForward + 2 * attentionForward + 4 * adapters * tokens
    : 2 * denseForward + 2 * attentionForward;
  return {
    family: model.family,
    trainableParameters: lora ? adapters : model.parameters,
    frozenParameters: lora ? model.parameters : 0,
    layers,
    forwardFlops,
    backwardFlops,
    recomputeFlops: forwardFlops,
    activationBytesPerLayer: KORTHIKANTI_BYTES_PER_TOKEN_HIDDEN * tokens * hiddenSize,
    checkpointBytesPerLayer: ACTIVATION_BYTES * tokens * hiddenSize,
    outputBytes: LOGIT_BYTES * tokens * model.vocabularySize,
    boundaryBytes: ACTIVATION_BYTES * tokens * hiddenSize,
  };
}

export function loraParameters(job: Job): number {
  return LORA_PARAMETERS_PER_RANK_HIDDEN_LAYER * job.loraRank * job.model.hiddenSize * job.model.layers;
}

/** FLOPs per sample the hardware executes in one training step (what utilisation applies to). */
export function hardwareFlopsPerSample(costs: ModelCosts, activationCheckpointing: boolean): number {
  return costs.forwardFlops + costs.backwardFlops + (activationCheckpointing ? costs.recomputeFlops : 0);
}

/** FLOPs per sample of the model itself, without recomputation (what MFU counts). */
export function modelFlopsPerSample(costs: ModelCosts): number {
  return costs.forwardFlops + costs.backwardFlops;
}
