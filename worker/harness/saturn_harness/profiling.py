"""Profile mode: warm-up steps, then K measured steps of one (technique, GPU count);
samples/s and peak memory per GPU, written as a ProfileRecord
(lambdas/core/estimator/profile-record-schema.ts).

"Does not fit" is decided collectively, through the rendezvous store rather than a
collective: a rank that runs out of memory may have left the others inside a collective of
the step, and a collective it then started would meet theirs out of step (gloo aborts the
process on the size mismatch). At each step boundary a rank that ran out of memory writes
a note to the store, then every rank counts itself in. When all have arrived, each sees
the same notes (written before arriving) and decides alike. A rank left waiting in a
collective the failed rank never joined fails with the process-group timeout, and finds
the note. Either way every rank ends "does not fit" and exits 0, and the record is
written once, by local rank 0."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.distributed as dist

from .data import global_batches
from .distributed import all_reduce_max
from .memory import is_out_of_memory, peak_bytes, reset_peak
from .progress import ProgressLog, iso_now
from .task import HarnessTask
from .techniques.base import RunContext, TrainingSession
from .techniques.model_prep import block_list

INJECT_ENV = "SATURN_HARNESS_INJECT_OOM"
GIB = 1024**3


@dataclass
class ProfileOutcome:
    exit_code: int
    # False after a collective failed: the process group is unusable, exit without teardown.
    clean: bool


def install_injected_oom(session: TrainingSession, rank: int, step_counter: list[int]) -> None:
    """Test seam: SATURN_HARNESS_INJECT_OOM="<rank or *>:<step>" raises the CPU allocator's
    out-of-memory error in the first block's forward at that profile step on that rank."""
    spec = os.environ.get(INJECT_ENV)
    if not spec:
        return
    who, _, at = spec.partition(":")
    if who not in ("*", str(rank)):
        return
    target_step = int(at or "0")
    blocks = block_list(session.module)
    target = blocks[0] if blocks is not None else session.module

    def hook(module, args):  # noqa: ARG001
        if step_counter[0] == target_step:
            raise RuntimeError(
                "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes "
                f"(injected by {INJECT_ENV}={spec})"
            )

    target.register_forward_pre_hook(hook)


def _store_key(rank: int) -> str:
    return f"saturn/profile/oom/{rank}"


def _remote_oom_reason(world_size: int, wait_seconds: float) -> str | None:
    store = dist.distributed_c10d._get_default_store()
    deadline = time.monotonic() + wait_seconds
    while True:
        for other in range(world_size):
            key = _store_key(other)
            if store.check([key]):
                return store.get(key).decode("utf-8", "replace")
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _agree(store, step: int, world_size: int, local_oom: str | None, wait_limit: float) -> str | None:
    """The reason some rank ran out of memory, or None; the same answer on every rank that
    arrives. Raises when the others neither arrive nor report within `wait_limit`."""
    key = f"saturn/profile/arrived/{step}"
    store.add(key, 1)
    deadline = time.monotonic() + wait_limit
    while True:
        arrived = int(store.add(key, 0))
        reason = _remote_oom_reason(world_size, 0.0)
        if reason is not None:
            return local_oom or reason
        if arrived >= world_size:
            return None
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {arrived} of {world_size} ranks reached profile step {step} within {wait_limit:.0f} s")
        time.sleep(0.005)


def _leave_store_together(store, rank: int, world_size: int, wait_limit: float) -> None:
    """The store may live in rank 0's process (without torchrun's agent store): rank 0
    waits, bounded, until every rank is done with it before its process ends."""
    key = "saturn/profile/done"
    try:
        store.add(key, 1)
        deadline = time.monotonic() + wait_limit
        while rank == 0 and int(store.add(key, 0)) < world_size and time.monotonic() < deadline:
            time.sleep(0.01)
    except (RuntimeError, dist.DistError):
        pass  # the store is gone: nobody is left to wait for


def profile(make_session: Callable[[], TrainingSession], htask: HarnessTask, context: RunContext, progress: ProgressLog) -> ProfileOutcome:
    request = htask.profile
    assert request is not None
    task = htask.task
    rank = context.rank
    store = dist.distributed_c10d._get_default_store()
    local_oom: str | None = None
    reason: str | None = None
    measured_started = 0.0
    step_counter = [0]
    session: TrainingSession | None = None

    def note_oom(error: BaseException, where: str) -> str:
        message = f"out of memory on rank {rank.rank} {where}: {str(error).splitlines()[0][:300]}"
        store.set(_store_key(rank.rank), message)
        return message

    try:
        session = make_session()
    except Exception as error:  # noqa: BLE001 - only out-of-memory is handled here
        if not is_out_of_memory(error):
            raise
        local_oom = note_oom(error, "while building the model")
    if session is not None:
        install_injected_oom(session, rank.rank, step_counter)
    batches = global_batches(lambda: context.job.get_dataloader(task.batch_size), 0)
    total = request.warmup_steps + request.measured_steps
    wait_limit = htask.options.process_group_timeout_seconds + 10.0
    while True:
        # Agreement point: before each step (so the measured phase starts together) and
        # after the last one.
        reason = _agree(store, step_counter[0], rank.world_size, local_oom, wait_limit)
        if reason is not None:
            break
        if step_counter[0] == total:
            break
        if step_counter[0] == request.warmup_steps:
            reset_peak(rank.device)
            if rank.device.type == "cuda":
                torch.cuda.synchronize(rank.device)
            measured_started = time.monotonic()
        inputs, targets = next(batches)
        try:
            assert session is not None
            session.train_step(inputs, targets)
        except Exception as error:  # noqa: BLE001
            if is_out_of_memory(error):
                local_oom = note_oom(error, f"at profile step {step_counter[0]}")
                continue
            # A collective of the step failed: did another rank run out of memory?
            reason = _remote_oom_reason(rank.world_size, 2.0)
            if reason is None:
                raise
            break
        step_counter[0] += 1
    configuration = {
        "jobSignature": request.job_signature,
        "technique": htask.technique,
        "instanceType": request.instance_type,
        "nodes": rank.nodes,
        "gpusPerNode": rank.local_world_size,
    }
    if reason is not None:
        progress.write({"event": "profile", "record": None, "configuration": configuration, "fits": False, "reason": reason})
        _leave_store_together(store, rank.rank, rank.world_size, wait_limit)
        # Another rank may still sit in a collective: no teardown (it could block on it).
        return ProfileOutcome(0, clean=False)
    if rank.device.type == "cuda":
        torch.cuda.synchronize(rank.device)
    elapsed = time.monotonic() - measured_started
    peak = all_reduce_max([float(peak_bytes(rank.device))], rank.device)[0]
    record = {
        **configuration,
        "samplesPerSecond": request.measured_steps * task.batch_size / elapsed,
        "peakMemoryGiBPerGpu": round(peak / GIB, 4),
        "measuredAt": iso_now(),
        "where": request.where,
    }
    progress.write({"event": "profile", "record": record, "fits": True, "reason": None})
    return ProfileOutcome(0, True)
