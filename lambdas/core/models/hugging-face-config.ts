/**
 * A decoder's architecture from its Hugging Face `config.json`: parameter counts (total and,
 * for mixture-of-experts models, active per token) derived from the layer shapes, the way
 * the `transformers` Llama, Mistral, Mixtral, Qwen2/3(-MoE), Gemma 2/3 and Phi-3/4 modules
 * build their weights. docs/estimator.md, "Models from a Hugging Face config", derives it.
 *
 * Counted per layer: q, k, v, o projections (q and o: hidden x heads*head_dim; k and v:
 * hidden x kv_heads*head_dim; biases on q, k, v where the model has them), the MLP (gated:
 * gate, up and down, 3 x hidden x intermediate) or, in MoE layers, every expert's gated MLP
 * plus the router (hidden x experts) and any shared expert, and two RMSNorm vectors. Plus
 * the token embedding, the LM head unless tied, and the final norm. Rotary embeddings and
 * per-head q/k norms (Qwen3) add no or negligible parameters and are left out.
 */
import { type InputIssue, InvalidWorkloadError } from "../errors.ts";
import type { ModelArchitecture } from "./presets.ts";

/** Tokens per sample when the spec names none: as for the other decoder presets. */
export const DEFAULT_FINE_TUNING_SEQUENCE_LENGTH = 2048;

/** model_type values whose q, k and v projections carry a bias without an `attention_bias` key. */
const QKV_BIAS_MODEL_TYPES = new Set(["qwen2", "qwen2_moe"]);

/** The keys the derivation reads (after unwrapping a multimodal `text_config`). */
export interface HuggingFaceDecoderConfig {
  readonly model_type?: string;
  readonly num_hidden_layers: number;
  readonly hidden_size: number;
  readonly intermediate_size?: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads?: number;
  readonly head_dim?: number;
  readonly vocab_size: number;
  readonly tie_word_embeddings?: boolean;
  readonly attention_bias?: boolean;
  readonly max_position_embeddings?: number;
  /** Mixtral. */
  readonly num_local_experts?: number;
  /** Qwen2-MoE, Qwen3-MoE. */
  readonly num_experts?: number;
  readonly num_experts_per_tok?: number;
  readonly moe_intermediate_size?: number;
  readonly shared_expert_intermediate_size?: number;
  readonly decoder_sparse_step?: number;
  readonly mlp_only_layers?: readonly number[];
}

/** Parameter counts of a decoder config. */
export interface DecoderParameterCount {
  readonly total: number;
  /** Parameters one token passes through: total less the experts it is not routed to. */
  readonly active: number;
  readonly experts: number;
  readonly expertsPerToken: number;
}

/**
 * Reads a parsed config.json. Throws InvalidWorkloadError naming each missing or malformed
 * key under `where` (e.g. `jobs[0].model.huggingFaceConfig (examples/x/config.json)`).
 */
export function architectureFromHuggingFaceConfig(raw: unknown, where: string, source: string): ModelArchitecture {
  const config = readConfig(raw, where);
  const count = countDecoderParameters(config);
  const maxPositions = config.max_position_embeddings;
  return {
    family: "decoder",
    parameters: count.total,
    ...(count.experts > 0
      ? { activeParameters: count.active, experts: count.experts, expertsPerToken: count.expertsPerToken }
      : {}),
    layers: config.num_hidden_layers,
    hiddenSize: config.hidden_size,
    sequenceLength:
      maxPositions === undefined
        ? DEFAULT_FINE_TUNING_SEQUENCE_LENGTH
        : Math.min(DEFAULT_FINE_TUNING_SEQUENCE_LENGTH, maxPositions),
    vocabularySize: config.vocab_size,
    forwardFlopsPerSample: 0,
    source,
  };
}

export function countDecoderParameters(config: HuggingFaceDecoderConfig): DecoderParameterCount {
  const hidden = config.hidden_size;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  const headDim = config.head_dim ?? hidden / heads;
  const qkvBias = config.attention_bias === true || QKV_BIAS_MODEL_TYPES.has(config.model_type ?? "");
  const attention =
    2 * hidden * heads * headDim + 2 * hidden * kvHeads * headDim + (qkvBias ? (heads + 2 * kvHeads) * headDim : 0);
  const norms = 2 * hidden;
  const experts = config.num_local_experts ?? config.num_experts ?? 0;
  const perToken = experts > 0 ? (config.num_experts_per_tok ?? 0) : 0;
  const denseMlp = 3 * hidden * (config.intermediate_size ?? 0);
  const expertMlp = 3 * hidden * (config.moe_intermediate_size ?? config.intermediate_size ?? 0);
  const shared =
    config.shared_expert_intermediate_size === undefined
      ? 0
      : 3 * hidden * config.shared_expert_intermediate_size + hidden; // shared expert and its gate
  const sparseStep = config.decoder_sparse_step ?? 1;
  const denseOnly = new Set(config.mlp_only_layers ?? []);
  let total = 0;
  let active = 0;
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const moe = experts > 0 && !denseOnly.has(layer) && (layer + 1) % sparseStep === 0;
    if (moe) {
      const router = hidden * experts;
      total += attention + norms + experts * expertMlp + router + shared;
      active += attention + norms + perToken * expertMlp + router + shared;
    } else {
      total += attention + norms + denseMlp;
      active += attention + norms + denseMlp;
    }
  }
  const embeddings = config.vocab_size * hidden * (config.tie_word_embeddings === true ? 1 : 2) + hidden;
  return { total: total + embeddings, active: active + embeddings, experts, expertsPerToken: perToken };
}

function readConfig(raw: unknown, where: string): HuggingFaceDecoderConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InvalidWorkloadError([
      { path: where, message: `expected a JSON object (config.json), got ${kind(raw)}` },
    ]);
  }
  // Multimodal wrappers (Gemma 3 4B+, Llama 3.2 Vision) keep the decoder under text_config.
  const top = raw as Record<string, unknown>;
  const nested = top.text_config;
  const config = (typeof nested === "object" && nested !== null ? nested : top) as Record<string, unknown>;
  const prefix = config === top ? where : `${where}.text_config`;
  const issues: InputIssue[] = [];
  const integer = (key: string, required: boolean): number | undefined => {
    const value = config[key];
    if (value === undefined || value === null) {
      if (required)
        issues.push({ path: `${prefix}.${key}`, message: "expected a positive integer, got nothing (key missing)" });
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      issues.push({ path: `${prefix}.${key}`, message: `expected a positive integer, got ${JSON.stringify(value)}` });
      return undefined;
    }
    return value;
  };
  const flag = (key: string): boolean | undefined => {
    const value = config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") {
      issues.push({ path: `${prefix}.${key}`, message: `expected true or false, got ${JSON.stringify(value)}` });
      return undefined;
    }
    return value;
  };
  const experts = integer("num_local_experts", false) ?? integer("num_experts", false);
  const read = {
    model_type: typeof config.model_type === "string" ? config.model_type : undefined,
    num_hidden_layers: integer("num_hidden_layers", true) ?? 0,
    hidden_size: integer("hidden_size", true) ?? 0,
    num_attention_heads: integer("num_attention_heads", true) ?? 0,
    num_key_value_heads: integer("num_key_value_heads", false),
    head_dim: integer("head_dim", false),
    vocab_size: integer("vocab_size", true) ?? 0,
    tie_word_embeddings: flag("tie_word_embeddings"),
    attention_bias: flag("attention_bias"),
    max_position_embeddings: integer("max_position_embeddings", false),
    num_local_experts: experts,
    num_experts_per_tok: integer("num_experts_per_tok", experts !== undefined),
    moe_intermediate_size: integer("moe_intermediate_size", false),
    shared_expert_intermediate_size: integer("shared_expert_intermediate_size", false),
    decoder_sparse_step: integer("decoder_sparse_step", false),
    intermediate_size: integer(
      "intermediate_size",
      experts === undefined || config.moe_intermediate_size === undefined,
    ),
    mlp_only_layers: Array.isArray(config.mlp_only_layers) ? (config.mlp_only_layers as number[]) : undefined,
  };
  // Multimodal wrappers keep tie_word_embeddings at the top level.
  const topTie = top.tie_word_embeddings;
  const tie = read.tie_word_embeddings ?? (typeof topTie === "boolean" ? topTie : undefined);
  if (issues.length > 0) throw new InvalidWorkloadError(issues);
  return { ...read, tie_word_embeddings: tie };
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
