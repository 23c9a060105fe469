"""The ``deepstep`` command line: train, evaluate, predict, visualize, gradcheck, info, check, export, bench.

``main(argv)`` returns the exit status: 0 on success, 1 when a gradient check fails or
training diverges, 2 on a user error (missing file, wrong format, shape mismatch, unknown
model or option) reported as ONE line ``deepstep: error: ...`` on stderr, 130 on Ctrl-C.
Set ``DEEPSTEP_DEBUG=1`` to see the traceback of an error instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .commands import bench, check, evaluate, export, gradcheck, info, predict, train, visualize
from .commands.common import CLIError

__all__ = ["main", "build_parser", "CLIError"]

PROG = "deepstep"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``prog: error: message (see 'prog --help')``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per module of :mod:`deepstep.commands`."""
    parser = _Parser(
        prog=PROG,
        description="Convolutional and deep neural networks, step by step, in NumPy. Run 'deepstep train' "
                    "to train a ConvNet on the bundled 8x8 digits in well under a minute.",
        epilog="Each command has its own --help, e.g. 'deepstep train --help'.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (train, evaluate, predict, visualize, gradcheck, info, check, export, bench):
        module.add_parser(subparsers)
    parser.set_defaults(subparsers=subparsers.choices)
    return parser


def _fail(message: str, status: int = 2) -> int:
    message = " ".join(str(message).split()) or "unknown error"
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # everything after 'bench', --help included, belongs to the benchmark
        args = argparse.Namespace(command="bench", args=argv[1:], handler=bench.run)
    else:
        args, extras = parser.parse_known_args(argv)
        if extras:
            command_parser = args.subparsers.get(args.command, parser) if args.command else parser
            command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if args.command is None:
        return _fail("choose a command: train, evaluate, predict, visualize, gradcheck, info, check, export, "
                     f"bench (see '{PROG} --help')")
    if os.environ.get("DEEPSTEP_DEBUG"):
        return args.handler(args)
    try:
        return args.handler(args)
    except BrokenPipeError:  # e.g. `deepstep evaluate ... | head -1`: stop quietly, like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except (CLIError, FileNotFoundError, NotADirectoryError, IsADirectoryError, ImportError,
            ValueError, TypeError) as exc:  # ValueError includes DataFormatError and ModelFormatError
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except RuntimeError as exc:  # deepstep.train.TrainingError: the loss became NaN/inf
        return _fail(str(exc), 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
