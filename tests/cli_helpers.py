"""Helpers for the CLI tests: run ``python -m deepstep`` in a subprocess, or ``main`` in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import deepstep
from deepstep.cli import main

# The folder deepstep is imported from (the worktree's src/, or site-packages when installed).
PACKAGE_ROOT = Path(deepstep.__file__).resolve().parents[1]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    env.pop("DEEPSTEP_DEBUG", None)
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m deepstep ARGS`` and return the finished process (text output)."""
    return subprocess.run([sys.executable, "-m", "deepstep", *map(str, args)], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call ``deepstep.cli.main(args)`` in-process; argparse's SystemExit becomes a status."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    """Exit status 2, exactly one line on stderr starting with 'deepstep', no traceback."""
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("deepstep") and "error: " in lines[0], err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
