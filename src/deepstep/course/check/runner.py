"""Grade a learner's file in a subprocess, in a temporary folder, under a watchdog.

The worker (:mod:`deepstep.course.check._worker`) reports JSON lines on a pipe of its own
(the learner's prints go elsewhere). If a function runs past its time limit and the
worker's own timer cannot stop it (a loop inside native code, or ``except:`` that swallows
the timer), the watchdog kills the worker, records the function as timed out and starts a
new worker for the functions left.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import deepstep

from .cases import CALLEES, FUNCTIONS, module_of
from .grader import DEFAULT_TIME_LIMIT
from .report import FAIL, MISSING, Failure, FunctionResult, Report

__all__ = ["grade_file", "check_source_path", "WATCHDOG_GRACE"]

WATCHDOG_GRACE = (
    20.0  # seconds beyond the time limit: the worker's diagnosis runs the mutants after the cases
)
LOAD_LIMIT = 300.0  # seconds to run a whole file or notebook before grading


def check_source_path(path: Path) -> Path:
    """Validate the file to grade; raise FileNotFoundError or ValueError with one clear line."""
    if not path.exists():
        raise FileNotFoundError(f"PATH not found: {path}")
    if not path.is_file():
        raise ValueError(f"PATH is not a file: {path}")
    if path.suffix not in (".py", ".ipynb"):
        raise ValueError(f"PATH must be a Python file (.py) or a notebook (.ipynb), got {path.name}")
    if path.suffix == ".ipynb":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"PATH is not a notebook (invalid JSON): {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise ValueError(f"PATH is not a notebook (no 'cells' list): {path}")
    return path.resolve()


def _env(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(deepstep.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.update(
        MPLBACKEND="Agg",
        PYTHONDONTWRITEBYTECODE="1",
        HOME=tmp,
        TMPDIR=tmp,
        MPLCONFIGDIR=tmp,
        PYTHONUNBUFFERED="1",
    )
    env.pop("DEEPSTEP_DEBUG", None)
    return env


def _reader(fd: int, events: queue.Queue[dict[str, Any] | None]) -> None:
    with os.fdopen(fd, "rb") as pipe:
        for line in pipe:
            try:
                events.put(json.loads(line))
            except json.JSONDecodeError:  # pragma: no cover - only the worker writes here
                continue
    events.put(None)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # pragma: no cover - already gone
        pass
    proc.wait()


def _timeout_result(name: str, limit: float, grace: float) -> FunctionResult:
    failure = Failure(
        "-",
        "-",
        "timeout",
        f"still running {limit + grace:g} s after it started (limit "
        f"{limit:g} s): stopped (an infinite loop, or a loop the timer could not interrupt)",
    )
    return FunctionResult(name, module_of(name), FAIL, 0, 1, ["-"], failure)


def grade_file(
    path: Path,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    only: list[str] | None = None,
    cell_limit: float = 60.0,
    grace: float = WATCHDOG_GRACE,
) -> Report:
    """Run the learner's ``.py`` file or notebook in a subprocess; grade the course functions it defines."""
    display = str(path)
    path = check_source_path(Path(path))
    limit = DEFAULT_TIME_LIMIT * 30 if time_limit is None else time_limit
    remaining = [n for n in FUNCTIONS if only is None or n in only]
    results: dict[str, FunctionResult] = {}
    uses: dict[str, set[str]] = {}
    report = Report(display)
    first = True
    with tempfile.TemporaryDirectory(prefix="deepstep-check-") as tmp:
        while remaining:
            read_fd, write_fd = os.pipe()
            with open(os.path.join(tmp, "worker.log"), "ab") as log:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "deepstep.course.check._worker",
                        "--source",
                        str(path),
                        "--events-fd",
                        str(write_fd),
                        "--time-limit",
                        str(limit),
                        "--cell-limit",
                        str(cell_limit),
                        "--only",
                        ",".join(remaining),
                        "--display",
                        display,
                    ],
                    cwd=tmp,
                    env=_env(tmp),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=(write_fd,),
                    start_new_session=True,
                )
            os.close(write_fd)
            events: queue.Queue[dict[str, Any] | None] = queue.Queue()
            threading.Thread(target=_reader, args=(read_fd, events), daemon=True).start()
            current: str | None = None
            deadline = time.monotonic() + LOAD_LIMIT
            finished = False
            while True:
                try:
                    event = events.get(timeout=max(0.05, deadline - time.monotonic()))
                except queue.Empty:
                    _kill(proc)
                    if current is None:
                        report.error = f"running {path.name} took longer than {LOAD_LIMIT:g} s: stopped"
                        remaining = []
                    else:
                        results[current] = _timeout_result(current, limit, grace)
                        remaining.remove(current)
                    break
                if event is None:  # the worker exited
                    proc.wait()
                    if not finished and report.error is None:
                        if current is None:
                            report.error = _crash_message(path, proc.returncode, tmp)
                            remaining = []
                        else:
                            failure = Failure(
                                "-",
                                "-",
                                "exception",
                                f"the grading process died (exit status "
                                f"{proc.returncode}) inside your {current}: sys.exit, os._exit or a "
                                "crash in native code",
                            )
                            results[current] = FunctionResult(
                                current, module_of(current), FAIL, 0, 1, ["-"], failure
                            )
                            remaining.remove(current)
                    break
                kind = event.get("event")
                if kind == "loaded":
                    if first:
                        report.notes.extend(event.get("notes", []))
                        first = False
                    if event.get("error"):
                        report.error = event["error"]
                        remaining = []
                    deadline = time.monotonic() + LOAD_LIMIT
                elif kind == "start":
                    current = event["name"]
                    deadline = time.monotonic() + limit + grace
                elif kind == "result":
                    result = FunctionResult.from_dict(event["result"])
                    results[result.name] = result
                    uses[result.name] = set(event.get("uses", []))
                    if result.name in remaining:
                        remaining.remove(result.name)
                    current = None
                    deadline = time.monotonic() + LOAD_LIMIT
                elif kind == "end":
                    finished = True
    for name in FUNCTIONS:
        if only is None or name in only:
            report.results.append(results.get(name) or FunctionResult(name, module_of(name), MISSING))
    _callee_hints(report, uses)
    return report


def _callee_hints(report: Report, uses: dict[str, set[str]]) -> None:
    failed = {r.name for r in report.failed}
    for r in report.failed:
        culprits = [c for c in CALLEES.get(r.name, ()) if c in failed and c in uses.get(r.name, set())]
        if culprits and r.failure is not None and not r.failure.hint:
            r.failure.hint = (
                f"it calls your {', '.join(culprits)}, which fail{'s' if len(culprits) == 1 else ''} "
                "too: fix that first"
            )


def _crash_message(path: Path, status: int | None, tmp: str) -> str:
    try:
        tail = Path(tmp, "worker.log").read_text(errors="replace").strip().splitlines()[-1:]
    except OSError:  # pragma: no cover
        tail = []
    detail = f": {tail[0]}" if tail else ""
    return f"running {path.name} stopped the grading process (exit status {status}){detail}"
