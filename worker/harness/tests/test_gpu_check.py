"""The CPU-testable half of worker/gpu-check.sh: the estimator spec it writes and the
measured-versus-estimated table (the profiling half needs a GPU and was not run here)."""

from __future__ import annotations

import json

from saturn_harness.gpu_check import compare, spec


def test_the_spec_describes_the_profiled_architectures():
    text = spec("p5en.48xlarge", 8)
    assert "instanceTypes: { allow: [p5en.48xlarge] }" in text
    assert "parameters: 124439808, layers: 12, hiddenSize: 768" in text  # GPT-2 124M
    assert "parameters: 1235814400, layers: 16, hiddenSize: 2048" in text  # Llama-3.2-1B shape
    assert "batchSize: 64" in text and "batchSize: 32" in text


def test_the_table_puts_measured_next_to_estimated(tmp_path):
    estimate = [{"jobId": "gpt2", "candidates": [{"config": {"technique": "ddp", "instanceType": "p5en.48xlarge", "nodes": 1, "gpusPerNode": 1},
                                                  "estimate": {"fits": True, "samplesPerSecond": 500.0, "peakMemoryGiBPerGpu": 2.4}}]}]
    (tmp_path / "estimate.json").write_text(json.dumps(estimate))
    record = {"model": "gpt2", "technique": "ddp", "samplesPerSecond": 400.0, "peakMemoryGiBPerGpu": 3.1}
    (tmp_path / "records.jsonl").write_text(json.dumps(record) + "\n")
    (tmp_path / "misfits.jsonl").write_text(json.dumps({"model": "gpt2", "technique": "fsdp", "reason": "oom"}) + "\n")
    rows = compare(tmp_path, "p5en.48xlarge", 1, "NVIDIA H200").splitlines()
    assert rows[2].split() == ["gpt2", "ddp", "400.00", "500.00", "0.80", "3.1", "2.4"]
    assert rows[3].split() == ["gpt2", "fsdp", "no", "fit", "n/a", "n/a"]
