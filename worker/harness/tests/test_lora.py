"""LoRA under DDP and FSDP2: trains, leaves the base weights alone, saves the adapters
from a gathered full state dict, and the saved adapters reload into a fresh base model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ranks import events, in_child, losses, make_task, reference_for, run_ranks


def _check_saved_adapters(work_dir: str, task: dict) -> dict:
    import torch
    from peft import PeftModel
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    from saturn_harness.models import build_causal_lm

    adapter_dir = events(Path(work_dir), "completed")[0]["path"]
    checkpoint = events(Path(work_dir), "checkpoint")[-1]["path"]
    dcp_to_torch_save(checkpoint, f"{work_dir}/final.pt")
    saved = torch.load(f"{work_dir}/final.pt", weights_only=False)["app"]["model"]
    trained_lora = {k: v for k, v in saved.items() if "lora_" in k}
    trained_base = {k: v for k, v in saved.items() if "lora_" not in k}

    torch.manual_seed(0)
    fresh = build_causal_lm(task["task"]["model"])
    fresh_state = {f"base_model.model.{k}": v for k, v in fresh.state_dict().items()}
    reloaded = PeftModel.from_pretrained(fresh, adapter_dir)
    reloaded_state = reloaded.state_dict()
    base_keys = [k.replace(".base_layer.", ".") for k in trained_base]
    return {
        "lora_tensors": len(trained_lora),
        "lora_b_trained": all(float(v.abs().sum()) > 0 for k, v in trained_lora.items() if "lora_B" in k),
        "adapters_reload_exactly": all(torch.equal(reloaded_state[k], v) for k, v in trained_lora.items()),
        "base_unchanged": all(torch.equal(fresh_state[b], trained_base[k]) for b, k in zip(base_keys, trained_base)),
        "base_tensors": len(trained_base),
    }


@pytest.mark.parametrize("technique", ["ddp", "fsdp"])
def test_lora_trains_saves_and_reloads(technique, tmp_path):
    task = make_task(technique, method="lora", lora_rank=4, learning_rate=5e-2)
    assert run_ranks(task, tmp_path) == [0, 0]
    got = losses(tmp_path)
    # Only the adapters learn (the random base and LM head stay frozen): a smaller fall.
    assert got[-1] < got[0] - 0.15, got
    expected = reference_for(task)
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 2e-5
    assert events(tmp_path, "completed")[0]["path"].endswith("final/adapter")
    report = in_child(lambda: _check_saved_adapters(str(tmp_path), task))
    # 2 layers x 6 target projections x (A, B)
    assert report["lora_tensors"] == 24
    assert report["lora_b_trained"] and report["adapters_reload_exactly"] and report["base_unchanged"], report
