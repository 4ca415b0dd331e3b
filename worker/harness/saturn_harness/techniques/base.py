"""The technique interface, as in Saturn: `search(task, gpus)` says whether and how a job
fits on that many GPUs (knobs and an estimated runtime, or why not), `execute(task, gpus,
knobs, context)` prepares the model and returns a `TrainingSession` the harness drives
(steps, agreed stops, checkpoints, profiling are the harness's, the same for every
technique)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ..distributed import RankInfo
from ..job import Job
from ..task import Options, TrainingTask


@dataclass(frozen=True)
class Fits:
    knobs: Mapping[str, Any]
    # Seconds to run the task's totalSamples; None when the technique leaves pricing to the
    # control plane's estimator (the built-ins do: lambdas/core/estimator).
    estimated_seconds: float | None
    peak_memory_bytes_per_gpu: int | None = None
    fits: bool = field(default=True, init=False)


@dataclass(frozen=True)
class DoesNotFit:
    reason: str
    fits: bool = field(default=False, init=False)


SearchResult = Fits | DoesNotFit


@dataclass(frozen=True)
class RunContext:
    rank: RankInfo
    job: Job
    options: Options
    work_dir: Path


class TrainingSession(ABC):
    """One prepared model, optimizer and step function on this rank."""

    #: The module whose forward runs on this rank (for hooks in tests and profiling).
    module: nn.Module

    @abstractmethod
    def train_step(self, inputs: Any, targets: Any) -> float:
        """One optimizer step on the global batch; returns the global mean loss, the same
        value on every rank."""

    @abstractmethod
    def checkpoint_state(self) -> dict[str, Any]:
        """A state dict torch.distributed.checkpoint can save and load in place."""

    @abstractmethod
    def restore(self, state: dict[str, Any]) -> None:
        """Apply a state dict loaded into the shape `checkpoint_state` returned."""

    def export(self, directory: Path) -> Path | None:
        """Write the job's final artefact (LoRA adapters) on completion; called on every rank
        (gathering is collective). None when the final checkpoint is the artefact."""
        return None


class Technique(ABC):
    name: str = ""

    def search(self, task: TrainingTask, gpus: int) -> SearchResult:
        return Fits(knobs={}, estimated_seconds=None)

    @abstractmethod
    def execute(self, task: TrainingTask, gpus: int, knobs: Mapping[str, Any], context: RunContext) -> TrainingSession:
        """Build this rank's part of the model for `gpus` ranks with `knobs`."""


def local_slice(value: Any, rank: int, world_size: int) -> Any:
    """This rank's share of a global batch (dim 0), for tensors, tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        per_rank = value.shape[0] // world_size
        return value[rank * per_rank : (rank + 1) * per_rank]
    if isinstance(value, (tuple, list)):
        return type(value)(local_slice(v, rank, world_size) for v in value)
    if isinstance(value, dict):
        return {k: local_slice(v, rank, world_size) for k, v in value.items()}
    return value


def to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value
