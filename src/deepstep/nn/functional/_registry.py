"""The kernel registry: which implementation runs each op (NumPy reference or compiled Numba).

Every op of :mod:`deepstep.nn.functional` that has an accelerated kernel asks :func:`choose` with
a small description of the call (dtype, layout, sizes). The registry holds, per op, an ordered
list of :class:`Implementation`; the first whose ``supports(problem)`` holds runs. The NumPy
reference is always last and supports everything, so it is the fallback. The backward pass runs
the implementation that made the forward's cache (:func:`implementation_of`); ReLU, whose cache is its
input array whichever implementation ran, chooses again for its backward (both give the same bits).

Selection (``DEEPSTEP_KERNELS`` or :func:`set_kernels`):

``numpy``
    The NumPy reference everywhere (nothing else is imported).
``numba``
    The compiled kernels wherever one supports the call; needs numba (``pip install deepstep[fast]``).
``auto`` (default)
    The compiled kernels when numba is installed and already compiled: at once when the on-disk
    cache is warm (a previous run compiled them). On a cold cache the job runs on NumPy; once
    it has spent :data:`BACKGROUND_COMPILE_AFTER_S` seconds in the NumPy convolutions (it is not
    a tiny job), a low-priority background process compiles the kernels into the cache
    (:mod:`._numba.warmup`, about 20 s of one core for float32) while the job goes on with NumPy, and the job
    switches to the compiled kernels when they are there. A job never waits for a compile.
    Without numba: NumPy.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._kernel_cache import cache_dir, is_warm

__all__ = ["Implementation", "register", "choose", "implementation_of", "set_kernels", "get_kernels",
           "numba_installed", "active_kernels", "describe", "KERNEL_MODES"]

KERNEL_MODES = ("auto", "numpy", "numba")
ENV = "DEEPSTEP_KERNELS"
# Seconds of NumPy convolution time after which `auto` starts the background compile: a job that
# short (a few epochs of the course's small networks) would not get much of the compiled kernels'
# 2x, and is spared the second core's compile (a cold compile of the float32 set took 19.6 s of
# CPU, 45 s before the kernels were split into serial bodies and parallel drivers; BENCHMARKS.md).
BACKGROUND_COMPILE_AFTER_S = 10.0


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
    compilers: dict[str, Any] = field(default_factory=dict)  # dtype -> background compile process
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


def _start_background_compile(dtype: str) -> None:
    """Compile ``dtype``'s kernels into the on-disk cache in a low-priority process (once)."""
    if dtype in _state.compilers:
        return
    env = dict(os.environ, NUMBA_NUM_THREADS="1", DEEPSTEP_KERNELS="numba")
    print(f"deepstep: compiling the {dtype} kernels in the background (first run only; cached in "
          f"{cache_dir()}); NumPy kernels meanwhile", file=sys.stderr, flush=True)
    try:
        _state.compilers[dtype] = subprocess.Popen(
            [sys.executable, "-m", "deepstep.nn.functional._numba.warmup", dtype], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        _state.compilers[dtype] = None  # no background compile: NumPy it stays


def _accelerated_allowed(problem: dict[str, Any]) -> bool:
    mode = get_kernels()
    if mode == "numpy" or not numba_installed():
        return False
    if mode == "numba":
        return True
    dtype = problem.get("dtype", "float32")
    if _cache_warm(dtype):
        return True
    if _state.numpy_seconds >= BACKGROUND_COMPILE_AFTER_S and dtype in ("float32", "float64"):
        _start_background_compile(dtype)
    return False


def choose(op: str, problem: dict[str, Any]) -> Implementation:
    """The implementation of ``op`` that runs for ``problem`` (see the module docstring)."""
    impls = _state.ops[op]
    if not _accelerated_allowed(problem):
        return impls[-1]
    if "numba" in _state.loaders:
        _load("numba")
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


def compiled_threads() -> int:
    """Threads the compiled kernels run on, or 0 while none has been loaded in this process."""
    numba_kernels = sys.modules.get(f"{__package__}._numba")
    return numba_kernels.threads() if numba_kernels is not None else 0


def charge_numpy(seconds: float) -> None:
    """Count NumPy time spent where a compiled kernel could have run (the ``auto`` rule)."""
    with _state.lock:
        _state.numpy_seconds += seconds


def timing_numpy(problem: dict[str, Any]) -> bool:
    """Whether ``auto`` is still deciding, so NumPy calls that numba could replace are timed."""
    return (get_kernels() == "auto" and _state.numpy_seconds < BACKGROUND_COMPILE_AFTER_S
            and numba_installed())


def active_kernels(dtype: str = "float32") -> str:
    """Which kernels an NHWC convolution of ``dtype`` would use now: ``"numpy"`` or ``"numba"``."""
    return "numba" if _accelerated_allowed({"dtype": dtype}) else "numpy"


def describe() -> str:
    """One line for ``deepstep info``: the mode, what runs, numba's version and cache state."""
    mode = get_kernels()
    if not numba_installed():
        return f"kernels: numpy ({mode}; numba not installed: pip install 'deepstep[fast]')"
    from ._numba import cache_dir, numba_version, threading_layer, threads

    warm = ", ".join(f"{d} {'warm' if _cache_warm(d) else 'cold'}" for d in ("float32", "float64"))
    runs = {"numpy": "numpy", "numba": "numba"}.get(mode) or (
        "numba" if _cache_warm("float32") else
        f"numpy; after {BACKGROUND_COMPILE_AFTER_S:g} s of convolutions a background compile, then numba")
    return (f"kernels: {runs} ({mode}; numba {numba_version()}, {threads()} threads on {threading_layer()}, "
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
