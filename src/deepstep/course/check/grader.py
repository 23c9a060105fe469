"""Grade learner functions in this process: run the cases, time-limit them, diagnose failures.

:func:`grade_function` grades one function; :func:`grade_namespace` finds the course
functions of a namespace by name and grades each. Time limits use ``SIGALRM`` (a timer
interrupts the learner's Python loops) where available, that is on POSIX in the main
thread; :mod:`deepstep.course.check.runner` adds a watchdog process around it.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import signal
import sysconfig
import threading
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cases import CALLEES, CASES, FUNCTIONS, ORACLES, Case, Skip, adapt_expected, module_of
from .compare import Mismatch, close, first_mismatch
from .mutants import mutants_for
from .report import FAIL, MISSING, PASS, Failure, FunctionResult, Report

__all__ = ["grade_function", "grade_namespace", "find_functions", "DEFAULT_TIME_LIMIT", "OUTPUT_NAMES"]

DEFAULT_TIME_LIMIT = (
    10.0  # seconds per function, all its cases together; the course's loops take < 0.2 s here
)

# Names of the outputs, for messages like "cache[0]" or "dW" instead of "output[1][0]".
OUTPUT_NAMES: dict[str, tuple[str, ...] | str] = {
    "zero_pad": "X_pad",
    "conv_single_step": "Z",
    "conv_forward": ("Z", "cache"),
    "conv_backward": ("dA_prev", "dW", "db"),
    "pool_forward": ("A", "cache"),
    "create_mask_from_window": "mask",
    "distribute_value": "a",
    "pool_backward": "dA_prev",
    "conv_forward_naive": ("out", "cache"),
    "conv_backward_naive": ("dx", "dw", "db"),
    "max_pool_forward_naive": ("out", "cache"),
    "max_pool_backward_naive": "dx",
    "sigmoid": ("A", "cache"),
    "relu": ("A", "cache"),
    "sigmoid_backward": "dZ",
    "relu_backward": "dZ",
    "initialize_parameters": "parameters",
    "initialize_parameters_deep": "parameters",
    "linear_forward": ("Z", "cache"),
    "linear_activation_forward": ("A", "cache"),
    "L_model_forward": ("AL", "caches"),
    "compute_cost": "cost",
    "linear_backward": ("dA_prev", "dW", "db"),
    "linear_activation_backward": ("dA_prev", "dW", "db"),
    "L_model_backward": "grads",
    "update_parameters": "parameters",
    "predict": "p",
    "update_parameters_with_gd": "parameters",
    "random_mini_batches": "mini_batches",
    "initialize_velocity": "v",
    "update_parameters_with_momentum": ("parameters", "v"),
    "initialize_adam": ("v", "s"),
    "update_parameters_with_adam": ("parameters", "v", "s", "v_corrected", "s_corrected"),
    "update_lr": "learning_rate",
    "schedule_lr_decay": "learning_rate",
    "two_layer_model": ("parameters", "costs"),
    "L_layer_model": ("parameters", "costs"),
}

# The backward function that unpacks each forward function's cache.
CACHE_READER = {
    "conv_forward": "conv_backward",
    "pool_forward": "pool_backward",
    "conv_forward_naive": "conv_backward_naive",
    "max_pool_forward_naive": "max_pool_backward_naive",
    "sigmoid": "sigmoid_backward",
    "relu": "relu_backward",
    "linear_forward": "linear_backward",
    "linear_activation_forward": "linear_activation_backward",
    "L_model_forward": "L_model_backward",
}

_PACKAGE_DIR = str(Path(__file__).resolve().parents[2])  # deepstep/
_LIBRARY_DIRS = tuple(
    sorted(
        {
            str(Path(p).resolve())
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if (p := sysconfig.get_paths().get(key))
        }
    )
)


class _Timeout(BaseException):
    """Raised by the timer inside the learner's code (a BaseException: ``except Exception`` cannot eat it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _is_learner_file(filename: str) -> bool:
    if filename.startswith("<frozen") or filename.startswith("<__array_function__"):
        return False
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return True
    return not path.startswith(_PACKAGE_DIR) and not path.startswith(_LIBRARY_DIRS)


@dataclass
class _Error:
    type: str
    message: str
    traceback: list[str]

    def same_as(self, other: _Error) -> bool:
        return self.type == other.type and self.message == other.message

    def line(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


def _error_of(exc: BaseException) -> _Error:
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if _is_learner_file(fr.filename)]
    lines = []
    for fr in frames[-6:]:
        lines.append(f'File "{fr.filename}", line {fr.lineno}, in {fr.name}')
        if fr.line:
            lines.append(f"  {fr.line.strip()}")
    message = " ".join(str(exc).split())
    return _Error(type(exc).__name__, message[:300], lines)


@dataclass
class _Outcome:
    value: Any = None
    error: _Error | None = None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No prints (predict prints its accuracy), no NumPy or Python warnings from the learner's code."""
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Outcome:
    """Call ``fn`` on deep copies of the arguments; an exception becomes an outcome (a timeout propagates)."""
    args, kwargs = copy.deepcopy((args, kwargs))
    try:
        with _quiet():
            return _Outcome(value=fn(*args, **kwargs))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the learner's code may raise anything
        return _Outcome(error=_error_of(exc))


def _same(a: _Outcome, b: _Outcome) -> bool:
    if a.error or b.error:
        return bool(a.error and b.error and a.error.same_as(b.error))
    return close(a.value, b.value)


def _name_path(name: str, where: str) -> str:
    names = OUTPUT_NAMES.get(name, "output")
    if isinstance(names, str):
        return where.replace("output", names, 1)
    if where.startswith("output["):
        k_end = where.index("]")
        k = int(where[7:k_end])
        if k < len(names):
            return names[k] + where[k_end + 1 :]
    return where


def _summary(value: Any, depth: int = 0) -> str:
    if isinstance(value, np.ndarray):
        dtype = "" if value.dtype == np.float64 else f" {value.dtype}"
        return (
            f"array{value.shape}{dtype}"
            if value.size > 6 or value.ndim > 2
            else np.array2string(value, separator=", ", threshold=6).replace("\n", "")
        )
    if isinstance(value, Mapping):
        if all(isinstance(v, int | float | str) for v in value.values()):
            return repr(dict(value))
        return "{" + ", ".join(f"{k}: {_summary(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        if depth >= 1 or len(value) > 4:
            return f"<{type(value).__name__} of {len(value)}>"
        inner = ", ".join(_summary(v, depth + 1) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _describe_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        params = list(inspect.signature(ORACLES[name]).parameters)
    except (TypeError, ValueError):  # pragma: no cover - the oracles are plain functions
        params = []
    parts = []
    for k, value in enumerate(args):
        label = params[k] if k < len(params) else f"arg{k}"
        parts.append(f"{label}={_summary(value)}")
    parts += [f"{k}={_summary(v)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= 400 else text[:397] + "..."


@dataclass
class _CaseResult:
    case: Case
    args: tuple[tuple[Any, ...], dict[str, Any]] | None
    failure: Failure | None
    learner: _Outcome | None = None
    rejected: bool = False  # deepstep and the learner both raised: inputs without a valid result


def _is_empty_output(value: Any) -> bool:
    first = value[0] if isinstance(value, tuple | list) and value else value
    return isinstance(first, np.ndarray) and first.size == 0


def _signature_problem(
    name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        course = inspect.signature(ORACLES[name])
        return (
            f"your {name}{sig} cannot be called as the notebook calls it ({exc}); "
            f"the course's signature is {name}{course}"
        )
    return None


def _run_case(
    name: str,
    fn: Callable[..., Any],
    case: Case,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    namespace: Mapping[str, Any] | None,
) -> _CaseResult:
    call = _describe_call(name, args, kwargs)

    def fail(
        problem: str,
        message: str,
        mismatch: Mismatch | None = None,
        error: _Error | None = None,
        learner: _Outcome | None = None,
    ) -> _CaseResult:
        failure = Failure(case.label, case.kind, problem, message, call)
        if mismatch:
            failure.where, failure.index = mismatch.where, list(mismatch.index) if mismatch.index else None
            failure.got, failure.expected = mismatch.got, mismatch.expected
        if error:
            failure.traceback = error.traceback
        return _CaseResult(case, (args, kwargs), failure, learner)

    if case.gradient is not None:
        forward = namespace.get(case.forward) if namespace is not None and case.forward else None
        if not callable(forward):
            forward = ORACLES[case.forward or name]
        try:
            with _quiet():
                found = case.gradient(fn, forward, copy.deepcopy((args, kwargs)))
        except Exception as exc:  # noqa: BLE001 - the learner's forward or backward raised
            err = _error_of(exc)
            return fail("exception", f"raised {err.line()}", error=err)
        if found:
            return fail("gradient", _name_path(name, found.message), found)
        return _CaseResult(case, (args, kwargs), None)

    problem = _signature_problem(name, fn, args, kwargs)
    if problem:
        return fail("signature", problem)
    learner = _call(fn, args, kwargs)
    expected = _call(ORACLES[name], args, kwargs) if case.oracle else None
    if learner.error:
        if expected is not None and expected.error:
            return _CaseResult(case, (args, kwargs), None, learner, rejected=True)  # both reject these inputs
        return fail("exception", f"raised {learner.error.line()}", error=learner.error, learner=learner)
    if expected is not None and expected.error:
        if _is_empty_output(learner.value):
            return _CaseResult(case, (args, kwargs), None, learner)
        return fail(
            "mismatch",
            f"returned an output for inputs that have no valid result (deepstep raises "
            f"{expected.error.line()}); expected an error or an empty output",
            learner=learner,
        )
    for e in case.expect:
        try:
            got = e.get(learner.value)
        except Exception as exc:  # noqa: BLE001 - the learner's output has another structure
            return fail(
                "published",
                f"cannot read {e.what} from your output: {type(exc).__name__}: {exc}",
                learner=learner,
            )
        want = e.value if isinstance(e.value, Mapping) else np.asarray(e.value)
        found = first_mismatch(got, want, e.what, rtol=0.0, atol=e.atol)
        if found:
            return fail(
                "published", f"{found.message} (the notebook's Expected Output)", found, learner=learner
            )
    if expected is not None:
        want = adapt_expected(name, learner.value, expected.value)
        found = first_mismatch(learner.value, want, "output")
        if found:
            message = _name_path(name, found.message)
            if message.startswith("cache") and name in CACHE_READER:
                message += f" (the cache is what {CACHE_READER[name]} reads: keep the notebook's structure)"
            return fail(
                "mismatch",
                message,
                Mismatch(_name_path(name, found.where), message, found.index, found.got, found.expected),
                learner=learner,
            )
    return _CaseResult(case, (args, kwargs), None, learner)


def _diagnose(name: str, failing: list[_CaseResult]) -> dict[str, str] | None:
    """The catalogued mistake whose outputs equal the learner's on the failing cases, if any."""
    usable = [r for r in failing if r.learner is not None and r.args is not None]
    if not usable:
        return None
    best, best_score = None, 0
    expected = [_call(ORACLES[name], *r.args) if r.case.oracle else None for r in usable]  # type: ignore[misc]
    for mutant in mutants_for(name):
        score = 0
        for k, r in enumerate(usable):
            args, kwargs = r.args  # type: ignore[misc]
            outcome = _call(mutant.fn, args, kwargs)
            also_right = expected[k] is not None and _same(outcome, expected[k])  # type: ignore[arg-type]
            if _same(r.learner, outcome) and not also_right:  # type: ignore[arg-type]
                score += 1
            elif k == 0:
                break  # it must explain the first failure
        if score > best_score:
            best, best_score = mutant, score
    if best is None:
        return None
    return {"name": best.name, "explanation": best.explanation}


def _advice(name: str, rejected: list[_CaseResult]) -> list[str]:
    """Notes for catalogued mistakes that only show on inputs without a valid result (not failures)."""
    notes = []
    for mutant in (m for m in mutants_for(name) if m.advisory):
        for r in rejected:
            if r.learner is not None and r.args is not None and _same(r.learner, _call(mutant.fn, *r.args)):
                notes.append(
                    f"[{mutant.name}] on {r.case.label!r} your function fails with "
                    f"{r.learner.error.line() if r.learner.error else 'an output'}: {mutant.explanation}"
                )
                break
    return notes


def grade_function(
    name: str,
    fn: Callable[..., Any],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    namespace: Mapping[str, Any] | None = None,
) -> FunctionResult:
    """Grade ``fn`` as the course function ``name`` (e.g. ``"conv_forward"``).

    Parameters
    ----------
    name : str
        A course function name (see :data:`deepstep.course.check.cases.FUNCTIONS`).
    fn : callable
        The learner's implementation.
    time_limit : float or None
        Seconds for all the cases together (``None``: no limit).
    namespace : mapping, optional
        Where to find the learner's forward function for the gradient cases (default: deepstep's).
    """
    if name not in CASES:
        raise ValueError(f"not a course function: {name!r} (known: {', '.join(FUNCTIONS)})")
    result = FunctionResult(name, module_of(name), PASS)
    if not callable(fn):
        result.status = FAIL
        result.failure = Failure("-", "-", "signature", f"{name} is a {type(fn).__name__}, not a function")
        return result
    start = time.perf_counter()
    outcomes: list[_CaseResult] = []
    for k, case in enumerate(CASES[name]):
        try:
            args, kwargs = case.make()
        except Skip as skip:
            result.notes.append(f"skipped {case.label!r}: {skip}")
            continue
        result.total += 1
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        try:
            with _time_limit(remaining):
                outcome = _run_case(name, fn, case, args, kwargs, namespace)
        except _Timeout:
            left = len(CASES[name]) - k - 1
            failure = Failure(
                case.label,
                case.kind,
                "timeout",
                f"no result within {time_limit:g} s for all cases (an infinite loop, or loops too slow "
                f"for these small inputs); {left} later case(s) not run",
                _describe_call(name, args, kwargs),
            )
            outcomes.append(_CaseResult(case, None, failure))
            result.total += left
            break
        outcomes.append(outcome)
        if outcome.failure and outcome.failure.problem == "signature":
            result.total += len(CASES[name]) - k - 1
            break
    result.seconds = round(time.perf_counter() - start, 3)
    result.notes.extend(_advice(name, [o for o in outcomes if o.rejected]))
    failing = [o for o in outcomes if o.failure]
    result.passed = sum(o.failure is None for o in outcomes)
    result.failed_cases = [o.case.label for o in failing]
    if failing:
        result.status = FAIL
        result.failure = failing[0].failure
        result.failure.diagnosis = _diagnose(name, [o for o in failing if o.case.gradient is None])
    return result


def _learner_names(fn: Any) -> set[str]:
    """Global names a function's code refers to (nested code objects included)."""
    code = getattr(fn, "__code__", None)
    names: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def find_functions(source: Any) -> dict[str, Callable[..., Any]]:
    """The course functions of a namespace (a dict or a module), by the notebooks' names.

    A package such as :mod:`deepstep.course` is searched with its course submodules
    (``cnn``, ``cs231n``, ``dnn``, ``optim``, ``app``).
    """
    if isinstance(source, types.ModuleType):
        spaces = [vars(source)]
        for sub in ("cnn", "cs231n", "dnn", "optim", "app"):
            module = getattr(source, sub, None)
            if isinstance(module, types.ModuleType):
                spaces.append(vars(module))
    elif isinstance(source, Mapping):
        spaces = [source]
    else:
        raise TypeError(
            f"check takes a namespace (dict, e.g. globals()), a module or a path, got {type(source).__name__}"
        )
    found: dict[str, Callable[..., Any]] = {}
    for name in FUNCTIONS:
        for space in spaces:
            fn = space.get(name)
            if callable(fn):
                found[name] = fn
                break
    return found


def grade_namespace(
    source: Any,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    only: list[str] | None = None,
    label: str | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    on_start: Callable[[str], None] | None = None,
    on_result: Callable[[FunctionResult], None] | None = None,
) -> Report:
    """Grade every course function found in ``source`` (a dict or module); missing ones are MISSING."""
    functions = {k: v for k, v in find_functions(source).items() if k not in exclude}
    space = source if isinstance(source, Mapping) else dict(functions)
    report = Report(label or getattr(source, "__name__", "namespace"))
    names = [n for n in FUNCTIONS if only is None or n in only]
    for name in names:
        fn = functions.get(name)
        if fn is None:
            report.results.append(FunctionResult(name, module_of(name), MISSING))
            continue
        if on_start:
            on_start(name)
        result = grade_function(name, fn, time_limit=time_limit, namespace={**space, **functions})
        report.results.append(result)
        if on_result:
            on_result(result)
    add_callee_hints(report, functions)
    return report


def add_callee_hints(report: Report, functions: Mapping[str, Callable[..., Any]]) -> None:
    """Point a failing function at the failing course functions it calls: fix those first."""
    failed = {r.name for r in report.failed}
    for r in report.failed:
        if r.failure is None or r.failure.hint:
            continue
        uses = _learner_names(functions.get(r.name))
        culprits = [c for c in CALLEES.get(r.name, ()) if c in failed and c in uses]
        if culprits:
            r.failure.hint = (
                f"it calls your {', '.join(culprits)}, which fail{'s' if len(culprits) == 1 else ''} "
                "too: fix that first"
            )
