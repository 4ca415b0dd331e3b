"""FSDP2 (`fully_shard`): each block is its own parameter group (all-gathered just before
its forward and backward, resharded after), then the root. Mixed precision through
MixedPrecisionPolicy (parameters and activations in bf16/fp16, gradient reduction in fp32);
`fsdp-offload` keeps the sharded parameters, gradients and optimizer states in host memory
(CPUOffloadPolicy)."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy, fully_shard

from ..task import TrainingTask
from .base import RunContext, Technique, TrainingSession
from .model_prep import apply_activation_checkpointing, block_list, build_model
from .module_session import DTYPES, ModuleSession, check_divisible, make_optimizer


class FsdpTechnique(Technique):
    def __init__(self, *, offload: bool) -> None:
        self.offload = offload
        self.name = "fsdp-offload" if offload else "fsdp"

    def execute(self, task: TrainingTask, gpus: int, knobs: Mapping[str, Any], context: RunContext) -> TrainingSession:
        check_divisible(task.batch_size, gpus, self.name)
        options = context.options
        model = build_model(context.job.get_model, task, options)
        blocks = block_list(model)
        if options.activation_checkpointing:
            apply_activation_checkpointing(blocks)
        dtype = DTYPES.get(options.mixed_precision or "")
        policy = MixedPrecisionPolicy(param_dtype=dtype, reduce_dtype=torch.float32) if dtype else MixedPrecisionPolicy()
        device = context.rank.device
        # pin_memory needs a CUDA host allocator; on CPU nothing moves and pinning fails.
        offload: OffloadPolicy = CPUOffloadPolicy(pin_memory=device.type == "cuda") if self.offload else OffloadPolicy()
        # fully_shard moves each group's states to the mesh's device as it shards them, so
        # the full model never has to fit on one GPU at once.
        for block in blocks or []:
            fully_shard(block, mp_policy=policy, offload_policy=offload)
        fully_shard(model, mp_policy=policy, offload_policy=offload)
        return ModuleSession(
            wrapped=model,
            inner=model,
            optimizer=make_optimizer(model, context.job.learning_rate, context.job.weight_decay),
            loss_fn=context.job.loss_fn,
            rank=context.rank,
        )
