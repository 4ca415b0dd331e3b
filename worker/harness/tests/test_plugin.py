"""A plug-in technique registers, answers search, and trains through the harness."""

from __future__ import annotations

import json

from ranks import FIXTURES, events, losses, make_task, reference_for, run_ranks

PLUGIN = str(FIXTURES / "accumulation_plugin.py")


def plugin_task(**kwargs) -> dict:
    task = make_task("ddp-accumulate", extra_options={"plugins": [PLUGIN]}, **kwargs)
    task["task"]["hyperparameters"]["maxMicroBatch"] = 1
    return task


def test_search_reports_knobs_and_runtime_or_does_not_fit(tmp_path, capsys):
    from saturn_harness.search import main

    path = tmp_path / "task.json"
    path.write_text(json.dumps(plugin_task(steps=10)))
    assert main(["--task", str(path), "--gpus", "1,2,3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(l["gpus"], l["fits"]) for l in lines] == [(1, True), (2, True), (3, False)]
    assert lines[1]["knobs"] == {"microBatchSize": 1}
    assert lines[1]["estimatedSeconds"] == 40 / (50.0 * 2)
    assert "does not split evenly over 3 GPUs" in lines[2]["reason"]


def test_plugin_technique_trains_and_matches_the_reference(tmp_path):
    task = plugin_task()
    assert run_ranks(task, tmp_path) == [0, 0]
    got = losses(tmp_path)
    expected = reference_for(make_task("ddp"))
    assert got[-1] < got[0] - 0.3
    # Accumulating 2 micro-batches of 1 per rank gives the same mean gradient.
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 2e-5
    assert events(tmp_path, "completed")[0]["samples"] == 32


def test_a_plugin_that_does_not_fit_fails_as_bad_input(tmp_path):
    task = plugin_task(batch_size=3)
    assert run_ranks(task, tmp_path) == [2, 2]
    error = events(tmp_path, "error")[0]
    assert error["field"] == "technique"
    assert "ddp-accumulate on 2 GPU(s) does not fit" in error["message"]
