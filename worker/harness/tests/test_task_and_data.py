"""The task file parser and the causal-lm data path, without any process group."""

from __future__ import annotations

import json

import pytest
import torch

from ranks import make_task
from saturn_harness.data import ByteTokenizer, SyntheticDataset, causal_lm_loader, global_batches, pack
from saturn_harness.errors import BadInputError
from saturn_harness.task import parse_harness_task


def test_a_valid_task_parses_with_its_defaults():
    htask = parse_harness_task(make_task("pipeline", steps=3, batch_size=6))
    assert htask.technique == "pipeline" and htask.task.total_steps == 3
    assert htask.options.pipeline_schedule == "1f1b" and htask.options.plugins == ()


def test_total_steps_round_up_to_cover_every_sample():
    task = make_task("ddp")
    task["task"]["totalSamples"] = 9
    assert parse_harness_task(task).task.total_steps == 3


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("task", "entrypoint"), {"recipe": "image-classification"}, "task.entrypoint.recipe"),
        (("task", "entrypoint"), {"script": "job.py"}, "task.entrypoint.args"),
        (("options", "pipelineSchedule"), "interleaved", "options.pipelineSchedule"),
        (("options", "processGroupTimeoutSeconds"), 0, "options.processGroupTimeoutSeconds"),
        (("options", "activationCheckpointing"), "yes", "options.activationCheckpointing"),
        (("profile",), {"warmupSteps": 1}, "profile.instanceType"),
        (("task", "loraRank"), 0, "task.loraRank"),
    ],
)
def test_each_bad_field_is_named(path, value, field):
    task = make_task("ddp")
    target = task
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(BadInputError) as caught:
        parse_harness_task(task)
    assert caught.value.field == field


def test_packing_joins_documents_with_the_separator_and_drops_the_tail():
    rows = pack([ByteTokenizer().encode("abc"), ByteTokenizer().encode("de")], 3)
    assert rows.tolist() == [[97, 98, 99], [0, 100, 101]]


def test_a_data_set_shorter_than_one_batch_is_bad_input(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"text": "tiny"}) + "\n")
    with pytest.raises(BadInputError, match="fewer than one batch of 4"):
        causal_lm_loader(dataset=str(path), batch_size=4, sequence_length=4, vocab_size=256, rows_wanted=4, seed=0,
                         text_field="text", tokenizer=None)


def test_a_record_without_the_text_field_is_named(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"content": "x"}) + "\n")
    with pytest.raises(BadInputError, match="line 1 .* string field 'text'"):
        causal_lm_loader(dataset=str(path), batch_size=1, sequence_length=2, vocab_size=256, rows_wanted=1, seed=0,
                         text_field="text", tokenizer=None)


def test_synthetic_rows_are_a_pure_function_of_their_index():
    a, b = SyntheticDataset(8, 16, 256, seed=3), SyntheticDataset(100, 16, 256, seed=3)
    assert torch.equal(a[5][0], b[5][0]) and not torch.equal(a[5][0], a[6][0])


def test_skipping_batches_resumes_the_same_order_across_epochs():
    make = lambda: torch.utils.data.DataLoader(  # noqa: E731
        list(range(6)), batch_size=2, sampler=torch.utils.data.RandomSampler(range(6), generator=torch.Generator().manual_seed(1))
    )
    whole = global_batches(make, 0)
    order = [next(whole).tolist() for _ in range(7)]
    resumed = global_batches(make, 4)
    assert [next(resumed).tolist() for _ in range(3)] == order[4:]
    assert sorted(sum(order[:3], [])) == list(range(6)) and order[3:6] != order[:3]
