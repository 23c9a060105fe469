"""Numba set-up for the compiled kernels: cache folder, threading layer, loading the kernels.

Importing this package imports Numba; :mod:`.._registry` imports it only when numba is installed
and the kernels are selected. What it decides, once per process:

- **Cache folder.** Compiled kernels are cached on disk (``cache=True``) in ``NUMBA_CACHE_DIR`` if
  the user set it, else in ``$XDG_CACHE_HOME/deepstep/numba`` (``~/.cache/deepstep/numba``). A cold
  compile of every kernel of one dtype takes tens of seconds; loading them from a warm cache a
  fraction of a second (BENCHMARKS.md).
- **Threading layer.** Unless the user chose one (``NUMBA_THREADING_LAYER`` or its priority),
  OpenMP where Numba can load it, else ``workqueue``. Unless the user set ``OMP_WAIT_POLICY`` or
  ``GOMP_SPINCOUNT``, OpenMP's workers are started with ``GOMP_SPINCOUNT`` = :data:`SPIN_COUNT`
  (poll ~0.4 ms, then sleep), and the variable is put back as it was once they run (other OpenMP
  libraries in the process read it when they load). Where another library loaded GNU OpenMP first
  (PyTorch), its settings stay: measured, resnet_small on 2 threads with PyTorch imported first,
  14.9-16.4 ms with ``GOMP_SPINCOUNT=20000`` set before the import, 15.1-21.7 ms without (the
  machine's noise). Earlier measurements, with workers that slept at once (``OMP_WAIT_POLICY=passive``,
  the default until the load check below made the kernels serial beside a busy process), with
  ``benchmarks/bench_threading.py`` (BENCHMARKS.md, "Compiled kernels, second pass"),
  training steps on 2 threads, ms, mnist_cnn / signs_convnet: workqueue 13.1-14.2 / 15.7-17.1,
  OpenMP passive 7.5-8.0 / 10.8-12.6; beside a process keeping one core busy (1 thread: 12.0 /
  14.4): workqueue 12.7 / 14.9, OpenMP passive 12.2 / 14.3, OpenMP spinning (its default) 17.0 /
  21.4. A parallel region on workqueue cost 65-72 us even on one thread. GNU OpenMP does not
  survive ``fork``: a child process runs only the serial twins (:func:`serial`), whatever the
  layer. deepstep calls the kernels from the calling thread only (workqueue must not be entered
  from two threads at once).
- **Thread count.** :func:`threads` follows deepstep's own setting (:func:`..set_num_threads`) or
  BLAS' (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``, default every CPU), whichever is larger,
  capped by Numba's pool and by the CPUs that other processes leave free (:mod:`._load`).
  Results do not depend on it (see :mod:`.conv`).
- **SLP vectorization** is switched on while our kernels compile (Numba's default is off): the
  register blocks of :mod:`.._numba_codegen` are only vectorized by LLVM's SLP pass (5x slower without).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numba

from .. import _numba_codegen as _codegen
from .. import _parallel
from .._kernel_cache import cache_dir, is_warm, mark_warm
from ..conv import blas_threads
from . import _load

__all__ = ["cache_dir", "compiling", "generated", "threads", "serial", "twin", "forcing_twins",
           "wide_registers", "numba_version", "threading_layer", "note_compiling", "is_warm", "mark_warm"]

_lock = threading.Lock()
_generated: ModuleType | None = None
_told = False
_threads_set = 0


_in_forked_child = False
# libgomp's idle workers poll this many times (~0.4 ms here) before they sleep, so that the next
# parallel region of a training step finds them awake: waking a sleeping worker costs tens of
# microseconds on this VM, as much as a small convolution saves on 2 threads. In-process, 1 / 2
# threads alternating, resnet_small (batch 32, 64x64x3) steps with the parallel thresholds at an
# eighth, ms: sleeping workers (OMP_WAIT_POLICY=passive) 18.7 / 21.6, 5000 polls 19.3 / 16.4,
# 20000 19.4 / 15.6, 50000 19.5 / 15.6. Beside a busy process the kernels run serially (:mod:`._load`),
# so no worker polls there.
SPIN_COUNT = 20000


def _after_fork_in_child() -> None:
    global _in_forked_child
    _in_forked_child = True


def _configure() -> None:
    if not numba.config.CACHE_DIR:
        numba.config.CACHE_DIR = str(cache_dir())
    user_chose = "NUMBA_THREADING_LAYER" in os.environ or "NUMBA_THREADING_LAYER_PRIORITY" in os.environ
    if not user_chose and numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "workqueue", "tbb"]
    os.register_at_fork(after_in_child=_after_fork_in_child)
    user_wait = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    if not user_wait:
        os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    openmp = _global_openmp()
    before = openmp[0]() if openmp else None
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)  # loads the layer, starts its workers
    finally:
        if not user_wait:
            os.environ.pop("GOMP_SPINCOUNT", None)
        if openmp and before is not None:
            openmp[1](before)


def _global_openmp() -> tuple[Any, Any] | None:
    """``(omp_get_max_threads, omp_set_num_threads)`` of an OpenMP runtime already in the process's
    global symbols (PyTorch's libgomp), if any.

    Numba's OpenMP layer sets the thread count of the runtime its symbols resolve to when it starts
    its workers; where PyTorch's libgomp came first, that was PyTorch's: ``torch.set_num_threads(1)``
    then ``torch.get_num_threads() == 2`` after deepstep's first compiled kernel, and the training
    benchmark's "1 thread" PyTorch rows ran on 2 threads (mnist_cnn's step 12.9 ms wall, 25.7 ms CPU).
    The count is put back after the layer loads.
    """
    try:
        lib = ctypes.CDLL(None)
        return lib.omp_get_max_threads, lib.omp_set_num_threads
    except (OSError, AttributeError, TypeError):  # TypeError: no process handle by None (Windows)
        return None


_configure()


def threading_layer() -> str:
    """The Numba threading layer the parallel kernels run on (``omp``, ``workqueue`` or ``tbb``)."""
    return numba.threading_layer()


def numba_version() -> str:
    return numba.__version__


@functools.cache
def wide_registers() -> bool:
    """Whether the kernels compile for 32 vector registers (AVX-512): Numba's target is this CPU
    unless ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` say otherwise (then: assume not)."""
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return False
    try:
        from llvmlite import binding

        return bool(binding.get_host_cpu_features().get("avx512f", False))
    except Exception:  # noqa: BLE001 - any failure: the portable choice
        return False


def threads() -> int:
    """Threads for the parallel kernels: max(deepstep's setting, BLAS threads), capped by Numba's pool
    and by the CPUs other processes leave free (:mod:`._load`)."""
    wanted = max(1, min(max(_parallel.get_num_threads(), blas_threads()), numba.config.NUMBA_NUM_THREADS))
    return wanted if wanted == 1 else min(wanted, _load.free_cpus())


_forced: bool | None = None  # set by `forcing_twins` (the warm-up compiles both twins)

# A new array of at least this many bytes comes straight from mmap (glibc's largest threshold), and
# its pages fault on first write. Two threads faulting them were slow here: the gradient of a max
# pooling into a new 32 MiB float64 array took 7-37 ms on 2 threads, 3.9-5.4 ms on one (into reused
# memory: 1.4-2.0 ms and 2.1-2.9 ms). Memory-bound kernels writing such an array run serially.
FRESH_PAGES_BYTES = 32 << 20


def serial(work: int, parallel_min: int, new_bytes: int = 0) -> bool:
    """Whether a kernel runs its serial twin (:mod:`._twins`): on one thread, for ``work`` below
    ``parallel_min`` (where a parallel region costs more than it saves), or when a memory-bound
    kernel writes a new array of ``new_bytes >= FRESH_PAGES_BYTES``."""
    if _in_forked_child:  # GNU OpenMP kills a forked child that starts a parallel region
        return True
    if _forced is not None:
        return _forced
    return work < parallel_min or new_bytes >= FRESH_PAGES_BYTES or threads() == 1


def twin(kernel: Any, work: int, parallel_min: int, new_bytes: int = 0) -> Any:
    """``kernel`` (a parallel driver) or its serial twin ``<name>_serial`` from the same module, as
    :func:`serial` decides for ``work``, ``parallel_min`` and ``new_bytes``."""
    if not serial(work, parallel_min, new_bytes):
        return kernel
    return getattr(sys.modules[kernel.py_func.__module__], f"{kernel.__name__}_serial")


@contextlib.contextmanager
def forcing_twins(serial_twins: bool) -> Iterator[None]:
    """Run every kernel's serial twin (``True``) or parallel driver (``False``) whatever the size."""
    global _forced
    before, _forced = _forced, serial_twins
    try:
        yield
    finally:
        _forced = before


@contextlib.contextmanager
def compiling() -> Iterator[None]:
    """Run kernels with the SLP vectorizer on for any compilation they trigger, at ``threads()``.

    One kernel call at a time: the context holds a lock. (A class-based context saved 0.6 us a call but
    left the lock taken if Ctrl-C landed between its acquire and its ``try``; ``with _lock`` cannot.)
    """
    global _threads_set
    with _lock:
        before = numba.config.SLP_VECTORIZE
        numba.config.SLP_VECTORIZE = 1
        wanted = threads()
        if wanted != _threads_set:  # numba.set_num_threads costs ~0.1 ms a call
            numba.set_num_threads(wanted)
            _threads_set = wanted
        try:
            yield
        finally:
            numba.config.SLP_VECTORIZE = before


def note_compiling(what: str) -> None:
    """Tell the user once per process that kernels are being compiled (cold cache only)."""
    global _told
    if not _told:
        _told = True
        print(f"deepstep: compiling {what} kernels (first run only; cached in {cache_dir()})",
              file=sys.stderr, flush=True)


def generated() -> ModuleType:
    """The generated register-blocked kernels (:mod:`.._numba_codegen`), written once into the cache.

    The file name carries a hash of the source, so a new deepstep writes a new file and an old
    cache entry is never used for new code; rewriting an unchanged file is avoided because Numba's
    cache is keyed by the file's modification time.
    """
    global _generated
    if _generated is None:
        text = _codegen.source()
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        folder = cache_dir() / "src"
        path = folder / f"deepstep_kernels_{digest}.py"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(f"deepstep_kernels_{digest}", path)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        # Registered before it runs: Numba names the module of cached functions and imports it by
        # that name when it loads them from the cache.
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _generated = module
    return _generated
