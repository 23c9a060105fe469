"""Grade a learner's own implementation of the course functions, and say what is wrong.

Three ways in:

- ``deepstep check PATH`` on the command line (a ``.py`` file or a notebook ``.ipynb``);
- ``deepstep.course.check(x)`` where ``x`` is a namespace (``globals()`` in a notebook), a
  module, or the path of a file;
- ``deepstep.course.check.conv_forward(my_conv_forward)``: one function.

Every function found under a course name (all of :mod:`~deepstep.course.cnn`,
:mod:`~deepstep.course.cs231n`, :mod:`~deepstep.course.dnn`, :mod:`~deepstep.course.optim`
and the models of :mod:`~deepstep.course.app`) is run on the notebooks' published cases,
on edge cases they miss and, for backward functions, against numerical gradients of the
learner's own forward function. The first failing case is reported with its arguments, the
index and values of the first mismatch, and the name of the known mistake
(:mod:`~deepstep.course.check.mutants`) whose output the learner's equals.

A file is run in a subprocess, in a temporary folder, with a time limit per function;
a namespace or module is graded in this process (the time limit then needs the main thread).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cases import FUNCTIONS, MODULES
from .grader import DEFAULT_TIME_LIMIT, grade_function, grade_namespace
from .mutants import MUTANTS
from .report import FAIL, MISSING, PASS, Failure, FunctionResult, Report

__all__ = [
    "check",
    "check_function",
    "FUNCTIONS",
    "MODULES",
    "MUTANTS",
    "Report",
    "FunctionResult",
    "Failure",
    "PASS",
    "FAIL",
    "MISSING",
    "DEFAULT_TIME_LIMIT",
]


def check(
    source: Any, *, time_limit: float | None = DEFAULT_TIME_LIMIT, only: list[str] | None = None
) -> Report:
    """Grade the course functions found in ``source``.

    Parameters
    ----------
    source : dict, module, str or path
        ``globals()`` of a notebook, a module (``deepstep.course`` itself works), or the path
        of a ``.py`` file or ``.ipynb`` notebook (run in a subprocess, in a temporary folder).
    time_limit : float or None
        Seconds per function, all its cases together.
    only : list of str, optional
        Grade only these course functions.

    Returns
    -------
    Report
        ``report.passed`` is True when every function found passes; ``print(report)`` (or
        the notebook's display) shows one line per function and the failures' details.
    """
    if only is not None:
        unknown = [n for n in only if n not in FUNCTIONS]
        if unknown:
            raise ValueError(f"only: not course functions: {', '.join(unknown)}")
    if isinstance(source, str | os.PathLike):
        from .runner import grade_file

        return grade_file(Path(source), time_limit=time_limit, only=only)
    return grade_namespace(source, time_limit=time_limit, only=only)


def check_function(
    name: str,
    fn: Callable[..., Any],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    namespace: dict[str, Any] | None = None,
) -> Report:
    """Grade one function ``fn`` as the course function ``name``; a one-line :class:`Report`."""
    result = grade_function(name, fn, time_limit=time_limit, namespace=namespace)
    return Report(
        f"{name} ({getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', name)})", [result]
    )


def _function_checker(name: str) -> Callable[..., Report]:
    def checker(
        fn: Callable[..., Any],
        *,
        time_limit: float | None = DEFAULT_TIME_LIMIT,
        namespace: dict[str, Any] | None = None,
    ) -> Report:
        return check_function(name, fn, time_limit=time_limit, namespace=namespace)

    checker.__name__ = checker.__qualname__ = name
    checker.__doc__ = f"Grade a learner's ``{name}``: ``deepstep.course.check.{name}(my_{name})``."
    return checker


class _CheckModule(types.ModuleType):
    """This module, callable: ``deepstep.course.check(ns)``, with one attribute per course function."""

    def __call__(
        self, source: Any, *, time_limit: float | None = DEFAULT_TIME_LIMIT, only: list[str] | None = None
    ) -> Report:
        return check(source, time_limit=time_limit, only=only)

    def __getattr__(self, name: str) -> Any:
        if name in FUNCTIONS:
            return _function_checker(name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *FUNCTIONS})


sys.modules[__name__].__class__ = _CheckModule
