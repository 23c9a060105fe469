"""Batch normalization over the last axis with the compiled kernels of :mod:`._norm_kernels`.

Same maths, dtypes and cache keys as the NumPy reference (:mod:`..normalization`); only the order
of the float64 additions of the per-channel sums differs (fixed row chunks, so bitwise identical at
any thread count).
"""

from __future__ import annotations

import numpy as np

from . import _norm_kernels as _k
from . import compiling

__all__ = ["batch_norm_forward", "batch_norm_backward"]


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float,
                       mean: np.ndarray | None, var: np.ndarray | None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``x`` (..., C), channels last -> ``(out, xhat, inv_std, mean, var)``.

    ``mean``/``var`` given (inference) are used as they are; omitted, the batch's are computed.
    """
    x = np.ascontiguousarray(x)
    c = x.shape[-1]
    m = x.size // c
    flat = x.reshape(-1)
    with compiling():
        if mean is None:
            mean, var = np.empty(c, x.dtype), np.empty(c, x.dtype)
            _k.moments(flat, m, c, mean, var, np.empty((_k.CHUNKS, c)))
        inv_std = (1.0 / np.sqrt(var + x.dtype.type(epsilon))).astype(x.dtype)  # the reference's rounding
        xhat, out = np.empty_like(x), np.empty_like(x)
        _k.normalize(flat, m, c, np.ascontiguousarray(mean), inv_std, np.ascontiguousarray(gamma),
                     np.ascontiguousarray(beta), xhat.reshape(-1), out.reshape(-1))
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
    with compiling():
        _k.backward(dout.reshape(-1), np.ascontiguousarray(xhat).reshape(-1), dout.size // c, c,
                    np.ascontiguousarray(coef, dtype=dtype), dtype.type(count), training, dbeta, dgamma,
                    dx.reshape(-1), np.empty((_k.CHUNKS, 2, c)))
    return dx, dgamma, dbeta
