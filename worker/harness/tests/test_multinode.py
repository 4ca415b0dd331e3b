"""Two "nodes" rendezvous with c10d as the agent starts a multi-node job (worker/agent/
harness-invocation.ts: --nnodes 2 --rdzv-backend c10d --rdzv-endpoint <node 0>:PORT
--rdzv-id <attempt> --node-rank k), here as two torchrun processes on 127.0.0.1 with one
process each, gloo on CPU. The job trains to completion on the world of two and matches the
single-process reference, as the 2-rank runs of test_techniques.py do. Each node saves only
its own ranks' shards; the union of the two nodes' parts (what the agents' uploads under the
attempt's one checkpoint prefix give, and what each node downloads to resume) resumes on two
nodes to the reference's losses. NCCL over EFA is not testable here (no GPU, no EFA)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ranks import events, free_port, losses, make_task, reference_for

HARNESS = Path(__file__).resolve().parents[1]
FP32_TOLERANCE = 2e-5


def run_two_nodes(task: dict, tmp_path: Path, name: str) -> Path:
    """Runs `task` as two single-process torchrun nodes; returns node 0's work directory."""
    endpoint = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = str(HARNESS)
    nodes = []
    for rank in (0, 1):
        work_dir = tmp_path / f"{name}-node-{rank}"
        work_dir.mkdir()
        (work_dir / "task.json").write_text(json.dumps(task))
        command = [
            sys.executable, "-m", "torch.distributed.run",
            "--nnodes", "2", "--nproc-per-node", "1",
            "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", f"att-{name}",
            "--node-rank", str(rank),
            "-m", "saturn_harness.run", "--task", str(work_dir / "task.json"), "--work-dir", str(work_dir),
        ]
        nodes.append((work_dir, subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    outputs = []
    try:
        for _, process in nodes:
            output, _ = process.communicate(timeout=240)
            outputs.append(output)
    finally:
        for _, process in nodes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    assert [process.returncode for _, process in nodes] == [0, 0], "\n---\n".join(o[-2000:] for o in outputs)
    return nodes[0][0]


def assert_matches(got: list[float], expected: list[float]) -> None:
    assert len(got) == len(expected)
    worst = max(abs(a - b) for a, b in zip(got, expected))
    assert worst <= FP32_TOLERANCE, f"max |loss - reference| = {worst:.3g}: {got} vs {expected}"


# Two two-node runs back to back: longer than one test's default limit on a loaded machine.
@pytest.mark.timeout(480)
def test_two_nodes_rendezvous_train_save_their_parts_and_resume_from_the_union(tmp_path):
    whole = make_task("ddp", steps=8)
    expected = reference_for(whole)
    # First half: 4 of 8 steps, to completion on the world of two.
    first = make_task("ddp", steps=4)
    node_0 = run_two_nodes(first, tmp_path, "first")
    # Global rank 0 (on node 0) reports progress; its losses are the world of two's.
    assert_matches(losses(node_0), expected[:4])
    completed = events(node_0, "completed")
    assert len(completed) == 1 and completed[0]["samples"] == first["task"]["totalSamples"]
    # Each node saves its own ranks' shards into its own work directory (the agents upload
    # both under the attempt's one checkpoint prefix): node 0 the metadata and rank 0's shard.
    final = Path(completed[0]["path"]).name
    parts = {rank: tmp_path / f"first-node-{rank}" / "checkpoints" / final for rank in (0, 1)}
    shards = {rank: sorted(p.name for p in part.iterdir()) for rank, part in parts.items()}
    assert shards == {0: [".metadata", "__0_0.distcp"], 1: ["__1_0.distcp"]}
    # Neither part alone is a checkpoint (why the control plane waits for every node's report);
    # their union, as in S3 under the one prefix, is.
    union = tmp_path / "uploaded" / final
    for part in parts.values():
        shutil.copytree(part, union, dirs_exist_ok=True)
    second = make_task("ddp", steps=8, resume_from=str(union))
    resumed = run_two_nodes(second, tmp_path, "second")
    assert_matches(losses(resumed), expected[4:])
    assert [e["samples"] for e in events(resumed, "step")] == [20, 24, 28, 32]
