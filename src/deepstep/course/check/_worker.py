"""The grading subprocess: load a learner's .py file or notebook, grade it, report JSON lines on a pipe.

Run by :mod:`deepstep.course.check.runner` as ``python -m deepstep.course.check._worker``
with the working directory set to a temporary folder. An audit hook refuses, from the
learner's Python code, any write outside that folder and any new process (a best effort:
native libraries that write by themselves are not seen).
"""

from __future__ import annotations

import argparse
import builtins
import json
import linecache
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import app
from .cases import FUNCTIONS, ORACLES, module_of
from .grader import DEFAULT_TIME_LIMIT, _learner_names, _time_limit, _Timeout, find_functions, grade_function
from .report import MISSING, FunctionResult

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.link",
    "os.symlink",
}
_TWO_PATH_EVENTS = {"os.rename"}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn"}
_MAGIC = re.compile(r"^(\s*)[%!]")


def install_write_guard(allowed: list[str]) -> None:
    """Refuse (PermissionError) writes outside ``allowed`` folders, and new processes, from now on."""
    roots = tuple(os.path.realpath(a) for a in allowed)

    def inside(path: Any) -> bool:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return True  # a file descriptor: already open
        return real == os.devnull or any(real == r or real.startswith(r + os.sep) for r in roots)

    def refuse(what: str) -> None:
        raise PermissionError(
            f"deepstep check: {what} is not allowed while grading (only the temporary folder "
            f"{roots[0]} may be written)"
        )

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            writing = (
                any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
            )
            if writing and not inside(path):
                refuse(f"writing {os.fsdecode(path)!r}")
        elif event in _PATH_EVENTS:
            if args and not isinstance(args[0], int) and not inside(args[0]):
                refuse(f"{event} on {os.fsdecode(args[0])!r}")
        elif event in _TWO_PATH_EVENTS:
            if not (inside(args[0]) and inside(args[1])):
                refuse(f"{event} {args[0]!r} -> {args[1]!r}")
        elif event in _PROCESS_EVENTS:
            refuse(f"starting a process ({event})")

    sys.addaudithook(hook)


def _error_line(exc: BaseException, filename: str) -> str:
    line = ""
    for fr in traceback.extract_tb(exc.__traceback__):
        if fr.filename == filename:
            line = f" (line {fr.lineno}: {(fr.line or '').strip()})"
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message}{line}" if message else f"{type(exc).__name__}{line}"


def _run(source: str, filename: str, namespace: dict[str, Any], limit: float) -> str | None:
    """Compile and run ``source`` as ``filename``; return None, or a one-line description of its failure."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        text = (exc.text or "").strip()
        return f"SyntaxError: {exc.msg} (line {exc.lineno}: {text})" if text else f"SyntaxError: {exc.msg}"
    try:
        with _time_limit(limit):
            exec(code, namespace)  # noqa: S102 - grading the learner's code is the point; it runs sandboxed here
    except _Timeout:
        return f"still running after {limit:g} s: stopped"
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - report anything the learner's code raises
        return _error_line(exc, filename)
    return None


def _notebook_cells(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in data.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def load(
    path: Path, namespace: dict[str, Any], limit: float, display: str | None = None
) -> tuple[list[str], str | None]:
    """Run a .py file (fatal only if it cannot compile) or a notebook's code cells in order (never fatal)."""
    notes: list[str] = []
    if path.suffix == ".ipynb":
        for k, source in enumerate(_notebook_cells(path), start=1):
            lines = source.splitlines()
            magics = [line.strip() for line in lines if _MAGIC.match(line)]
            if magics:
                lines = [
                    _MAGIC.sub(r"\1pass  # ", line, count=1) if _MAGIC.match(line) else line for line in lines
                ]
                notes.append(f"cell {k}: skipped IPython line(s) {', '.join(magics)}")
            problem = _run("\n".join(lines) + "\n", f"{path.name}, cell {k}", namespace, limit)
            if problem:
                notes.append(f"cell {k} failed, continuing: {problem}")
        return notes, None
    problem = _run(path.read_text(encoding="utf-8"), display or str(path), namespace, limit)
    if problem and problem.startswith("SyntaxError"):
        return notes, f"{path.name} cannot be compiled: {problem}"
    if problem:
        notes.append(
            f"running {path.name} failed (functions defined before that point are graded): {problem}"
        )
    return notes, None


def inject_helpers(namespace: dict[str, Any], found: dict[str, Callable[..., Any]]) -> list[str]:
    """Give deepstep's version of course helpers the learner's functions call but the file lacks.

    The notebooks import ``sigmoid``, ``relu`` (and in the application notebook every step
    function) from utility modules that are not there outside the course platform.
    """
    used: set[str] = set()
    for fn in found.values():
        used |= _learner_names(fn)
    injected = []
    for name in sorted(used & set(FUNCTIONS) - set(found)):
        if name == "initialize_parameters_deep" and "L_layer_model" in found:
            namespace[name] = app.initialize_parameters_deep_app  # the application notebook's utility version
        else:
            namespace[name] = ORACLES[name]
        injected.append(name)
    return injected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deepstep.course.check._worker")
    parser.add_argument("--source", required=True)
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT)
    parser.add_argument("--cell-limit", type=float, default=60.0)
    parser.add_argument("--only", default="")
    parser.add_argument("--display", default=None, help="the name shown in tracebacks")
    args = parser.parse_args(argv)

    def emit(event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(args.events_fd, data) :]

    install_write_guard([os.getcwd()])
    path = Path(args.source)
    sys.path.insert(0, str(path.parent))
    namespace: dict[str, Any] = {"__name__": "__learner__", "__file__": str(path), "__builtins__": builtins}
    try:
        notes, error = load(path, namespace, args.cell_limit, args.display)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        notes, error = [], f"cannot read {path}: {exc}"
    found = find_functions(namespace) if error is None else {}
    injected = inject_helpers(namespace, found) if found else []
    if injected:
        notes.append(
            "using deepstep's " + ", ".join(injected) + " for the course helper(s) your code calls but "
            "does not define (the notebooks import them from utility modules)"
        )
    emit({"event": "loaded", "notes": notes, "error": error})
    if error is not None:
        emit({"event": "end"})
        return 0
    names = [n for n in args.only.split(",") if n] or list(FUNCTIONS)
    for name in names:
        fn = found.get(name)
        if fn is None:
            emit(
                {
                    "event": "result",
                    "result": FunctionResult(name, module_of(name), MISSING).to_dict(),
                    "uses": [],
                }
            )
            continue
        emit({"event": "start", "name": name})
        result = grade_function(name, fn, time_limit=args.time_limit, namespace=namespace)
        emit({"event": "result", "result": result.to_dict(), "uses": sorted(_learner_names(fn))})
    emit({"event": "end"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
