"""Run the harness in W ranks forked from the test process (torch and transformers are
imported once, in the parent, before forking: 13 s instead of 180 s for the suite, see
/work/shared/reference/pytorch-cpu.md), plus helpers to write tasks and read progress."""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any, Callable

import torch

torch.set_num_threads(1)


def _import_before_forking() -> None:
    """Everything a rank imports lazily, imported once here so each forked rank starts warm
    (transformers and peft import their model code on first use: seconds per rank)."""
    import peft  # noqa: F401
    import torch.distributed.checkpoint  # noqa: F401
    import torch.distributed.pipelining  # noqa: F401
    from transformers import AutoConfig, AutoModelForCausalLM

    import saturn_harness.profiling  # noqa: F401
    import saturn_harness.run  # noqa: F401
    import saturn_harness.train  # noqa: F401
    from saturn_harness.techniques.registry import registered_names

    registered_names()
    for model_type in ("llama", "gpt2"):
        config = AutoConfig.for_model(model_type, vocab_size=256, num_hidden_layers=1, hidden_size=32, intermediate_size=64,
                                      num_attention_heads=2, n_embd=32, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0)
        AutoModelForCausalLM.from_config(config)


_import_before_forking()

TINY_LLAMA = {
    "type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 256,
}

FIXTURES = Path(__file__).parent / "fixtures"
RANK_TIMEOUT_SECONDS = 120


def make_task(
    technique: str = "ddp",
    *,
    steps: int = 8,
    batch_size: int = 4,
    sequence_length: int = 32,
    method: str = "full",
    lora_rank: int | None = None,
    dataset: str | None = None,
    model: Any = None,
    learning_rate: float = 1e-2,
    mixed_precision: str | None = None,
    activation_checkpointing: bool = False,
    profile: dict | None = None,
    resume_from: str | None = None,
    interval: int = 3600,
    timeout: int = 20,
    extra_options: dict | None = None,
    entrypoint: dict | None = None,
) -> dict:
    task: dict[str, Any] = {
        "model": copy.deepcopy(model if model is not None else TINY_LLAMA),
        "method": method,
        "batchSize": batch_size,
        "sequenceLength": sequence_length,
        "totalSamples": steps * batch_size,
        "entrypoint": entrypoint or ({"recipe": "causal-lm", "dataset": dataset} if dataset else {"recipe": "causal-lm"}),
        "hyperparameters": {"learningRate": learning_rate},
    }
    if lora_rank is not None:
        task["loraRank"] = lora_rank
    return {
        "technique": technique,
        "task": task,
        "checkpointIntervalSeconds": interval,
        "resumeFrom": resume_from,
        "profile": profile,
        "options": {
            "mixedPrecision": mixed_precision,
            "activationCheckpointing": activation_checkpointing,
            "seed": 0,
            "processGroupTimeoutSeconds": timeout,
            "progressIntervalSeconds": 0,
            **(extra_options or {}),
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rank_main(rank: int, world: int, port: int, task_path: str, work_dir: str, env: dict, setup) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "TORCHELASTIC_RUN_ID": "forked-test",
            **env,
        }
    )
    code = 1
    try:
        if setup is not None:
            setup(rank, Path(work_dir))
        from saturn_harness.run import main

        code = main(["--task", task_path, "--work-dir", work_dir])
    finally:
        os._exit(code)


class RankGroup:
    """Forked ranks that are running; `wait()` returns their exit codes."""

    def __init__(self, processes: list[multiprocessing.Process]) -> None:
        self.processes = processes

    def signal(self, rank: int, signum: int = signal.SIGTERM) -> None:
        os.kill(self.processes[rank].pid, signum)

    def wait(self, timeout: float = RANK_TIMEOUT_SECONDS) -> list[int]:
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
        hung = [p for p in self.processes if p.is_alive()]
        for process in hung:
            process.kill()
            process.join(5)
        if hung:
            raise TimeoutError(f"{len(hung)} rank(s) still running after {timeout} s")
        return [p.exitcode for p in self.processes]


def start_ranks(
    harness_task: dict,
    work_dir: Path,
    *,
    world_size: int = 2,
    env: dict | None = None,
    setup: Callable[[int, Path], None] | None = None,
) -> RankGroup:
    work_dir.mkdir(parents=True, exist_ok=True)
    task_path = work_dir / "task.json"
    task_path.write_text(json.dumps(harness_task))
    port = free_port()
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(
            target=_rank_main, args=(rank, world_size, port, str(task_path), str(work_dir), env or {}, setup), daemon=True
        )
        for rank in range(world_size)
    ]
    for process in processes:
        process.start()
    return RankGroup(processes)


def run_ranks(harness_task: dict, work_dir: Path, **kwargs) -> list[int]:
    return start_ranks(harness_task, work_dir, **kwargs).wait()


def events(work_dir: Path, kind: str | None = None) -> list[dict]:
    path = work_dir / "progress.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in lines if kind is None or e["event"] == kind]


def losses(work_dir: Path) -> list[float]:
    return [e["loss"] for e in events(work_dir, "step")]


_REFERENCES: dict[str, Any] = {}


def reference_for(harness_task: dict) -> list[float]:
    """The single-process reference losses of a task, computed once per distinct job."""
    from reference import reference_losses

    key = json.dumps(
        {"task": harness_task["task"], "seed": harness_task["options"]["seed"],
         "precision": harness_task["options"]["mixedPrecision"]},
        sort_keys=True,
    )
    if key not in _REFERENCES:
        _REFERENCES[key] = in_child(lambda: reference_losses(harness_task))
    return _REFERENCES[key]


def in_child(function: Callable[[], Any], timeout: float = RANK_TIMEOUT_SECONDS) -> Any:
    """Run `function` in a forked child and return its JSON-serialisable result (keeps the
    parent's torch free of thread pools that forked ranks would inherit)."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def target() -> None:
        try:
            writer.send(("ok", function()))
        except BaseException as error:  # noqa: BLE001
            writer.send(("error", f"{type(error).__name__}: {error}"))
        finally:
            os._exit(0)

    process = context.Process(target=target, daemon=True)
    process.start()
    if not reader.poll(timeout):
        process.kill()
        raise TimeoutError(f"child did not answer within {timeout} s")
    status, value = reader.recv()
    process.join(5)
    if status != "ok":
        raise AssertionError(value)
    return value
