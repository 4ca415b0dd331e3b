"""The single-process reference: the same job (same seeded model, same data order) trained
on the whole global batch in one process, with a plain loop and no torch.distributed."""

from __future__ import annotations

import contextlib

import torch

from saturn_harness.data import global_batches
from saturn_harness.job import build_job
from saturn_harness.task import parse_harness_task
from saturn_harness.techniques.model_prep import build_model


def reference_losses(harness_task: dict) -> list[float]:
    htask = parse_harness_task(harness_task)
    task = htask.task
    job = build_job(task, htask.options.seed)
    model = build_model(job.get_model, task, htask.options)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=job.learning_rate, weight_decay=job.weight_decay)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(htask.options.mixed_precision or "")
    batches = global_batches(lambda: job.get_dataloader(task.batch_size), 0)
    out: list[float] = []
    for _ in range(task.total_steps):
        inputs, targets = next(batches)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=dtype) if dtype else contextlib.nullcontext():
            output = model(inputs)
        loss = job.loss_fn(output, targets)
        loss.backward()
        optimizer.step()
        out.append(float(loss.item()))
    return out
