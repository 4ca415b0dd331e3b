"""Stop requests. A SIGTERM handler or the file WORK/STOP only set a local flag; the ranks
agree at a step boundary (all_reduce MAX), so either every rank saves and exits or none
does. The same collective carries "a checkpoint is due" (any rank's clock decides)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import torch

from .distributed import all_reduce_max


class StopFlag:
    def __init__(self, work_dir: Path, checkpoint_interval_seconds: float) -> None:
        self.stop_file = work_dir / "STOP"
        self.requested = False
        self.interval = checkpoint_interval_seconds
        self.last_checkpoint = time.monotonic()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        self.requested = True

    def agree(self, device: torch.device) -> tuple[bool, bool]:
        """(stop, checkpoint due), identical on every rank."""
        local_stop = self.requested or self.stop_file.exists()
        due = time.monotonic() - self.last_checkpoint >= self.interval
        stop, checkpoint = all_reduce_max([float(local_stop), float(due)], device)
        return stop > 0, checkpoint > 0

    def checkpointed(self) -> None:
        self.last_checkpoint = time.monotonic()
