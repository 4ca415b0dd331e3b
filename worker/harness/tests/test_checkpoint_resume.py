"""Checkpoint, then resume: the resumed run's losses are the uninterrupted run's, bit for
bit, at the same world size (same data order, optimizer state and RNG streams)."""

from __future__ import annotations

import json

import pytest

from ranks import events, losses, make_task, run_ranks

TEXTS = [
    "the quick brown fox jumps over the lazy dog. ",
    "pack my box with five dozen liquor jugs. ",
    "how vexingly quick daft zebras jump! ",
    "sphinx of black quartz, judge my vow. ",
]


def write_dataset(path) -> str:
    path.write_text("".join(json.dumps({"text": TEXTS[i % 4] * (1 + i % 3)}) + "\n" for i in range(40)))
    return str(path)


@pytest.mark.parametrize(("technique", "with_dataset"), [("fsdp", True), ("pipeline", False)])
def test_resume_reproduces_the_uninterrupted_losses_bit_for_bit(technique, with_dataset, tmp_path):
    dataset = write_dataset(tmp_path / "data.jsonl") if with_dataset else None
    whole, first, second = tmp_path / "whole", tmp_path / "first", tmp_path / "second"
    assert run_ranks(make_task(technique, steps=8, dataset=dataset), whole) == [0, 0]
    assert run_ranks(make_task(technique, steps=4, dataset=dataset), first) == [0, 0]
    checkpoint = events(first, "checkpoint")[-1]["path"]
    assert checkpoint.endswith("checkpoints/samples-000000000016")
    resumed = make_task(technique, steps=8, dataset=dataset, resume_from=checkpoint)
    assert run_ranks(resumed, second) == [0, 0]
    uninterrupted = losses(whole)
    assert losses(first) == uninterrupted[:4]
    assert losses(second) == uninterrupted[4:]
    assert [e["samples"] for e in events(second, "step")] == [20, 24, 28, 32]
