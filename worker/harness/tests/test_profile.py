"""Profile mode: warm-up, K measured steps, one well-formed ProfileRecord (validated by the
control plane's own zod schema); an out-of-memory is reported as does-not-fit, decided by
all ranks together, and every rank exits 0."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ranks import events, make_task, run_ranks

REPO = Path(__file__).resolve().parents[3]
PROFILE = {"warmupSteps": 1, "measuredSteps": 2, "jobSignature": "tiny-llama|full|b4|s32", "instanceType": "g5.12xlarge", "where": "cpu-harness"}


def test_profile_writes_records_the_control_plane_accepts(tmp_path):
    records = []
    for technique in ("ddp", "fsdp", "pipeline"):
        work_dir = tmp_path / technique
        assert run_ranks(make_task(technique, profile=PROFILE), work_dir) == [0, 0]
        (profile,) = events(work_dir, "profile")
        assert profile["fits"] is True and profile["reason"] is None
        record = profile["record"]
        assert record["technique"] == technique and record["nodes"] == 1 and record["gpusPerNode"] == 2
        assert record["samplesPerSecond"] > 0 and record["peakMemoryGiBPerGpu"] > 0
        assert events(work_dir, "step") == [] and not (work_dir / "checkpoints").exists()
        records.append(record)
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    npx = shutil.which("npx")
    assert npx is not None, "npx is needed to run the control plane's schema"
    result = subprocess.run(
        [npx, "tsx", "scripts/validate-profile-records.ts", str(path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "3 of 3 records valid" in result.stdout


@pytest.mark.parametrize(
    ("who", "timeout"),
    [
        ("*", 20),  # every rank fails at the same point: the agreement collective decides
        ("1", 3),  # one rank only: the other times out in the step and reads the store
    ],
)
def test_an_out_of_memory_is_reported_as_does_not_fit_by_all_ranks(who, timeout, tmp_path):
    task = make_task("ddp", profile=PROFILE, timeout=timeout)
    assert run_ranks(task, tmp_path, env={"SATURN_HARNESS_INJECT_OOM": f"{who}:2"}) == [0, 0]
    (profile,) = events(tmp_path, "profile")
    assert profile["fits"] is False and profile["record"] is None
    assert "out of memory on rank" in profile["reason"] and "at profile step 2" in profile["reason"]
    assert profile["configuration"] == {
        "jobSignature": PROFILE["jobSignature"], "technique": "ddp", "instanceType": "g5.12xlarge", "nodes": 1, "gpusPerNode": 2,
    }
