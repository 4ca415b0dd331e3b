"""DDP: the whole model on every rank, gradients all-reduced (averaged) in buckets.
Mixed precision is autocast (weights and optimizer stay fp32)."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

from torch.nn.parallel import DistributedDataParallel

from ..task import TrainingTask
from .base import RunContext, Technique, TrainingSession
from .model_prep import apply_activation_checkpointing, block_list, build_model
from .module_session import DTYPES, ModuleSession, check_divisible, make_optimizer


class DdpTechnique(Technique):
    name = "ddp"

    def execute(self, task: TrainingTask, gpus: int, knobs: Mapping[str, Any], context: RunContext) -> TrainingSession:
        check_divisible(task.batch_size, gpus, self.name)
        options = context.options
        model = build_model(context.job.get_model, task, options)
        if options.activation_checkpointing:
            apply_activation_checkpointing(block_list(model))
        device = context.rank.device
        model.to(device)
        with warnings.catch_warnings():
            # torch 2.13 marks broadcast_buffers deprecated; its replacement still syncs at
            # init, which is what we want anyway, but is not in every supported release.
            warnings.simplefilter("ignore", FutureWarning)
            wrapped = DistributedDataParallel(
                model,
                device_ids=[device.index] if device.type == "cuda" else None,
                # Buffers (rotary tables) are identical on every rank; no per-step broadcast.
                broadcast_buffers=False,
            )
        return ModuleSession(
            wrapped=wrapped,
            inner=model,
            optimizer=make_optimizer(wrapped, context.job.learning_rate, context.job.weight_decay),
            loss_fn=context.job.loss_fn,
            rank=context.rank,
            autocast_dtype=DTYPES.get(options.mixed_precision or ""),
        )
