"""Checkpoints with torch.distributed.checkpoint (DCP): every rank writes its shards into a
temporary sibling directory, then the directory is renamed into place, so
`WORK/checkpoints/samples-<N>` exists only when complete. On several nodes each node's
local rank 0 renames its own copy (each node's agent uploads its node's files into the
same prefix; DCP names its files by rank, so they never collide)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp

from .distributed import RankInfo
from .errors import BadInputError
from .techniques.base import TrainingSession


@dataclass(frozen=True)
class Restored:
    step: int
    samples: int


def checkpoint_dir(work_dir: Path, samples: int) -> Path:
    return work_dir / "checkpoints" / f"samples-{samples:012d}"


def _rng_key(rank: int) -> str:
    return f"rank{rank}"


def save_checkpoint(session: TrainingSession, work_dir: Path, *, step: int, samples: int, rank: RankInfo) -> Path:
    final = checkpoint_dir(work_dir, samples)
    temporary = final.with_name(f".{final.name}.tmp")
    if rank.local_rank == 0:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.parent.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    state: dict[str, Any] = {
        "app": session.checkpoint_state(),
        "extra": {
            "step": torch.tensor(step, dtype=torch.int64),
            "samples": torch.tensor(samples, dtype=torch.int64),
            "worldSize": torch.tensor(rank.world_size, dtype=torch.int64),
            # Per-rank RNG streams under per-rank keys (DCP keeps one copy of a key that
            # several ranks write, which would hand every rank rank 0's stream).
            "rng": {_rng_key(rank.rank): torch.get_rng_state()},
        },
    }
    dcp.save(state, checkpoint_id=str(temporary))
    dist.barrier()
    if rank.local_rank == 0:
        if final.exists():
            shutil.rmtree(final)
        temporary.rename(final)
    dist.barrier()
    return final


def load_checkpoint(session: TrainingSession, directory: Path, rank: RankInfo) -> Restored:
    """Load in place into the session's (already built and sharded) model and optimizer.
    At another world size DCP reshards; the RNG streams are then not restored."""
    if not (directory / ".metadata").is_file():
        raise BadInputError("resumeFrom", f"{directory} is not a torch.distributed.checkpoint directory (no .metadata)")
    metadata = dcp.FileSystemReader(str(directory)).read_metadata()
    keys = set(metadata.state_dict_metadata)
    same_world = f"extra.rng.{_rng_key(rank.rank)}" in keys
    extra: dict[str, Any] = {
        "step": torch.tensor(0, dtype=torch.int64),
        "samples": torch.tensor(0, dtype=torch.int64),
    }
    if same_world:
        extra["rng"] = {_rng_key(rank.rank): torch.get_rng_state()}
    state = {"app": session.checkpoint_state(), "extra": extra}
    dcp.load(state, checkpoint_id=str(directory))
    session.restore(state["app"])
    if same_world:
        torch.set_rng_state(state["extra"]["rng"][_rng_key(rank.rank)])
    return Restored(step=int(state["extra"]["step"]), samples=int(state["extra"]["samples"]))
