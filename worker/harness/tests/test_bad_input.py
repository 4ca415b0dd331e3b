"""Bad input fails fast, exits 2, and the message and the `error` progress line name it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ranks import FIXTURES, events, make_task, run_ranks

HARNESS = Path(__file__).resolve().parents[1]


def run_cli(task: object, work_dir: Path) -> subprocess.CompletedProcess:
    """`python -m saturn_harness.run` as a process: task-file errors are found before torch
    is even imported."""
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "task.json").write_text(task if isinstance(task, str) else json.dumps(task))
    return subprocess.run(
        [sys.executable, "-m", "saturn_harness.run", "--task", str(work_dir / "task.json"), "--work-dir", str(work_dir)],
        cwd=HARNESS, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda t: t["task"].__setitem__("batchSize", 0), "task.batchSize", "expected an integer >= 1, got 0 (int)"),
        (lambda t: t["task"].__setitem__("method", "qlora"), "task.method", "expected one of full, lora, got 'qlora' (str)"),
        (lambda t: t["options"].__setitem__("mixedPrecision", "fp8"), "options.mixedPrecision", "expected one of bf16, fp16"),
        (lambda t: t.__setitem__("resumeFrom", "/nonexistent/checkpoint"), "resumeFrom", "not a directory"),
        (lambda t: t["task"].__setitem__("learningRate", 1), "task.learningRate", "unknown field"),
        (lambda t: t.pop("options"), "task.json.options", "required field is missing"),
    ],
)
def test_a_bad_task_file_names_the_field_and_exits_2(mutate, field, words, tmp_path):
    task = make_task("ddp")
    mutate(task)
    result = run_cli(task, tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"bad input: {field}:" in result.stderr and words in result.stderr
    (error,) = events(tmp_path, "error")
    assert error["field"] == field and words in error["message"]


def test_a_task_file_that_is_not_json_exits_2(tmp_path):
    result = run_cli("{not json", tmp_path)
    assert result.returncode == 2 and "--task: expected JSON" in result.stderr


def _one_rank(task: dict, work_dir: Path) -> dict:
    assert run_ranks(task, work_dir, world_size=1) == [2]
    (error,) = events(work_dir, "error")
    return error


def test_a_user_module_without_loss_fn_is_named(tmp_path):
    entry = {"script": str(FIXTURES / "missing_loss_fn.py"), "args": []}
    error = _one_rank(make_task("ddp", entrypoint=entry), tmp_path)
    assert error["field"] == "task.entrypoint.script"
    assert "module missing_loss_fn.py has no function loss_fn()" in error["message"]


def test_a_data_set_that_does_not_parse_names_the_line(tmp_path):
    dataset = tmp_path / "data.jsonl"
    dataset.write_text('{"text": "fine"}\n{"text": broken}\n')
    error = _one_rank(make_task("ddp", dataset=str(dataset)), tmp_path / "work")
    assert error["field"] == "task.entrypoint.dataset"
    assert f"line 2 of {dataset} is not JSON" in error["message"]


def test_a_technique_the_model_cannot_use_is_named(tmp_path):
    gpt2 = {"type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2, "vocab_size": 256, "bos_token_id": 0, "eos_token_id": 0}
    error = _one_rank(make_task("pipeline", model=gpt2), tmp_path)
    assert error["field"] == "technique"
    assert "pipeline stages are built for" in error["message"] and "the model is 'gpt2'" in error["message"]


def test_an_unknown_technique_is_named(tmp_path):
    error = _one_rank(make_task("zero-infinity"), tmp_path)
    assert error["field"] == "technique"
    assert "expected one of ddp, fsdp, fsdp-offload, pipeline, got 'zero-infinity'" in error["message"]
