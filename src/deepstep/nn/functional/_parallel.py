"""Batch chunks on a few threads: deepstep's own, optional, intra-op parallelism.

The convolution works on independent chunks of the batch (see :mod:`.conv`). NumPy releases
the GIL in the copies, ufuncs and matrix products a chunk is made of, so chunks can run on
several Python threads at once. Only OpenBLAS uses the second core otherwise, and only inside
the matrix products (the copies around them stay serial).

``set_num_threads(n)`` with ``n > 1`` runs the chunks on ``n`` threads, and limits BLAS to
one thread while they run (so that ``n`` chunks never start ``n * blas_threads`` threads).
That limit needs the optional package threadpoolctl (``pip install threadpoolctl``; it comes
with scikit-learn). Without it, or with ``n == 1`` (the default), chunks run one after the
other exactly as before.

What is guaranteed (and tested, ``tests/nn/functional/test_fn_parallel.py``), on one machine
with one BLAS build:

* The same call with the same settings (chunk threads, BLAS threads, workspace limit) gives
  bitwise the same result, run after run.
* Any chunk-thread count ``n > 1`` gives bitwise the result of the serial path run with BLAS
  on one thread (``threadpoolctl.threadpool_limits(1)``), for the same chunking (the workspace
  limit, or ``OPENBLAS_NUM_THREADS=1``, fixes it): each chunk computes the same numbers whichever
  thread runs it, and per-chunk partial sums are added in chunk order. So ``n = 2, 3, ...`` all
  agree with each other.

Not guaranteed: bitwise equality between one-threaded and multi-threaded BLAS, and so between
``set_num_threads(2)`` and the serial default (which lets BLAS use every core). OpenBLAS's
multi-threaded GEMM may round differently from its one-threaded GEMM; measured: float32 conv
weights of ``mnist_cnn`` after two Adam steps differ by up to 1.5e-8 (AMD EPYC, AVX2, OpenBLAS
0.3.31, Haswell and Sandybridge kernels alike). Those results agree to float rounding (tested
with a tolerance), not bit for bit. Nothing is promised across CPU
kinds or BLAS kernels (``OPENBLAS_CORETYPE``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..._validation import check_int

__all__ = ["set_num_threads", "get_num_threads", "parallel_available", "map_chunks"]

T = TypeVar("T")
R = TypeVar("R")

_num_threads = 1
_executor: ThreadPoolExecutor | None = None
_controller: Any = None  # threadpoolctl.ThreadpoolController, or False when threadpoolctl is missing
_lock = threading.Lock()


def set_num_threads(n: int) -> None:
    """Run the batch chunks of the convolution on ``n`` threads (1 = one after the other).

    With ``n > 1`` BLAS is limited to one thread while the chunks run; this needs
    threadpoolctl, without which the chunks run serially (:func:`parallel_available`).
    Set BLAS itself (``OPENBLAS_NUM_THREADS``) for the rest of the work as usual.
    """
    global _num_threads, _executor
    n = check_int(n, "number of threads", 1)
    with _lock:
        if _executor is not None and n != _num_threads:
            _executor.shutdown(wait=True)
            _executor = None
        _num_threads = n


def get_num_threads() -> int:
    """The thread count set by :func:`set_num_threads` (default 1)."""
    return _num_threads


def _blas_controller() -> Any:
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller


def blas_on_one_thread() -> Any:
    """A context running BLAS on one thread (threadpoolctl), or doing nothing without threadpoolctl."""
    controller = _blas_controller()
    return controller.limit(limits=1, user_api="blas") if controller else contextlib.nullcontext()


def parallel_available() -> bool:
    """Whether chunks can run on several threads (threadpoolctl is importable)."""
    return bool(_blas_controller())


def workers() -> int:
    """How many threads :func:`map_chunks` uses: the set count if threadpoolctl is there, else 1."""
    return _num_threads if _num_threads > 1 and parallel_available() else 1


def map_chunks(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(item) for item in items]``, on :func:`workers` threads when there are several items.

    ``fn`` must only write to memory no other item writes to. Results come back in order.
    """
    global _executor
    n = workers()
    if n == 1 or len(items) < 2:
        return [fn(item) for item in items]
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="deepstep")
        executor = _executor
    with _blas_controller().limit(limits=1, user_api="blas"):
        return list(executor.map(fn, items))
