"""Helpers of worker/gpu-check.sh: the estimator's workload spec for the profiled models,
and the measured-versus-estimated table.

    python -m saturn_harness.gpu_check spec INSTANCE_TYPE GPUS > spec.yaml
    python -m saturn_harness.gpu_check compare OUT INSTANCE_TYPE GPUS "GPU NAME"
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

# (preset, samples per GPU per step, sequence length): a GPT-2-class and a 1B-class model.
MODELS = (("gpt2", 8, 1024), ("llama-3.2-1b", 4, 1024))


def job_id(model: str) -> str:
    return model.replace(".", "-")


def spec(instance_type: str, gpus: int) -> str:
    import torch

    from .models import build_causal_lm

    jobs = []
    for model, per_gpu, sequence in MODELS:
        with torch.device("meta"):
            built = build_causal_lm(model)
        config = built.config
        layers = getattr(config, "num_hidden_layers", None) or config.n_layer
        hidden = getattr(config, "hidden_size", None) or config.n_embd
        parameters = sum(p.numel() for p in built.parameters())
        jobs.append(
            f"  - id: {job_id(model)}\n"
            f"    model: {{ family: decoder, parameters: {parameters}, layers: {layers}, hiddenSize: {hidden}, "
            f"sequenceLength: {sequence}, vocabularySize: {config.vocab_size} }}\n"
            f"    batchSize: {per_gpu * gpus}\n"
            f"    work: {{ samples: {per_gpu * gpus * 1000} }}\n"
            f"    techniques: [ddp, fsdp]\n"
        )
    return (
        "name: gpu-check\nregion: us-east-1\nobjective: { kind: min-cost, deadlineHours: 1000 }\nmarkets: [on-demand]\n"
        f"instanceTypes: {{ allow: [{instance_type}] }}\njobs:\n" + "".join(jobs)
    )


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def compare(out: Path, instance_type: str, gpus: int, gpu_name: str) -> str:
    estimates = json.loads((out / "estimate.json").read_text())
    rows = [(r["model"], r["technique"], r) for r in _lines(out / "records.jsonl")]
    rows += [(m["model"], m["technique"], None) for m in _lines(out / "misfits.jsonl")]

    def predicted(model: str, technique: str):
        job = next((j for j in estimates if j["jobId"] == job_id(model)), None)
        for candidate in job["candidates"] if job else []:
            config = candidate["config"]
            if (config["technique"], config["instanceType"], config["nodes"], config["gpusPerNode"]) == (technique, instance_type, 1, gpus):
                return candidate["estimate"]
        return None

    now = datetime.datetime.now(datetime.timezone.utc)
    text = [f"GPU check {now:%Y-%m-%d %H:%M} UTC: {gpus} x {gpu_name} as {instance_type}"]
    text.append(f"{'model':14} {'technique':9} {'samples/s':>10} {'estimated':>10} {'ratio':>6} {'GiB/GPU':>8} {'estimated':>10}")
    for model, technique, measured in rows:
        estimate = predicted(model, technique)
        fits = bool(estimate and estimate.get("fits"))
        est_sps = f"{estimate['samplesPerSecond']:.2f}" if fits else ("no fit" if estimate else "n/a")
        est_mem = f"{estimate['peakMemoryGiBPerGpu']:.1f}" if estimate else "n/a"
        if measured is None:
            text.append(f"{model:14} {technique:9} {'no fit':>10} {est_sps:>10} {'':>6} {'':>8} {est_mem:>10}")
            continue
        ratio = f"{measured['samplesPerSecond'] / estimate['samplesPerSecond']:.2f}" if fits else "-"
        text.append(
            f"{model:14} {technique:9} {measured['samplesPerSecond']:>10.2f} {est_sps:>10} {ratio:>6} "
            f"{measured['peakMemoryGiBPerGpu']:>8.1f} {est_mem:>10}"
        )
    return "\n".join(text) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["spec"] and len(argv) == 3:
        sys.stdout.write(spec(argv[1], int(argv[2])))
        return 0
    if argv[:1] == ["compare"] and len(argv) == 5:
        sys.stdout.write(compare(Path(argv[1]), argv[2], int(argv[3]), argv[4]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
