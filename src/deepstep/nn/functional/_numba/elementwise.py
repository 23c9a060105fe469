"""ReLU with the compiled kernels of :mod:`._kernels` (flat arrays: any shape and layout).

The same bits as the NumPy reference (:mod:`..activations`, tested): ``max(x, 0)`` keeps NaN and
makes -0.0 0.0, and the gradient is ``dout * (x > 0)``. Each element is computed alone, so the result
does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from . import _kernels, compiling, twin

__all__ = ["relu_forward", "relu_backward"]

# Below this many values the serial twins run. Measured, float32, 2 threads, median us serial /
# parallel, forward and backward into new arrays (ad-hoc script): 32x8x8x64 (131 k) 13 / 10 and
# 19 / 13; 32x16x16x32 (262 k) 24 / 18 and 35 / 23; 32x32x32x16 (524 k) 48 / 28 and 72 / 39.
# (NumPy's np.maximum and product with the mask: 50 / 39, 98 / 74, 193 / 148.)
PARALLEL_MIN_SIZE = 1 << 16


def relu_forward(x: np.ndarray, overwrite_x: bool) -> np.ndarray:
    """``max(x, 0)`` of a validated float array, into ``x`` itself with ``overwrite_x``."""
    x = np.ascontiguousarray(x)
    out = x if overwrite_x else np.empty_like(x)
    with compiling():
        twin(_kernels.relu_forward, x.size, PARALLEL_MIN_SIZE, out.nbytes)(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(dout: np.ndarray, x: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``dout * (x > 0)`` for validated arrays of one shape and dtype, into ``out`` if given."""
    dout, x = np.ascontiguousarray(dout), np.ascontiguousarray(x)
    dx = np.empty_like(dout) if out is None or not out.flags.c_contiguous else out
    with compiling():
        twin(_kernels.relu_backward, x.size, PARALLEL_MIN_SIZE, dx.nbytes)(
            dout.reshape(-1), x.reshape(-1), dx.reshape(-1))
    if out is not None and dx is not out:
        out[...] = dx
        return out
    return dx
