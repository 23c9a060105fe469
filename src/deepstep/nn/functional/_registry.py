"""The kernel registry: which implementation runs each op (NumPy reference or compiled Numba).

Every op of :mod:`deepstep.nn.functional` that has an accelerated kernel asks :func:`choose` with
a small description of the call (dtype, layout, sizes). The registry holds, per op, an ordered
list of :class:`Implementation`; the first whose ``supports(problem)`` holds runs. The NumPy
reference is always last and supports everything, so it is the fallback. The backward pass runs
the implementation that made the forward's cache (:func:`implementation_of`).

Selection (``DEEPSTEP_KERNELS`` or :func:`set_kernels`):

``numpy``
    The NumPy reference everywhere (nothing else is imported).
``numba``
    The compiled kernels wherever one supports the call; needs numba (``pip install deepstep[fast]``).
``auto`` (default)
    The compiled kernels when numba is installed *and* they pay for themselves: at once when
    the compiled cache on disk is warm (a previous run compiled them), else only after the NumPy
    kernels that a compiled one would replace have run for :data:`COMPILE_BREAK_EVEN_S` seconds
    in this process (ski-rental rule: a job never pays for a compile it does not amortize, and
    a long job pays it once, then runs 2-3x faster). Without numba: NumPy.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._kernel_cache import is_warm

__all__ = ["Implementation", "register", "choose", "implementation_of", "set_kernels", "get_kernels",
           "numba_installed", "active_kernels", "describe", "KERNEL_MODES"]

KERNEL_MODES = ("auto", "numpy", "numba")
ENV = "DEEPSTEP_KERNELS"
# A cold compile of the kernels one network uses took 10-30 s (BENCHMARKS.md, "compile"); the
# NumPy time after which `auto` compiles is set to the upper end, so that a job compiles only once
# it has already run at least as long as the compile takes.
COMPILE_BREAK_EVEN_S = 30.0


@dataclass(frozen=True)
class Implementation:
    """One implementation of an op.

    Attributes
    ----------
    name : str
        ``"numpy"`` or ``"numba"``.
    supports : callable
        ``supports(problem) -> bool`` for the call's description (a dict: dtype, layout, sizes).
    forward, backward : callable
        The op's two functions, ``forward(...) -> (out, cache)`` and ``backward(dout, cache)``.
    cache_type : type
        The type of the caches ``forward`` returns (so the backward finds its implementation).
    """

    name: str
    supports: Callable[[dict[str, Any]], bool]
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    cache_type: type


@dataclass
class _State:
    mode: str | None = None  # None: read the environment on first use
    ops: dict[str, list[Implementation]] = field(default_factory=dict)
    loaders: dict[str, Callable[[], None]] = field(default_factory=dict)
    numpy_seconds: float = 0.0
    warm: dict[str, bool] = field(default_factory=dict)  # overrides of _kernel_cache.is_warm (tests)
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def numba_installed() -> bool:
    """Whether numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def set_kernels(mode: str) -> None:
    """Choose the kernels: ``"auto"``, ``"numpy"`` or ``"numba"`` (overrides ``DEEPSTEP_KERNELS``)."""
    if mode not in KERNEL_MODES:
        raise ValueError(f"kernels must be one of {', '.join(KERNEL_MODES)}; got {mode!r}")
    if mode == "numba" and not numba_installed():
        raise ValueError("kernels='numba' needs numba: pip install 'deepstep[fast]'")
    _state.mode = mode


def get_kernels() -> str:
    """The selected mode: ``set_kernels``' value, else ``DEEPSTEP_KERNELS``, else ``"auto"``."""
    if _state.mode is None:
        value = os.environ.get(ENV, "auto").strip().lower() or "auto"
        if value not in KERNEL_MODES:
            raise ValueError(f"{ENV} must be one of {', '.join(KERNEL_MODES)}; got {value!r}")
        if value == "numba" and not numba_installed():
            raise ValueError(f"{ENV}=numba needs numba: pip install 'deepstep[fast]'")
        _state.mode = value
    return _state.mode


def register(op: str, impl: Implementation) -> None:
    """Add ``impl`` to ``op``'s list, before the NumPy reference (registered first, kept last)."""
    impls = _state.ops.setdefault(op, [])
    if impl.name == "numpy":
        impls.append(impl)
    else:
        impls.insert(max(len(impls) - 1, 0) if impls and impls[-1].name == "numpy" else len(impls), impl)


def register_loader(name: str, loader: Callable[[], None]) -> None:
    """``loader()`` registers the implementations called ``name``; it runs on first need only."""
    _state.loaders[name] = loader


def _load(name: str) -> bool:
    loader = _state.loaders.pop(name, None)
    if loader is not None:
        loader()
    return True


def _cache_warm(dtype: str) -> bool:
    """Whether compiled kernels of ``dtype`` exist (this process compiled them, or the on-disk cache)."""
    if dtype in _state.warm:  # tests pin it
        return _state.warm[dtype]
    return is_warm(dtype)


def _accelerated_allowed(problem: dict[str, Any]) -> bool:
    mode = get_kernels()
    if mode == "numpy" or not numba_installed():
        return False
    if mode == "numba":
        return True
    return _state.numpy_seconds >= COMPILE_BREAK_EVEN_S or _cache_warm(problem["dtype"])


def choose(op: str, problem: dict[str, Any]) -> Implementation:
    """The implementation of ``op`` that runs for ``problem`` (see the module docstring)."""
    if _accelerated_allowed(problem) and "numba" in _state.loaders:
        _load("numba")
    impls = _state.ops[op]
    if not _accelerated_allowed(problem):
        return impls[-1]
    for impl in impls:
        if impl.supports(problem):
            return impl
    return impls[-1]


def implementation_of(op: str, cache: Any) -> Implementation | None:
    """The implementation whose forward made ``cache`` (None if no registered one did)."""
    for impl in _state.ops.get(op, []):
        if isinstance(cache, impl.cache_type):
            return impl
    return None


def charge_numpy(seconds: float) -> None:
    """Count NumPy time spent where a compiled kernel could have run (the ``auto`` rule)."""
    with _state.lock:
        _state.numpy_seconds += seconds


def timing_numpy(problem: dict[str, Any]) -> bool:
    """Whether ``auto`` is still deciding, so NumPy calls that numba could replace are timed."""
    return (get_kernels() == "auto" and _state.numpy_seconds < COMPILE_BREAK_EVEN_S
            and numba_installed() and problem.get("layout") == "NHWC")


def active_kernels(dtype: str = "float32") -> str:
    """Which kernels an NHWC convolution of ``dtype`` would use now: ``"numpy"`` or ``"numba"``."""
    return "numba" if _accelerated_allowed({"dtype": dtype}) else "numpy"


def describe() -> str:
    """One line for ``deepstep info``: the mode, what runs, numba's version and cache state."""
    mode = get_kernels()
    if not numba_installed():
        return f"kernels: numpy ({mode}; numba not installed: pip install 'deepstep[fast]')"
    from ._numba import cache_dir, numba_version, threads

    warm = ", ".join(f"{d} {'warm' if _cache_warm(d) else 'cold'}" for d in ("float32", "float64"))
    runs = {"numpy": "numpy", "numba": "numba"}.get(mode) or (
        "numba" if _cache_warm("float32") else
        f"numpy until {COMPILE_BREAK_EVEN_S:g} s of kernel time, then numba")
    return (f"kernels: {runs} ({mode}; numba {numba_version()}, {threads()} threads, "
            f"cache {cache_dir()}: {warm})")


class NumpyTimer:
    """``with NumpyTimer(problem):`` charges the block's time to the ``auto`` rule when it applies."""

    def __init__(self, problem: dict[str, Any]) -> None:
        self.active = timing_numpy(problem)

    def __enter__(self) -> NumpyTimer:
        if self.active:
            self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            charge_numpy(time.perf_counter() - self.start)
