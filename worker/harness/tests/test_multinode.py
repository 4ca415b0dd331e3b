"""Two "nodes" rendezvous with c10d as the agent starts a multi-node job (worker/agent/
harness-invocation.ts: --nnodes 2 --rdzv-backend c10d --rdzv-endpoint <node 0>:PORT
--rdzv-id <attempt> --node-rank k), here as two torchrun processes on 127.0.0.1 with one
process each, gloo on CPU. The job trains to completion on the world of two and matches the
single-process reference, as the 2-rank runs of test_techniques.py do. NCCL over EFA is not
testable here (no GPU, no EFA)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ranks import events, free_port, losses, make_task, reference_for

HARNESS = Path(__file__).resolve().parents[1]
FP32_TOLERANCE = 2e-5


def test_two_nodes_rendezvous_at_node_0_and_train_to_completion(tmp_path):
    task = make_task("ddp")
    endpoint = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = str(HARNESS)
    nodes = []
    for rank in (0, 1):
        work_dir = tmp_path / f"node-{rank}"
        work_dir.mkdir()
        (work_dir / "task.json").write_text(json.dumps(task))
        command = [
            sys.executable, "-m", "torch.distributed.run",
            "--nnodes", "2", "--nproc-per-node", "1",
            "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", "att-multinode",
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
    # Global rank 0 (on node 0) reports progress; its losses are the world of two's.
    node_0 = nodes[0][0]
    got = losses(node_0)
    expected = reference_for(task)
    assert len(got) == len(expected) == task["task"]["totalSamples"] // task["task"]["batchSize"]
    worst = max(abs(a - b) for a, b in zip(got, expected))
    assert worst <= FP32_TOLERANCE, f"max |loss - reference| = {worst:.3g}: {got} vs {expected}"
    completed = events(node_0, "completed")
    assert len(completed) == 1 and completed[0]["samples"] == task["task"]["totalSamples"]
    # Each node saves its own ranks' shards into its own work directory (the agents upload
    # both under the attempt's one checkpoint prefix): node 0 the metadata and rank 0's shard.
    final = Path(completed[0]["path"]).name
    shards = {rank: sorted(p.name for p in (tmp_path / f"node-{rank}" / "checkpoints" / final).iterdir()) for rank in (0, 1)}
    assert shards == {0: [".metadata", "__0_0.distcp"], 1: ["__1_0.distcp"]}
