"""Batch normalization over the last axis with the compiled kernels of :mod:`._norm_kernels`.

Same maths, dtypes and cache keys as the NumPy reference (:mod:`..normalization`); only the order
of the float64 additions of the per-channel sums differs (fixed row chunks, so bitwise identical at
any thread count).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _norm_kernels as _k
from . import compiling, twin

__all__ = ["batch_norm_forward", "batch_norm_backward"]


# Below this many values the serial twins run at any thread count. Measured on the OpenMP layer with
# `python benchmarks/bench_twins.py` (float32, forward + backward us, medians of 41, 2 threads, 2
# shared cores; n x 32 x 32 x 16; two runs): 0.13 M values serial 248-249, parallel 478-483; 0.52 M
# 675-677 / 714-721; 2.1 M 6296-6598 / 5190-9561. (On the workqueue layer the threshold was 4 M.)
# That was with sleeping workers (1 M); with polling ones an eighth of it (see ``conv.PARALLEL_MIN_FMAS``).
PARALLEL_MIN_SIZE = 1 << 17


def _twin(kernel: Any, a: np.ndarray) -> Any:
    """``kernel`` or its serial twin (:mod:`._norm_kernels`) for new arrays of ``a``'s size and dtype:
    on one thread, below ``PARALLEL_MIN_SIZE``, or too big for reused memory (:func:`.serial`)."""
    return twin(kernel, a.size, PARALLEL_MIN_SIZE, a.nbytes)


def _tiled(dtype: np.dtype, span: int, *vectors: np.ndarray) -> list[np.ndarray]:
    """Each ``(C,)`` vector repeated ``span`` times, as ``dtype`` (``np.tile`` of each, in one buffer:
    2.5 us for four vectors against 11.6 us)."""
    out = np.empty((len(vectors), span, vectors[0].shape[0]), dtype=dtype)
    for row, vector in zip(out, vectors, strict=True):
        row[...] = vector
    return list(out.reshape(len(vectors), -1))


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float,
                       mean: np.ndarray | None, var: np.ndarray | None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``x`` (..., C), channels last -> ``(out, xhat, inv_std, mean, var)``.

    ``mean``/``var`` given (inference) are used as they are; omitted, the batch's are computed.
    """
    x = np.ascontiguousarray(x)
    c = x.shape[-1]
    m = x.size // c
    span = _k.span_rows(c)
    flat = x.reshape(-1)
    with compiling():
        if mean is None:
            mean, var = np.empty(c, x.dtype), np.empty(c, x.dtype)
            moments = _twin(_k.moments, x)
            moments(flat, m, c, span, mean, var, np.empty(span * c, x.dtype), np.empty((_k.CHUNKS, span * c)),
                    np.empty((_k.CHUNKS, c)))
        inv_std = (1.0 / np.sqrt(var + x.dtype.type(epsilon))).astype(x.dtype)  # the reference's rounding
        xhat, out = np.empty_like(x), np.empty_like(x)
        mean_t, inv_std_t, gamma_t, beta_t = _tiled(x.dtype, span, mean, inv_std, gamma, beta)
        normalize = _twin(_k.normalize, x)
        normalize(flat, m, c, span, mean_t, inv_std_t, gamma_t, beta_t, xhat.reshape(-1), out.reshape(-1))
    return out, xhat, inv_std, mean, var


def batch_norm_backward(dout: np.ndarray, xhat: np.ndarray, gamma: np.ndarray, inv_std: np.ndarray,
                        count: int, training: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dgamma, dbeta)`` for ``dout`` of ``xhat``'s shape and dtype (channels last)."""
    dout = np.ascontiguousarray(dout)
    c = dout.shape[-1]
    dtype = dout.dtype
    scale = gamma * inv_std
    coef = scale / count if training else scale  # the reference's expression and rounding
    dx = np.empty_like(dout)
    dgamma, dbeta = np.empty(c, dtype), np.empty(c, dtype)
    span = _k.span_rows(c)
    with compiling():
        backward = _twin(_k.backward, dout)
        backward(dout.reshape(-1), np.ascontiguousarray(xhat).reshape(-1), dout.size // c, c, span,
                 _tiled(dtype, span, coef)[0], dtype.type(count), training, dbeta, dgamma,
                 dx.reshape(-1), np.empty((_k.CHUNKS, 2, span * c)), np.empty((_k.CHUNKS, 2, c)),
                 np.empty(span * c, dtype), np.empty(span * c, dtype))
    return dx, dgamma, dbeta
