"""Pipelining with torch.distributed.pipelining: every rank is one stage holding a
contiguous run of decoder layers (the first also the embedding, the last also the final
norm and LM head), scheduled as GPipe or 1F1B over micro-batches.

The stages are built by hand: the `pipeline()` tracer cannot capture Hugging Face
decoders (DynamicCache outputs; see docs/worker-harness.md). Each stage keeps the full
model's parameter names (`model.layers.3.mlp...`), so stage checkpoints line up with the
whole model's state dict."""

from __future__ import annotations

import contextlib
from typing import Any, Mapping

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

from ..errors import BadInputError
from ..models import LLAMA_LIKE, model_type_of
from ..task import TrainingTask
from .base import RunContext, Technique, TrainingSession, to_device
from .model_prep import apply_activation_checkpointing, build_model
from .module_session import CHECKPOINT_OPTIONS, DTYPES, make_optimizer

SCHEDULES = {"gpipe": ScheduleGPipe, "1f1b": Schedule1F1B}


def stage_layer_ids(layers: int, stages: int, stage: int) -> list[int]:
    """Contiguous, balanced: stage s gets layers [s*L//P, (s+1)*L//P)."""
    return list(range(stage * layers // stages, (stage + 1) * layers // stages))


class DecoderStage(nn.Module):
    """One pipeline stage of a Llama-like decoder (embed_tokens / layers / norm / lm_head)."""

    def __init__(self, full: nn.Module, layer_ids: list[int], first: bool, last: bool, autocast_dtype) -> None:
        super().__init__()
        decoder = full.model
        self.first, self.last = first, last
        self.autocast_dtype = autocast_dtype
        self.model = nn.Module()
        if first:
            self.model.embed_tokens = decoder.embed_tokens
        self.model.layers = nn.ModuleDict({str(i): decoder.layers[i] for i in layer_ids})
        self.model.rotary_emb = decoder.rotary_emb
        if last:
            self.model.norm = decoder.norm
            self.lm_head = full.lm_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = (
            torch.autocast(x.device.type, dtype=self.autocast_dtype) if self.autocast_dtype else contextlib.nullcontext()
        )
        with context:
            h = self.model.embed_tokens(x) if self.first else x
            positions = torch.arange(h.shape[1], device=h.device).unsqueeze(0)
            rotary = self.model.rotary_emb(h, positions)
            for layer in self.model.layers.values():
                # attention_mask None: sdpa attention is causal on its own.
                out = layer(h, attention_mask=None, position_embeddings=rotary, position_ids=positions)
                h = out[0] if isinstance(out, tuple) else out
            if self.last:
                h = self.lm_head(self.model.norm(h))
        return h


def choose_microbatches(batch_size: int, stages: int, requested: int | None) -> int:
    if requested is not None:
        if batch_size % requested != 0:
            raise BadInputError("options.microbatches", f"expected a divisor of batchSize {batch_size}, got {requested}")
        return requested
    for count in range(stages, batch_size + 1):
        if batch_size % count == 0:
            return count
    raise BadInputError(
        "task.batchSize", f"pipeline over {stages} stages needs at least {stages} micro-batches; batchSize is {batch_size}"
    )


class PipelineTechnique(Technique):
    name = "pipeline"

    def execute(self, task: TrainingTask, gpus: int, knobs: Mapping[str, Any], context: RunContext) -> TrainingSession:
        if context.job.kind != "causal-lm":
            raise BadInputError("technique", "pipeline builds its stages for the causal-lm recipe's decoders only, not for a user module")
        if task.method == "lora":
            raise BadInputError("technique", "pipeline does not train LoRA adapters; use ddp or fsdp for method lora")
        options = context.options
        full = build_model(context.job.get_model, task, options)
        model_type = model_type_of(full)
        if model_type not in LLAMA_LIKE:
            raise BadInputError(
                "technique", f"pipeline stages are built for {', '.join(sorted(LLAMA_LIKE))} decoders; the model is {model_type!r}"
            )
        if getattr(full.config, "tie_word_embeddings", False) and gpus > 1:
            raise BadInputError(
                "technique", "pipeline cannot split a model with tied input and output embeddings (tie_word_embeddings) across stages"
            )
        layers = len(full.model.layers)
        if layers < gpus:
            raise BadInputError("technique", f"pipeline over {gpus} stages needs at least {gpus} layers; the model has {layers}")
        microbatches = int(knobs.get("microbatches") or choose_microbatches(task.batch_size, gpus, options.microbatches))
        rank = context.rank
        stage_module = DecoderStage(
            full,
            stage_layer_ids(layers, gpus, rank.rank),
            first=rank.rank == 0,
            last=rank.rank == gpus - 1,
            autocast_dtype=DTYPES.get(options.mixed_precision or ""),
        )
        del full
        if options.activation_checkpointing:
            blocks = stage_module.model.layers
            for key in list(blocks.keys()):
                wrapped = nn.ModuleList([blocks[key]])
                apply_activation_checkpointing(wrapped)
                blocks[key] = wrapped[0]
        stage_module.to(rank.device)
        return PipelineSession(stage_module, rank, gpus, microbatches, options.pipeline_schedule, context)


class PipelineSession(TrainingSession):
    def __init__(self, module: DecoderStage, rank, stages: int, microbatches: int, schedule: str, context: RunContext) -> None:
        self.module = module
        self.rank = rank
        self.optimizer = make_optimizer(module, context.job.learning_rate, context.job.weight_decay)
        stage = PipelineStage(module, stage_index=rank.rank, num_stages=stages, device=rank.device)
        loss_fn = context.job.loss_fn
        self.schedule = SCHEDULES[schedule](stage, n_microbatches=microbatches, loss_fn=lambda out, target: loss_fn(out, target))

    def train_step(self, inputs: Any, targets: Any) -> float:
        inputs, targets = to_device(inputs, self.rank.device), to_device(targets, self.rank.device)
        self.optimizer.zero_grad(set_to_none=True)
        losses: list[torch.Tensor] = []
        kwargs: dict[str, Any] = {}
        if self.module.last:
            kwargs = {"target": targets, "losses": losses}
        if self.module.first:
            self.schedule.step(inputs, **kwargs)
        else:
            self.schedule.step(**kwargs)
        self.optimizer.step()
        # Equal micro-batches: the mean of their losses is the full batch's mean loss. Only
        # the last stage has it; a SUM with zeros elsewhere hands it to every rank.
        value = torch.stack([l.detach().float() for l in losses]).mean().double() if losses else torch.zeros((), dtype=torch.float64)
        value = value.reshape(1).to(self.rank.device)
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return float(value.item())

    def checkpoint_state(self) -> dict[str, Any]:
        model_state, optim_state = get_state_dict(self.module, self.optimizer, options=CHECKPOINT_OPTIONS)
        return {"model": model_state, "optim": optim_state}

    def restore(self, state: dict[str, Any]) -> None:
        set_state_dict(
            self.module, self.optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"], options=CHECKPOINT_OPTIONS
        )
