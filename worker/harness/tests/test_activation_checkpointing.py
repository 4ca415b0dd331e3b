"""Activation checkpointing really recomputes: each wrapped decoder layer runs its forward
twice per step (forward, then again in backward), and the losses are unchanged."""

from __future__ import annotations

import json

import pytest

from ranks import losses, make_task, reference_for, run_ranks


def _count_layer_forwards(rank, work_dir):
    import saturn_harness.train as train_module

    original = train_module.train

    def probed(session, htask, context, progress):
        layer = next(m for m in session.module.modules() if type(m).__name__.endswith("LlamaDecoderLayer"))
        calls = [0]
        layer.register_forward_pre_hook(lambda module, args: calls.__setitem__(0, calls[0] + 1))
        code = original(session, htask, context, progress)
        (work_dir / f"calls-{rank}.json").write_text(json.dumps(calls[0]))
        return code

    train_module.train = probed


@pytest.mark.parametrize(("checkpointing", "per_step"), [(True, 2), (False, 1)])
def test_fsdp_layers_run_forward_twice_per_step_only_with_checkpointing(checkpointing, per_step, tmp_path):
    task = make_task("fsdp", steps=4, activation_checkpointing=checkpointing)
    assert run_ranks(task, tmp_path, setup=_count_layer_forwards) == [0, 0]
    for rank in (0, 1):
        assert json.loads((tmp_path / f"calls-{rank}.json").read_text()) == 4 * per_step
    expected = reference_for(make_task("fsdp", steps=4))
    assert max(abs(a - b) for a, b in zip(losses(tmp_path), expected)) <= 2e-5
