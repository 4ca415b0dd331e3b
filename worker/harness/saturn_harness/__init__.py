"""Saturn training harness: runs one job with one parallelism technique under torchrun.

Entry point: ``python -m torch.distributed.run ... -m saturn_harness.run --task task.json
--work-dir DIR`` (see docs/worker-harness.md for the contract with the worker agent).
Importing the package imports nothing heavy, so a bad task file fails before torch loads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["register_technique"]


def register_technique(technique: Any, *, replace: bool = False) -> Any:
    """Register a plug-in technique (see saturn_harness.techniques.base.Technique)."""
    from .techniques.registry import register_technique as register

    return register(technique, replace=replace)
