/**
 * Architecture of the models a job can name by preset. Figures come from each model's
 * published configuration; `source` says where. The first six carry their parameter counts
 * as published; the decoders added in 2026 (`preset-configs.ts`) are derived from their
 * Hugging Face config.json by the same code that reads a user's `huggingFaceConfig`.
 */
import { architectureFromHuggingFaceConfig } from "./hugging-face-config.ts";
import { DECODER_PRESET_CONFIGS, type DecoderPresetName } from "./preset-configs.ts";

export type ModelFamily = "decoder" | "vit" | "cnn";

export interface ModelArchitecture {
  readonly family: ModelFamily;
  /** Trainable parameters of the full model (mixture-of-experts: every expert). */
  readonly parameters: number;
  /**
   * Mixture-of-experts only: parameters one token passes through (shared layers plus the
   * experts it is routed to). Compute follows these; memory and communication follow
   * `parameters`. Undefined for dense models (all parameters are active).
   */
  readonly activeParameters?: number;
  /** Mixture-of-experts only: experts per MoE layer and experts each token is routed to. */
  readonly experts?: number;
  readonly expertsPerToken?: number;
  readonly layers: number;
  readonly hiddenSize: number;
  /** Tokens per sample for decoders; patches (+1 class token) per image for ViTs; 0 for CNNs. */
  readonly sequenceLength: number;
  /** Vocabulary size (decoders only; 0 otherwise). */
  readonly vocabularySize: number;
  /** Forward FLOPs per sample where the 6·N·T rule does not apply (CNNs); 0 otherwise. */
  readonly forwardFlopsPerSample: number;
  readonly source: string;
}

const ORIGINAL_PRESETS = {
  "gpt2-xl": {
    family: "decoder",
    parameters: 1_557_611_200,
    layers: 48,
    hiddenSize: 1600,
    sequenceLength: 1024,
    vocabularySize: 50_257,
    forwardFlopsPerSample: 0,
    source:
      "Hugging Face openai-community/gpt2-xl config.json (n_layer 48, n_embd 1600, n_ctx 1024); 1.5B parameters (Radford et al. 2019)",
  },
  "gpt-j-6b": {
    family: "decoder",
    parameters: 6_053_381_344,
    layers: 28,
    hiddenSize: 4096,
    sequenceLength: 2048,
    vocabularySize: 50_400,
    forwardFlopsPerSample: 0,
    source:
      "Hugging Face EleutherAI/gpt-j-6b model card (n_layer 28, d_model 4096, n_ctx 2048, 6,053,381,344 parameters)",
  },
  "llama-3-8b": {
    family: "decoder",
    parameters: 8_030_261_248,
    layers: 32,
    hiddenSize: 4096,
    sequenceLength: 2048,
    vocabularySize: 128_256,
    forwardFlopsPerSample: 0,
    source:
      "Hugging Face meta-llama/Meta-Llama-3-8B config.json (32 layers, hidden 4096, vocab 128256; 8.03B parameters); fine-tuning sequence length 2048 as in torchtune's recipes",
  },
  "mistral-7b": {
    family: "decoder",
    parameters: 7_241_732_096,
    layers: 32,
    hiddenSize: 4096,
    sequenceLength: 2048,
    vocabularySize: 32_000,
    forwardFlopsPerSample: 0,
    source:
      "Hugging Face mistralai/Mistral-7B-v0.1 config.json (32 layers, hidden 4096, vocab 32000; 7.24B parameters); fine-tuning sequence length 2048",
  },
  "vit-g-14": {
    family: "vit",
    parameters: 1_843_000_000,
    layers: 48,
    hiddenSize: 1664,
    sequenceLength: 257,
    vocabularySize: 0,
    forwardFlopsPerSample: 0,
    source:
      "Zhai et al., Scaling Vision Transformers (CVPR 2022), Table 2: ViT-G/14 width 1664, depth 48, 1843M parameters; 224px / 14px patches = 256 patches + class token",
  },
  "resnet-200": {
    family: "cnn",
    parameters: 64_669_864,
    layers: 200,
    hiddenSize: 2048,
    sequenceLength: 0,
    vocabularySize: 0,
    forwardFlopsPerSample: 30.1e9,
    source:
      "He et al., Identity Mappings in Deep Residual Networks (ECCV 2016); timm resnet200 model card: 64.67M parameters, 15.07 GMACs at 224px, i.e. 30.1 GFLOPs forward (2 FLOPs per multiply-add)",
  },
} as const satisfies Record<string, ModelArchitecture>;

export type ModelPresetName = keyof typeof ORIGINAL_PRESETS | DecoderPresetName;

export const MODEL_PRESETS: Readonly<Record<ModelPresetName, ModelArchitecture>> = {
  ...ORIGINAL_PRESETS,
  ...(Object.fromEntries(
    Object.entries(DECODER_PRESET_CONFIGS).map(([name, preset]) => [
      name,
      architectureFromHuggingFaceConfig(preset.config, `preset ${name}`, preset.source),
    ]),
  ) as Record<DecoderPresetName, ModelArchitecture>),
};
export const MODEL_PRESET_NAMES = Object.keys(MODEL_PRESETS) as ModelPresetName[];
