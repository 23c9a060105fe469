"""``deepstep check PATH``: grade a learner's own implementation of the course functions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import CLIError, positive_float

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "check",
        help="grade your own course functions (a .py file or a notebook) and say what is wrong",
        description="Run PATH (a .py file, or an .ipynb notebook whose code cells run in order; failing "
        "cells are reported, not fatal) in a subprocess inside a temporary folder, find the course functions "
        "by their notebook names (cnn, cs231n, dnn, optim and the app models) and grade each: the "
        "notebooks' Expected Outputs, edge cases, backward passes against numerical gradients. "
        "Failures come with the first failing case, the first mismatch and the most likely known "
        "mistake. Exit status 0 only when every function found passes.",
    )
    p.add_argument("path", metavar="PATH", help="your .py file or .ipynb notebook")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--time-limit",
        type=positive_float,
        default=10.0,
        help="seconds per function, all its cases together (default: 10)",
    )
    p.add_argument(
        "--only",
        metavar="NAME[,NAME...]",
        default=None,
        help="grade only these course functions, e.g. conv_forward,pool_backward",
    )
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..course.check import FUNCTIONS
    from ..course.check.runner import check_source_path, grade_file

    only = None
    if args.only is not None:
        only = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in only if n not in FUNCTIONS]
        if unknown or not only:
            raise CLIError(
                f"--only: not course functions: {', '.join(unknown) or repr(args.only)} "
                f"(e.g. {', '.join(FUNCTIONS[:3])})"
            )
    check_source_path(Path(args.path))  # a bad PATH is a usage error (exit 2), not a failed check
    report = grade_file(Path(args.path), time_limit=args.time_limit, only=only)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.to_text())
    return report.exit_status
