"""A stop notice (SIGTERM to one rank, or the STOP file) is agreed by every rank at a step
boundary: all save one checkpoint and exit 0, and the checkpoint resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ranks import events, losses, make_task, run_ranks, start_ranks

HARNESS = Path(__file__).resolve().parents[1]
LONG = 100_000  # steps: the run only ends by the stop


def wait_for_steps(work_dir: Path, count: int, timeout: float, process=None) -> None:
    deadline = time.monotonic() + timeout
    while len(events(work_dir, "step")) < count:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the harness exited {process.returncode} before {count} steps")
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} steps within {timeout} s")
        time.sleep(0.05)


def assert_saved_by_every_rank(work_dir: Path) -> str:
    stopped = events(work_dir, "stopped")
    assert len(stopped) == 1
    path = Path(stopped[0]["path"])
    assert path.name == f"samples-{stopped[0]['samples']:012d}"
    assert (path / ".metadata").is_file()
    assert sorted(p.name for p in path.glob("*.distcp")) == ["__0_0.distcp", "__1_0.distcp"]
    assert not list(path.parent.glob(".*.tmp"))
    assert events(work_dir, "completed") == []
    return str(path)


def test_sigterm_to_one_rank_makes_every_rank_save_and_exit_0(tmp_path):
    group = start_ranks(make_task("ddp", steps=LONG), tmp_path)
    wait_for_steps(tmp_path, 2, timeout=120)
    group.signal(1, signal.SIGTERM)
    assert group.wait() == [0, 0]
    checkpoint = assert_saved_by_every_rank(tmp_path)
    samples = events(tmp_path, "stopped")[0]["samples"]
    # The checkpoint resumes: two more steps, then completion.
    resumed = make_task("ddp", steps=samples // 4 + 2, resume_from=checkpoint)
    assert run_ranks(resumed, tmp_path / "resumed") == [0, 0]
    assert events(tmp_path / "resumed", "completed")[0]["samples"] == samples + 8
    assert len(losses(tmp_path / "resumed")) == 2


def test_stop_file_stops_a_real_torchrun_job_with_exit_0(tmp_path):
    """End to end through `python -m torch.distributed.run`, as the agent starts it."""
    task = make_task("fsdp", steps=LONG, timeout=30)
    (tmp_path / "task.json").write_text(__import__("json").dumps(task))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = str(HARNESS)
    process = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc-per-node", "2",
         "-m", "saturn_harness.run", "--task", str(tmp_path / "task.json"), "--work-dir", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for_steps(tmp_path, 2, timeout=150, process=process)
        (tmp_path / "STOP").touch()
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, output[-3000:]
    assert_saved_by_every_rank(tmp_path)
