"""NHWC <-> NCHW copies for the NCHW callers of the NHWC kernels (compiled, one sample per task)."""

from __future__ import annotations

import numpy as np

from . import _kernels, compiling, twin
from .conv import PARALLEL_MIN_COPY as PARALLEL_MIN_SIZE  # copies: below this many numbers, serial

__all__ = ["nchw_to_nhwc", "nhwc_to_nchw"]


def _relayout(x: np.ndarray, shape: tuple[int, ...], hw: int, c: int, to_planes: bool) -> np.ndarray:
    """A new C-contiguous array of ``shape`` holding ``x``'s samples in the other layout."""
    if c == 1 or hw == 1:  # the same numbers in the same order
        return np.ascontiguousarray(x).reshape(shape)
    out = np.empty(shape, dtype=x.dtype)
    kernel = twin(_kernels.relayout, x.size, PARALLEL_MIN_SIZE)
    with compiling():
        kernel(np.ascontiguousarray(x).reshape(-1), out.reshape(-1), x.shape[0], hw, c, to_planes)
    return out


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    """A new C-contiguous ``(N, C, H, W)`` copy of ``x`` (N, H, W, C)."""
    n, h, w, c = x.shape
    return _relayout(x, (n, c, h, w), h * w, c, True)


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """A new C-contiguous ``(N, H, W, C)`` copy of ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    return _relayout(x, (n, h, w, c), h * w, c, False)
