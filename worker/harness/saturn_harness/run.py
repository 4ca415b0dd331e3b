"""`python -m torch.distributed.run ... -m saturn_harness.run --task task.json --work-dir DIR`

Exit codes: 0 completed, stopped after saving, or profile done; 2 bad input (the message
and the `error` progress line name the field); anything else a failure."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

from .errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInputError


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saturn_harness.run", description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, help="task.json written by the agent")
    parser.add_argument("--work-dir", required=True, help="the attempt's work directory")
    return parser


def load_plugins(paths: tuple[str, ...]) -> None:
    """Import plug-in modules (a .py file or a module name); importing registers them."""
    from .job import load_module_file

    for index, spec in enumerate(paths):
        field = f"options.plugins[{index}]"
        if spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                raise BadInputError(field, f"expected a Python file, got {spec!r} (no such file)")
            load_module_file(path, field, [])
        else:
            try:
                importlib.import_module(spec)
            except ImportError as error:
                raise BadInputError(field, f"cannot import plug-in module {spec!r}: {error}") from error


def main(argv: list[str] | None = None) -> int:
    try:
        args = _argument_parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_BAD_INPUT if exit_.code else 0
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    from .progress import ProgressLog

    progress = ProgressLog(work_dir / "progress.jsonl", enabled=local_rank == 0)
    try:
        return _run(args, work_dir, progress)
    except BadInputError as error:
        progress.write({"event": "error", "message": str(error), "field": error.field})
        print(f"saturn_harness: bad input: {error}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    except Exception as error:  # noqa: BLE001 - reported, then a failure exit
        progress.write({"event": "error", "message": f"{type(error).__name__}: {error}", "field": None})
        traceback.print_exc()
        return EXIT_FAILURE


def _run(args: argparse.Namespace, work_dir: Path, progress) -> int:
    from .task import load_harness_task

    htask = load_harness_task(args.task)
    progress.interval_seconds = htask.options.progress_interval_seconds
    load_plugins(htask.options.plugins)

    from .distributed import init_distributed, shutdown
    from .job import build_job
    from .profiling import profile
    from .techniques.base import RunContext
    from .techniques.registry import get_technique
    from .train import train

    # Everything that can be checked without the other ranks is checked before the
    # process group exists, so bad input fails in seconds on every rank alike.
    job = build_job(htask.task, htask.options.seed)
    technique = get_technique(htask.technique)
    rank = init_distributed(htask.options.process_group_timeout_seconds)
    context = RunContext(rank=rank, job=job, options=htask.options, work_dir=work_dir)
    plan = technique.search(htask.task, rank.world_size)
    clean = True
    try:
        if not plan.fits:
            if htask.profile is not None:
                progress.write(
                    {"event": "profile", "record": None, "configuration": None, "fits": False, "reason": plan.reason}
                )
                return 0
            raise BadInputError("technique", f"{technique.name} on {rank.world_size} GPU(s) does not fit: {plan.reason}")
        knobs = dict(plan.knobs)
        if htask.profile is not None:
            outcome = profile(
                lambda: technique.execute(htask.task, rank.world_size, knobs, context), htask, context, progress
            )
            clean = outcome.clean
            return outcome.exit_code
        session = technique.execute(htask.task, rank.world_size, knobs, context)
        return train(session, htask, context, progress)
    finally:
        if clean:
            shutdown()
        else:
            # A collective failed: tearing the group down can block on the broken peer.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
