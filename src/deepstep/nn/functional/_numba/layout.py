"""NHWC <-> NCHW copies for the NCHW callers of the NHWC kernels (compiled, one sample per task)."""

from __future__ import annotations

import numpy as np

from . import _kernels, compiling, serial

__all__ = ["nchw_to_nhwc", "nhwc_to_nchw"]

# Below this many numbers the serial twins run (as the padded copies, :mod:`.conv`).
PARALLEL_MIN_SIZE = 1 << 19


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    """A new C-contiguous ``(N, C, H, W)`` copy of ``x`` (N, H, W, C)."""
    n, h, w, c = x.shape
    if c == 1 or h * w == 1:  # the same numbers in the same order
        return np.ascontiguousarray(x).reshape(n, c, h, w)
    src = np.ascontiguousarray(x).reshape(n, h * w, c)
    out = np.empty((n, c, h, w), dtype=x.dtype)
    kernel = _kernels.to_nchw_serial if serial(x.size, PARALLEL_MIN_SIZE) else _kernels.to_nchw
    with compiling():
        kernel(src, out.reshape(n, c, h * w))
    return out


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """A new C-contiguous ``(N, H, W, C)`` copy of ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    if c == 1 or h * w == 1:
        return np.ascontiguousarray(x).reshape(n, h, w, c)
    src = np.ascontiguousarray(x).reshape(n, c, h * w)
    out = np.empty((n, h, w, c), dtype=x.dtype)
    kernel = _kernels.to_nhwc_serial if serial(x.size, PARALLEL_MIN_SIZE) else _kernels.to_nhwc
    with compiling():
        kernel(src, out.reshape(n, h * w, c))
    return out
