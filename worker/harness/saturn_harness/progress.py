"""``WORK/progress.jsonl``: one JSON object per line, written by rank 0 only, flushed and
fsynced after each line so the agent never reads a torn line it could act on."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ProgressLog:
    def __init__(self, path: Path, *, enabled: bool, interval_seconds: float = 1.0) -> None:
        self.path = path
        self.enabled = enabled
        self.interval_seconds = interval_seconds
        self._last_step_line = float("-inf")

    def write(self, event: dict[str, Any]) -> None:
        if not self.enabled:
            return
        line = json.dumps(event, separators=(",", ":"), allow_nan=False)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def step(self, *, samples: int, samples_per_second: float, peak_bytes: int | None, loss: float, force: bool) -> None:
        """At most one step line per `interval_seconds` unless `force` (first and last
        steps, and the first step after a resume, are always written)."""
        now = time.monotonic()
        if not force and now - self._last_step_line < self.interval_seconds:
            return
        self._last_step_line = now
        self.write(
            {
                "event": "step",
                "samples": samples,
                "samplesPerSecond": samples_per_second,
                "peakGpuMemoryBytes": peak_bytes,
                "loss": loss,
                "time": iso_now(),
            }
        )


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
