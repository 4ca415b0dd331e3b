"""Saturn training harness: runs one job with one parallelism technique under torchrun.

Entry point: ``python -m torch.distributed.run ... -m saturn_harness.run --task task.json
--work-dir DIR`` (see docs/worker-harness.md for the contract with the worker agent).
"""

__all__ = ["register_technique"]

from .techniques.registry import register_technique
