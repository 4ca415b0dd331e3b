"""The training loop the harness runs for every technique: steps over the global batches,
progress lines, checkpoints every interval, an agreed stop at a step boundary, the final
checkpoint (and adapters) on completion."""

from __future__ import annotations

import time

from .checkpoint import load_checkpoint, save_checkpoint
from .data import global_batches
from .distributed import RankInfo
from .memory import gpu_peak_bytes
from .progress import ProgressLog
from .stopping import StopFlag
from .task import HarnessTask
from .techniques.base import RunContext, TrainingSession



def train(session: TrainingSession, htask: HarnessTask, context: RunContext, progress: ProgressLog) -> int:
    task = htask.task
    rank: RankInfo = context.rank
    work_dir = context.work_dir
    start_step = 0
    if htask.resume_from is not None:
        start_step = load_checkpoint(session, htask.resume_from, rank).step
    stop = StopFlag(work_dir, htask.checkpoint_interval_seconds)
    stop.install_signal_handlers()
    batches = global_batches(lambda: context.job.get_dataloader(task.batch_size), start_step)
    total_steps = task.total_steps
    started = time.monotonic()
    step = start_step
    samples = min(step * task.batch_size, task.total_samples)
    while step < total_steps:
        inputs, targets = next(batches)
        loss = session.train_step(inputs, targets)
        step += 1
        samples = min(step * task.batch_size, task.total_samples)
        elapsed = time.monotonic() - started
        progress.step(
            samples=samples,
            samples_per_second=(step - start_step) * task.batch_size / elapsed if elapsed > 0 else 0.0,
            peak_bytes=gpu_peak_bytes(rank.device),
            loss=loss,
            force=step == start_step + 1 or step == total_steps,
        )
        stop_now, due = stop.agree(rank.device)
        if stop_now:
            path = save_checkpoint(session, work_dir, step=step, samples=samples, rank=rank)
            progress.write({"event": "checkpoint", "samples": samples, "path": str(path)})
            progress.write({"event": "stopped", "samples": samples, "path": str(path)})
            return 0
        if due and step < total_steps:
            path = save_checkpoint(session, work_dir, step=step, samples=samples, rank=rank)
            stop.checkpointed()
            progress.write({"event": "checkpoint", "samples": samples, "path": str(path)})
    path = save_checkpoint(session, work_dir, step=step, samples=samples, rank=rank)
    progress.write({"event": "checkpoint", "samples": samples, "path": str(path)})
    exported = session.export(work_dir / "final")
    final = exported if exported is not None else path
    progress.write({"event": "completed", "samples": samples, "path": str(final)})
    return 0
