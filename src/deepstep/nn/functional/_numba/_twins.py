"""Serial twins of the parallel kernels: one Python source, two compiled functions.

A ``prange`` loop compiled with ``parallel=True`` starts a parallel region on every call. On the
workqueue threading layer that cost tens of microseconds even on one thread (measured here: an
empty region of 64 tasks 65 us on 1 thread, 72 us on 2; the same loop compiled serially 0.3 us).
On the OpenMP layer with sleeping workers (the default; see the package docstring) back-to-back regions cost
1.3-1.7 us, but waking a worker that went to sleep costs tens of microseconds on this VM (a 2.5 M
multiply-add convolution: 88 us serial, 181 us parallel on 2 threads). Each driver is therefore
also compiled without ``parallel`` (``prange`` then runs as ``range``: the same tasks in the same
order, so the same bits), and the callers run that twin on one thread and for small problems
(the package's :func:`serial`).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from numba import njit

__all__ = ["compile_as", "twins"]


def compile_as(py_func: Callable[..., Any], name: str, parallel: bool) -> Any:
    """``py_func`` compiled as ``name`` (its own entry in Numba's on-disk cache, keyed by the name)."""
    twin = types.FunctionType(py_func.__code__, py_func.__globals__, name)
    twin.__qualname__ = name
    twin.__doc__ = py_func.__doc__
    return njit(parallel=parallel, cache=True, nogil=True)(twin)


def twins(py_func: Callable[..., Any], name: str) -> tuple[Any, Any]:
    """``(parallel, serial)``: ``py_func`` compiled as ``name`` (``parallel=True``) and ``name_serial``."""
    return compile_as(py_func, name, True), compile_as(py_func, f"{name}_serial", False)
