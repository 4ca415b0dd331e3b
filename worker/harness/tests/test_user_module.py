"""A Saturn-style user module (get_model, get_dataloader, loss_fn) trains under the
built-in data-parallel techniques and matches the single-process reference."""

from __future__ import annotations

import pytest

from ranks import FIXTURES, losses, make_task, reference_for, run_ranks


@pytest.mark.parametrize("technique", ["ddp", "fsdp"])
def test_user_module_trains_and_matches_the_reference(technique, tmp_path):
    entry = {"script": str(FIXTURES / "user_mlp.py"), "args": []}
    task = make_task(technique, steps=10, entrypoint=entry, activation_checkpointing=technique == "fsdp")
    task["task"]["hyperparameters"] = {}
    assert run_ranks(task, tmp_path) == [0, 0]
    got = losses(tmp_path)
    expected = reference_for(task)
    # Two batches per epoch: steps 0 and 8 see the same batch.
    assert got[8] < 0.7 * got[0], got
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 1e-5
