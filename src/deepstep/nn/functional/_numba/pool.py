"""Max and average pooling (NHWC) with the compiled kernels of :mod:`._kernels`.

Max pooling keeps its input and output; the backward pass finds each window's first maximum
again (row-major, as PyTorch) and adds ``dout`` there. The windows are clipped to the real
pixels, so padding is never selected. Average pooling divides by
the number of real pixels in each window (padding excluded, as TensorFlow's SAME and PyTorch's
``count_include_pad=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernels, compiling

__all__ = ["NumbaPoolCache", "pool2d_forward", "pool2d_backward"]


@dataclass(frozen=True)
class NumbaPoolCache:
    x_shape: tuple[int, int, int, int]
    pool: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    mode: str
    x: np.ndarray | None  # max mode: the input (not to be modified before the backward pass)
    out: np.ndarray | None  # max mode: the output


def pool2d_forward(x: np.ndarray, pool: tuple[int, int], stride: tuple[int, int],
                   pads: tuple[int, int, int, int], out_hw: tuple[int, int],
                   mode: str) -> tuple[np.ndarray, NumbaPoolCache]:
    """Validated NHWC ``x`` (N, H, W, C) -> ``(out, cache)``."""
    x = np.ascontiguousarray(x)
    n, _, _, c = x.shape
    out = np.empty((n, *out_hw, c), dtype=x.dtype)
    args = (*pool, *stride, pads[0], pads[2])
    with compiling():
        if mode == "max":
            _kernels.max_pool_forward(x, *args, out)
        else:
            _kernels.avg_pool_forward(x, *args, out)
    keep = mode == "max"
    return out, NumbaPoolCache(x.shape, pool, stride, pads, mode, x if keep else None, out if keep else None)


def pool2d_backward(dout: np.ndarray, cache: NumbaPoolCache) -> np.ndarray:
    """``dx`` (N, H, W, C) from a contiguous NHWC ``dout``."""
    dx = np.empty(cache.x_shape, dtype=dout.dtype)
    args = (*cache.pool, *cache.stride, cache.pads[0], cache.pads[2])
    with compiling():
        if cache.mode == "max":
            _kernels.max_pool_backward(dout, cache.x, cache.out, *args, dx)
        else:
            _kernels.avg_pool_backward(dout, *args, dx)
    return dx
