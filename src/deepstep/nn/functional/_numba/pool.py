"""Max and average pooling (NHWC) with the compiled kernels of :mod:`._kernels`.

Max pooling records, per output element, where in its window the first maximum is (row-major,
as PyTorch; an int32 array of the output's shape); the backward pass adds ``dout`` there. The
windows are clipped to the real pixels, so padding is never selected. Average pooling divides by
the number of real pixels in each window (padding excluded, as TensorFlow's SAME and PyTorch's
``count_include_pad=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _numba_codegen as _codegen
from . import _kernels, compiling, generated

__all__ = ["NumbaPoolCache", "pool2d_forward", "pool2d_backward"]


@dataclass(frozen=True)
class NumbaPoolCache:
    x_shape: tuple[int, int, int, int]
    pool: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    mode: str
    arg: np.ndarray | None  # max mode: index of each window's first maximum (-1: NaN window)


def pool2d_forward(x: np.ndarray, pool: tuple[int, int], stride: tuple[int, int],
                   pads: tuple[int, int, int, int], out_hw: tuple[int, int],
                   mode: str) -> tuple[np.ndarray, NumbaPoolCache]:
    """Validated NHWC ``x`` (N, H, W, C) -> ``(out, cache)``."""
    x = np.ascontiguousarray(x)
    n, _, _, c = x.shape
    out = np.empty((n, *out_hw, c), dtype=x.dtype)
    args = (*pool, *stride, pads[0], pads[2])
    arg = np.empty(out.shape, dtype=np.int32) if mode == "max" else None
    with compiling():
        if mode == "max":
            kernel = getattr(generated(), f"max_pool_forward_l{_codegen.CHANNEL_BLOCK}")
            kernel(n, x.reshape(-1), *x.shape[1:], *args, out.reshape(-1), arg.reshape(-1), *out_hw)
        else:
            _kernels.avg_pool_forward(x, *args, out)
    return out, NumbaPoolCache(x.shape, pool, stride, pads, mode, arg)


def pool2d_backward(dout: np.ndarray, cache: NumbaPoolCache) -> np.ndarray:
    """``dx`` (N, H, W, C) from a contiguous NHWC ``dout``."""
    dx = np.empty(cache.x_shape, dtype=dout.dtype)
    args = (*cache.pool, *cache.stride, cache.pads[0], cache.pads[2])
    with compiling():
        if cache.mode == "max":
            _kernels.max_pool_backward(dout, cache.arg, *args, dx)
        else:
            _kernels.avg_pool_backward(dout, *args, dx)
    return dx
