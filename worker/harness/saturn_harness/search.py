"""`python -m saturn_harness.search --task task.json --gpus 1,2,4,8`

Asks the task's technique (a built-in or a plug-in from `options.plugins` or the job's
module) whether and how the job fits on each GPU count, without a process group: one JSON
line per count, {"technique", "gpus", "fits", "knobs", "estimatedSeconds", "reason"}. This
is how the control plane can price a plug-in technique (docs/worker-harness.md, "Plug-in
techniques"). Exit 2 on bad input, like the run."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import EXIT_BAD_INPUT, BadInputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saturn_harness.search")
    parser.add_argument("--task", required=True)
    parser.add_argument("--gpus", required=True, help="comma-separated GPU counts, e.g. 1,2,4,8")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_BAD_INPUT if exit_.code else 0
    try:
        from .job import build_job
        from .run import load_plugins
        from .task import load_harness_task
        from .techniques.registry import get_technique

        try:
            counts = [int(part) for part in args.gpus.split(",")]
        except ValueError as error:
            raise BadInputError("--gpus", f"expected comma-separated integers, got {args.gpus!r}") from error
        if not counts or min(counts) < 1:
            raise BadInputError("--gpus", f"expected GPU counts >= 1, got {args.gpus!r}")
        htask = load_harness_task(args.task)
        load_plugins(htask.options.plugins)
        if "script" in htask.task.entrypoint:
            build_job(htask.task, htask.options.seed)  # a job module may register techniques
        technique = get_technique(htask.technique)
        for gpus in counts:
            result = technique.search(htask.task, gpus)
            line = {
                "technique": technique.name,
                "gpus": gpus,
                "fits": result.fits,
                "knobs": dict(result.knobs) if result.fits else None,
                "estimatedSeconds": result.estimated_seconds if result.fits else None,
                "reason": None if result.fits else result.reason,
            }
            print(json.dumps(line), flush=True)
        return 0
    except BadInputError as error:
        print(f"saturn_harness.search: bad input: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
