"""``deepstep bench``: the kernel benchmark of :mod:`deepstep.bench`, arguments passed through."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from typing import Any

from .common import CLIError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bench",
        help="benchmark the convolution and pooling kernels (try 'deepstep bench --help')",
        description="Run the kernel benchmark; every argument goes to it.",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the benchmark")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("deepstep.bench") is None:
        raise CLIError("the kernel benchmark (deepstep.bench) is not part of this installation")
    bench = importlib.import_module("deepstep.bench")
    status = bench.main(list(args.args))
    return 0 if status is None else int(status)
