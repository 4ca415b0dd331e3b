"""Model preparation shared by the built-ins: seeded build, LoRA adapters, activation
checkpointing of the repeated blocks."""

from __future__ import annotations

from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import CheckpointImpl, checkpoint_wrapper

from ..errors import BadInputError
from ..models import LORA_TARGETS, model_type_of, set_seed
from ..task import Options, TrainingTask


def build_model(get_model, task: TrainingTask, options: Options) -> nn.Module:
    """Every rank builds the same weights: the RNG is seeded right before the build, and
    again before the LoRA adapters are initialised."""
    set_seed(options.seed)
    model = get_model()
    if not isinstance(model, nn.Module):
        raise BadInputError("get_model", f"expected get_model() to return a torch.nn.Module, got {type(model).__name__}")
    if task.method == "lora":
        model = apply_lora(model, task, options.seed)
    return model


def apply_lora(model: nn.Module, task: TrainingTask, seed: int) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    model_type = model_type_of(model)
    targets = task.hyperparameters.get("loraTargets")
    if isinstance(targets, str):
        target_modules = [t.strip() for t in targets.split(",") if t.strip()]
    elif model_type in LORA_TARGETS:
        target_modules = LORA_TARGETS[model_type]
    else:
        raise BadInputError(
            "task.method",
            f"LoRA needs target modules for model type {model_type!r}; set hyperparameters.loraTargets (comma-separated module names)",
        )
    rank = task.lora_rank or 8
    config = LoraConfig(
        r=rank,
        lora_alpha=float(task.hyperparameter("loraAlpha", 2 * rank)),
        lora_dropout=0.0,
        target_modules=target_modules,
        bias="none",
    )
    set_seed(seed + 1)
    try:
        return get_peft_model(model, config)
    except ValueError as error:
        raise BadInputError("task.hyperparameters.loraTargets", f"peft refused the targets {target_modules}: {error}") from error


def block_list(model: nn.Module) -> nn.ModuleList | None:
    """The first ModuleList: the decoder layers of a Hugging Face model, a user model's blocks."""
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) > 0:
            return module
    return None


def apply_activation_checkpointing(blocks: nn.ModuleList | None) -> int:
    """Wrap each block so its activations are recomputed in backward (non-reentrant
    torch.utils.checkpoint); returns how many blocks were wrapped."""
    if blocks is None:
        raise BadInputError("options.activationCheckpointing", "the model has no block list (nn.ModuleList) to checkpoint")
    for index, block in enumerate(blocks):
        blocks[index] = checkpoint_wrapper(block, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    return len(blocks)
