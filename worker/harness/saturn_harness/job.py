"""What a job is to the harness, Saturn-style: `get_model()`, `get_dataloader(batch_size)`
and `loss_fn(output, target)`, plus hyper-parameters. Either the built-in causal-lm recipe
or a user's module.

Batches are `(inputs, targets)` pairs whose first dimension is the sample; the harness
asks for the *global* batch (`task.batchSize`) and gives each data-parallel rank its slice,
so every technique computes the same step as one process on the whole batch.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .data import causal_lm_loader, read_jsonl_texts
from .errors import BadInputError
from .models import build_causal_lm, resolve_model_config
from .task import TrainingTask

USER_FUNCTIONS = ("get_model", "get_dataloader", "loss_fn")


@dataclass(frozen=True)
class Job:
    get_model: Callable[[], nn.Module]
    get_dataloader: Callable[[int], Iterable[Any]]
    loss_fn: Callable[[Any, Any], torch.Tensor]
    kind: str  # "causal-lm" or "user"
    learning_rate: float
    weight_decay: float


def causal_lm_loss(output: Any, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy, mean over every predicted token (fp32 softmax)."""
    logits = getattr(output, "logits", output)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels[:, 1:].reshape(-1))


def causal_lm_job(task: TrainingTask, seed: int) -> Job:
    config = resolve_model_config(task.model)
    vocab_size = int(config.get("vocab_size", 50257 if config["type"] == "gpt2" else 32000))
    entrypoint = task.entrypoint
    if entrypoint.get("dataset") is not None:
        # Read and check the data set now, before any rank joins the process group, so a
        # file that does not parse fails in seconds with the line that is wrong.
        read_jsonl_texts(Path(entrypoint["dataset"]), str(task.hyperparameter("textField", "text")))
    if task.sequence_length < 2:
        raise BadInputError("task.sequenceLength", f"expected at least 2 tokens per sample for a causal LM, got {task.sequence_length}")

    def get_dataloader(batch_size: int):
        return causal_lm_loader(
            dataset=entrypoint.get("dataset"),
            batch_size=batch_size,
            sequence_length=task.sequence_length,
            vocab_size=vocab_size,
            rows_wanted=task.total_steps * task.batch_size,
            seed=seed,
            text_field=str(task.hyperparameter("textField", "text")),
            tokenizer=task.hyperparameters.get("tokenizer"),  # type: ignore[arg-type]
        )

    return Job(
        get_model=lambda: build_causal_lm(task.model),
        get_dataloader=get_dataloader,
        loss_fn=causal_lm_loss,
        kind="causal-lm",
        learning_rate=float(task.hyperparameter("learningRate", 1e-3)),
        weight_decay=float(task.hyperparameter("weightDecay", 0.0)),
    )


def user_job(task: TrainingTask) -> Job:
    field = "task.entrypoint.script"
    path = Path(str(task.entrypoint["script"]))
    if not path.is_file():
        raise BadInputError(field, f"expected a local Python file, got {str(path)!r} (no such file)")
    module = load_module_file(path, field, list(task.entrypoint.get("args", [])))
    for name in USER_FUNCTIONS:
        if not callable(getattr(module, name, None)):
            raise BadInputError(field, f"module {path.name} has no function {name}(); a job module defines {', '.join(f + '()' for f in USER_FUNCTIONS)}")
    hyper = task.hyperparameters
    return Job(
        get_model=module.get_model,
        get_dataloader=module.get_dataloader,
        loss_fn=module.loss_fn,
        kind="user",
        learning_rate=float(hyper.get("learningRate", getattr(module, "LEARNING_RATE", 1e-3))),
        weight_decay=float(hyper.get("weightDecay", 0.0)),
    )


def load_module_file(path: Path, field: str, argv: list[str]) -> Any:
    """Import a Python file as a module; `argv` becomes its sys.argv[1:] while it loads."""
    name = f"saturn_user_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BadInputError(field, f"cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    saved_argv = sys.argv
    sys.argv = [str(path), *argv]
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[name]
        raise BadInputError(field, f"{path.name} does not parse: {error}", cause=error) from error
    except Exception as error:
        del sys.modules[name]
        raise BadInputError(field, f"importing {path.name} failed: {type(error).__name__}: {error}", cause=error) from error
    finally:
        sys.argv = saved_argv
    return module


def build_job(task: TrainingTask, seed: int) -> Job:
    if "recipe" in task.entrypoint:
        return causal_lm_job(task, seed)
    return user_job(task)
