"""Hugging Face causal LMs built from configs (never downloaded), and where their
repeated blocks are, which the techniques shard, checkpoint and split into stages."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .errors import BadInputError, describe

# Architectures by preset name. Figures from each model's published config.json on the
# Hugging Face hub (the repository named in each entry); weights are initialised randomly:
# the harness measures and trains, it does not download checkpoints.
PRESETS: dict[str, dict[str, Any]] = {
    # The tiny test model of /work/shared/reference/pytorch-cpu.md (106,816 parameters).
    "tiny-llama": {
        "type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
    },
    # openai-community/gpt2 (124M): GPT2Config defaults.
    "gpt2": {"type": "gpt2"},
    # openai-community/gpt2-xl: n_layer 48, n_embd 1600, n_head 25.
    "gpt2-xl": {"type": "gpt2", "n_layer": 48, "n_embd": 1600, "n_head": 25},
    # meta-llama/Llama-3.2-1B: 16 layers, hidden 2048, MLP 8192, 32 heads, 8 KV heads, tied embeddings.
    "llama-3.2-1b": {
        "type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
        "rope_theta": 500000.0, "tie_word_embeddings": True, "max_position_embeddings": 131072,
    },
    # meta-llama/Meta-Llama-3-8B: 32 layers, hidden 4096, MLP 14336, 32 heads, 8 KV heads.
    "llama-3-8b": {
        "type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "rope_theta": 500000.0,
    },
    # mistralai/Mistral-7B-v0.1: 32 layers, hidden 4096, MLP 14336, 32 heads, 8 KV heads, vocab 32000.
    "mistral-7b": {
        "type": "mistral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
    },
    # EleutherAI/gpt-j-6b: n_layer 28, n_embd 4096, n_head 16, rotary_dim 64, vocab 50400.
    "gpt-j-6b": {"type": "gptj", "n_layer": 28, "n_embd": 4096, "n_head": 16, "rotary_dim": 64, "vocab_size": 50400},
}

NOT_CAUSAL_LM = {"vit-g-14", "resnet-200"}

# Model types whose decoder the pipeline stages know how to run by hand
# (embed_tokens / layers / norm / rotary_emb / lm_head, as in LlamaForCausalLM).
LLAMA_LIKE = {"llama", "mistral", "qwen2", "qwen3"}

# LoRA targets per model type: the attention projections and the MLP projections, which is
# what the estimator's adapter count assumes (docs/estimator.md, "Memory per GPU").
LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gptj": ["q_proj", "k_proj", "v_proj", "out_proj", "fc_in", "fc_out"],
}


def resolve_model_config(model: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(model, str):
        if model in NOT_CAUSAL_LM:
            raise BadInputError(
                "task.model", f"preset {model!r} is not a causal language model; the causal-lm recipe trains decoders"
            )
        if model not in PRESETS:
            raise BadInputError("task.model", f"expected a preset ({', '.join(PRESETS)}) or a config object, got {model!r}")
        return dict(PRESETS[model])
    config = dict(model)
    if not isinstance(config.get("type"), str):
        raise BadInputError("task.model.type", f"expected a Hugging Face model type such as 'llama', got {describe(config.get('type'))}")
    return config


def build_causal_lm(model: str | Mapping[str, Any]) -> nn.Module:
    """A randomly initialised causal LM; the caller seeds the RNG so every rank builds the
    same weights."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = resolve_model_config(model)
    model_type = config.pop("type")
    try:
        hf_config = AutoConfig.for_model(model_type, **config)
    except (ValueError, TypeError) as error:
        raise BadInputError("task.model", f"cannot build a {model_type!r} config from {config}: {error}", cause=error) from error
    hf_config.use_cache = False
    try:
        built = AutoModelForCausalLM.from_config(hf_config, attn_implementation="sdpa")
    except ValueError as error:
        raise BadInputError("task.model.type", f"{model_type!r} is not a causal LM type: {error}", cause=error) from error
    return built


def model_type_of(model: nn.Module) -> str | None:
    config = getattr(model, "config", None)
    return getattr(config, "model_type", None)


def find_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The repeated blocks: the children of the first ModuleList in the model (decoder
    layers of a Hugging Face model, or the block list of a user's model)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) > 0:
            return [(f"{name}.{index}", child) for index, child in enumerate(module)]
    return []


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)
