"""The task file the agent writes (``WORK/task.json``), parsed and validated.

Validation is strict, like every other edge of Saturn: unknown keys are errors, and every
error names the field, what was expected and what came (`BadInputError`, exit 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import BadInputError, describe

BUILT_IN_TECHNIQUES = ("ddp", "fsdp", "fsdp-offload", "pipeline")
PIPELINE_SCHEDULES = ("gpipe", "1f1b")


@dataclass(frozen=True)
class ProfileRequest:
    warmup_steps: int
    measured_steps: int
    job_signature: str
    instance_type: str
    where: str


@dataclass(frozen=True)
class Options:
    mixed_precision: str | None = None
    activation_checkpointing: bool = False
    seed: int = 0
    process_group_timeout_seconds: int = 120
    # Additive to the fixed contract (all optional):
    pipeline_schedule: str = "1f1b"
    microbatches: int | None = None
    progress_interval_seconds: float = 1.0
    plugins: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingTask:
    """`TrainingTask` of lambdas/core/protocol/worker-protocol.ts, after the agent rewrote
    s3:// locations to local paths."""

    model: str | Mapping[str, Any]
    method: str
    lora_rank: int | None
    batch_size: int
    sequence_length: int
    total_samples: int
    entrypoint: Mapping[str, Any]
    hyperparameters: Mapping[str, Any]

    def hyperparameter(self, name: str, default: Any) -> Any:
        return self.hyperparameters.get(name, default)

    @property
    def total_steps(self) -> int:
        return -(-self.total_samples // self.batch_size)


@dataclass(frozen=True)
class HarnessTask:
    technique: str
    task: TrainingTask
    checkpoint_interval_seconds: int
    resume_from: Path | None
    profile: ProfileRequest | None
    options: Options = field(default_factory=Options)


def _strict_keys(value: Mapping[str, Any], where: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - value.keys())
    if missing:
        raise BadInputError(f"{where}.{missing[0]}", "required field is missing")
    unknown = sorted(value.keys() - required - optional)
    if unknown:
        raise BadInputError(
            f"{where}.{unknown[0]}",
            f"unknown field; expected only {', '.join(sorted(required | optional))}",
        )


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadInputError(where, f"expected an object, got {describe(value)}")
    return value


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInputError(where, f"expected an integer >= {minimum}, got {describe(value)}")
    return value


def _number(value: Any, where: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise BadInputError(where, f"expected a number >= {minimum}, got {describe(value)}")
    return float(value)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or value == "":
        raise BadInputError(where, f"expected a non-empty string, got {describe(value)}")
    return value


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BadInputError(where, f"expected one of {', '.join(choices)}, got {describe(value)}")
    return value


def parse_training_task(raw: Any, where: str = "task") -> TrainingTask:
    value = _object(raw, where)
    _strict_keys(
        value,
        where,
        {"model", "method", "batchSize", "sequenceLength", "totalSamples", "entrypoint", "hyperparameters"},
        {"loraRank"},
    )
    model = value["model"]
    if not (isinstance(model, str) and model) and not isinstance(model, dict):
        raise BadInputError(f"{where}.model", f"expected a preset name or a config object, got {describe(model)}")
    method = _choice(value["method"], f"{where}.method", ("full", "lora"))
    lora_rank = None if value.get("loraRank") is None else _int(value["loraRank"], f"{where}.loraRank", 1)
    entrypoint = _object(value["entrypoint"], f"{where}.entrypoint")
    if "recipe" in entrypoint:
        _strict_keys(entrypoint, f"{where}.entrypoint", {"recipe"}, {"dataset"})
        _choice(entrypoint["recipe"], f"{where}.entrypoint.recipe", ("causal-lm",))
        if "dataset" in entrypoint:
            _str(entrypoint["dataset"], f"{where}.entrypoint.dataset")
    elif "script" in entrypoint:
        _strict_keys(entrypoint, f"{where}.entrypoint", {"script", "args"}, set())
        _str(entrypoint["script"], f"{where}.entrypoint.script")
        args = entrypoint["args"]
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise BadInputError(f"{where}.entrypoint.args", f"expected a list of strings, got {describe(args)}")
    else:
        raise BadInputError(f"{where}.entrypoint", f"expected {{recipe, dataset?}} or {{script, args}}, got {describe(entrypoint)}")
    hyperparameters = _object(value["hyperparameters"], f"{where}.hyperparameters")
    return TrainingTask(
        model=model,
        method=method,
        lora_rank=lora_rank,
        batch_size=_int(value["batchSize"], f"{where}.batchSize", 1),
        sequence_length=_int(value["sequenceLength"], f"{where}.sequenceLength", 0),
        total_samples=_int(value["totalSamples"], f"{where}.totalSamples", 1),
        entrypoint=entrypoint,
        hyperparameters=hyperparameters,
    )


def parse_options(raw: Any) -> Options:
    value = _object(raw, "options")
    _strict_keys(
        value,
        "options",
        {"mixedPrecision", "activationCheckpointing", "seed", "processGroupTimeoutSeconds"},
        {"pipelineSchedule", "microbatches", "progressIntervalSeconds", "plugins"},
    )
    precision = value["mixedPrecision"]
    if precision is not None:
        _choice(precision, "options.mixedPrecision", ("bf16", "fp16"))
    if not isinstance(value["activationCheckpointing"], bool):
        raise BadInputError(
            "options.activationCheckpointing", f"expected true or false, got {describe(value['activationCheckpointing'])}"
        )
    plugins = value.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) and p for p in plugins):
        raise BadInputError("options.plugins", f"expected a list of module paths, got {describe(plugins)}")
    microbatches = value.get("microbatches")
    return Options(
        mixed_precision=precision,
        activation_checkpointing=value["activationCheckpointing"],
        seed=_int(value["seed"], "options.seed", 0),
        process_group_timeout_seconds=_int(value["processGroupTimeoutSeconds"], "options.processGroupTimeoutSeconds", 1),
        pipeline_schedule=_choice(value.get("pipelineSchedule", "1f1b"), "options.pipelineSchedule", PIPELINE_SCHEDULES),
        microbatches=None if microbatches is None else _int(microbatches, "options.microbatches", 1),
        progress_interval_seconds=_number(value.get("progressIntervalSeconds", 1.0), "options.progressIntervalSeconds", 0),
        plugins=tuple(plugins),
    )


def parse_profile(raw: Any) -> ProfileRequest | None:
    if raw is None:
        return None
    value = _object(raw, "profile")
    _strict_keys(value, "profile", {"warmupSteps", "measuredSteps", "jobSignature", "instanceType", "where"}, set())
    return ProfileRequest(
        warmup_steps=_int(value["warmupSteps"], "profile.warmupSteps", 0),
        measured_steps=_int(value["measuredSteps"], "profile.measuredSteps", 1),
        job_signature=_str(value["jobSignature"], "profile.jobSignature"),
        instance_type=_str(value["instanceType"], "profile.instanceType"),
        where=_str(value["where"], "profile.where"),
    )


def parse_harness_task(raw: Any) -> HarnessTask:
    value = _object(raw, "task.json")
    _strict_keys(
        value, "task.json", {"technique", "task", "checkpointIntervalSeconds", "resumeFrom", "profile", "options"}, set()
    )
    resume = value["resumeFrom"]
    resume_path: Path | None = None
    if resume is not None:
        resume_path = Path(_str(resume, "resumeFrom"))
        if not resume_path.is_dir():
            raise BadInputError("resumeFrom", f"expected a local checkpoint directory, got {describe(resume)} (not a directory)")
    return HarnessTask(
        technique=_str(value["technique"], "technique"),
        task=parse_training_task(value["task"]),
        checkpoint_interval_seconds=_int(value["checkpointIntervalSeconds"], "checkpointIntervalSeconds", 1),
        resume_from=resume_path,
        profile=parse_profile(value["profile"]),
        options=parse_options(value["options"]),
    )


def load_harness_task(path: str | os.PathLike[str]) -> HarnessTask:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise BadInputError("--task", f"cannot read the task file {str(path)!r}: {error}", cause=error) from error
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInputError("--task", f"expected JSON in {str(path)!r}: {error}", cause=error) from error
    return parse_harness_task(raw)
