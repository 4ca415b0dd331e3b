"""The data-parallel session shared by DDP, FSDP2 and plug-ins that wrap a whole model:
each rank runs its slice of the global batch, gradients are averaged by the wrapper, and
the loss is averaged across ranks for reporting."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)

from ..distributed import RankInfo, all_reduce_mean
from ..errors import BadInputError
from .base import TrainingSession, local_slice, to_device

# Flattened optimizer state: one key per parameter, so ranks that hold different
# parameters (pipeline stages) never write the same key with different values.
CHECKPOINT_OPTIONS = StateDictOptions(flatten_optimizer_state_dict=True)

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def make_optimizer(model: nn.Module, learning_rate: float, weight_decay: float) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise BadInputError("task.method", "the model has no trainable parameters")
    return torch.optim.AdamW(params, lr=learning_rate, weight_decay=weight_decay)


def check_divisible(batch_size: int, world_size: int, technique: str) -> None:
    if batch_size % world_size != 0:
        raise BadInputError(
            "task.batchSize",
            f"{technique} splits the global batch evenly over {world_size} ranks; expected a multiple of {world_size}, got {batch_size}",
        )


class ModuleSession(TrainingSession):
    def __init__(
        self,
        *,
        wrapped: nn.Module,
        inner: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[Any, Any], torch.Tensor],
        rank: RankInfo,
        autocast_dtype: torch.dtype | None = None,
    ) -> None:
        self.module = wrapped
        self.inner = inner
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.rank = rank
        self.autocast_dtype = autocast_dtype

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.rank.device.type, dtype=self.autocast_dtype)

    def train_step(self, inputs: Any, targets: Any) -> float:
        inputs = to_device(local_slice(inputs, self.rank.rank, self.rank.world_size), self.rank.device)
        targets = to_device(local_slice(targets, self.rank.rank, self.rank.world_size), self.rank.device)
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            output = self.module(inputs)
        loss = self.loss_fn(output, targets)
        loss.backward()
        self.optimizer.step()
        return all_reduce_mean(loss)

    def checkpoint_state(self) -> dict[str, Any]:
        model_state, optim_state = get_state_dict(self.module, self.optimizer, options=CHECKPOINT_OPTIONS)
        return {"model": model_state, "optim": optim_state}

    def restore(self, state: dict[str, Any]) -> None:
        set_state_dict(
            self.module,
            self.optimizer,
            model_state_dict=state["model"],
            optim_state_dict=state["optim"],
            options=CHECKPOINT_OPTIONS,
        )

    def export(self, directory: Path) -> Path | None:
        if not hasattr(self.inner, "peft_config"):
            return None
        return save_lora_adapters(self.module, self.inner, directory, self.rank)


def save_lora_adapters(wrapped: nn.Module, peft_model: nn.Module, directory: Path, rank: RankInfo) -> Path:
    """peft's own save_pretrained reads sharded storage under FSDP2 and fails; gather a full
    state dict on every rank (collective), then let rank 0 save the adapters from it."""
    full = get_model_state_dict(wrapped, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    target = directory / "adapter"
    if rank.local_rank == 0:
        peft_model.save_pretrained(str(target), state_dict=full)
    torch.distributed.barrier()
    return target
