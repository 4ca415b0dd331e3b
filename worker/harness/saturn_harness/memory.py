"""Peak memory per rank. CUDA: the caching allocator's peak of allocated bytes. CPU: the
process's resident high-water mark (VmHWM), which writing 5 to /proc/self/clear_refs
resets, so a phase can be measured on its own (tracemalloc does not see tensor storage and
ru_maxrss cannot be reset)."""

from __future__ import annotations

from pathlib import Path

import torch

OOM_MARKERS = ("out of memory", "can't allocate memory", "DefaultCPUAllocator")


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA raises torch.OutOfMemoryError; a CPU allocation failure is a plain RuntimeError."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and any(marker in str(error) for marker in OOM_MARKERS)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux or not permitted: the peak then counts from process start


def peak_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def gpu_peak_bytes(device: torch.device) -> int | None:
    """For progress lines: GPU memory only (null on CPU)."""
    return peak_bytes(device) if device.type == "cuda" else None
