"""Fully connected (dense) layer kernel: ``out = x @ w + b`` in the Keras weight layout."""

from __future__ import annotations

import numpy as np

from ..._validation import brief_repr, check_float_array, check_same_dtype
from . import _parallel, _registry
from .conv import blas_threads

__all__ = ["dense", "dense_backward", "DenseCache"]

DenseCache = tuple[np.ndarray, np.ndarray, bool, bool]


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``, with BLAS on one thread once the compiled kernels run on several threads.

    After a multi-threaded product OpenBLAS's idle workers keep polling (``OPENBLAS_THREAD_TIMEOUT``)
    and take the cores from the compiled kernels: mnist_cnn's step on 2 kernel threads took 16.1 ms with
    BLAS on its default 2 threads and 8.0 ms with ``OPENBLAS_NUM_THREADS=1`` (``benchmarks/
    bench_threading.py``'s child, both ways). So its products run on one BLAS thread while compiled
    kernels are loaded with more than one (threadpoolctl: ~25 us a product; without it, unchanged).
    """
    if blas_threads() > 1 and _registry.compiled_threads() > 1:
        with _parallel.blas_on_one_thread():
            return a @ b
    return a @ b


def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
          need_dx: bool = True) -> tuple[np.ndarray, DenseCache]:
    """Affine map ``out = x @ w + b``.

    Parameters
    ----------
    x : ndarray, (N, D_in), float32 or float64
    w : ndarray, (D_in, D_out), dtype of ``x`` (Keras layout: one column per unit)
    b : ndarray, (D_out,), dtype of ``x``, optional
    need_dx : bool, default True
        False when the gradient with respect to ``x`` is not wanted (a model's first
        layer in training): :func:`dense_backward` then skips ``dout @ w.T`` and returns
        None for ``dx``.

    Returns
    -------
    out : ndarray, (N, D_out), dtype of ``x``
    cache : (x, w, has_bias, need_dx)
        For :func:`dense_backward`.

    Raises
    ------
    TypeError
        Non-float arrays or mismatched dtypes.
    ValueError
        Wrong ranks or ``x.shape[1] != w.shape[0]`` or ``b.shape != (D_out,)``.
    """
    x = check_float_array(x, "x", 2, "(N, D_in)")
    w = check_float_array(w, "w", 2, "(D_in, D_out)")
    if b is not None:
        b = check_float_array(b, "b", 1, "(D_out,)")
    check_same_dtype({"x": x, "w": w, "b": b}, "x")
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x has {x.shape[1]} features (x.shape={x.shape}) but w expects D_in={w.shape[0]} "
            f"(w.shape={w.shape})"
        )
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (D_out,) = ({w.shape[1]},), got {b.shape}")
    if not isinstance(need_dx, bool | np.bool_):
        raise TypeError(f"need_dx must be a bool, got {brief_repr(need_dx)}")
    out = _product(x, w)
    if b is not None:
        out += b
    return out, (x, w, b is not None, bool(need_dx))


def dense_backward(dout: np.ndarray,
                   cache: DenseCache) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`dense`.

    ``dx = dout @ w.T``, ``dw = x.T @ dout``, ``db = dout.sum(axis=0)``.

    ``dw`` is evaluated as ``(dout.T @ x).T``, a transposed (Fortran-ordered) view of the
    same numbers: OpenBLAS runs that orientation faster when ``D_in`` is large (measured,
    1 thread, ``x`` (209, 12288), 20 units: float64 2.4 ms vs 5.2 ms, float32 1.4 vs 1.7 ms).

    Parameters
    ----------
    dout : ndarray, (N, D_out), dtype of the forward input
    cache : from :func:`dense`

    Returns
    -------
    dx : (N, D_in), or None when the forward pass had ``need_dx=False``
    dw : (D_in, D_out)
    db : (D_out,), or None when the forward pass had no bias
    """
    if not (isinstance(cache, tuple) and len(cache) == 4 and isinstance(cache[0], np.ndarray)):
        raise TypeError("cache must be the (x, w, has_bias, need_dx) tuple returned by dense")
    x, w, has_bias, need_dx = cache
    dout = check_float_array(dout, "dout", 2, "(N, D_out)")
    want = (x.shape[0], w.shape[1])
    if dout.shape != want:
        raise ValueError(f"dout must have the forward output's shape {want}, got {dout.shape}")
    if dout.dtype != x.dtype:
        raise TypeError(f"dout must have the forward input's dtype {x.dtype}, got {dout.dtype}")
    dx = _product(dout, w.T) if need_dx else None
    dw = _product(dout.T, x).T
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db
