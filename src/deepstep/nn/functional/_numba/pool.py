"""Max and average pooling with the compiled kernels of :mod:`._kernels`: NHWC, and planes (NCHW).

Max pooling records, per output element, where in its window the first maximum is (row-major,
as PyTorch; an array of the output's shape, see :class:`NumbaPoolCache`); the backward pass adds
``dout`` there. The
windows are clipped to the real pixels, so padding is never selected. Average pooling divides by
the number of real pixels in each window (padding excluded, as TensorFlow's SAME and PyTorch's
``count_include_pad=False``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _numba_codegen as _codegen
from . import _kernels, compiling, generated, twin

__all__ = ["NumbaPoolCache", "pool2d_forward", "pool2d_backward", "max_pool2d_planes_forward",
           "max_pool2d_planes_backward"]

# Below this many input numbers the serial twins run. Measured, 2 threads, float32, max 2x2 forward +
# backward on n x 28 x 28 x 8, median us serial / parallel: 100 k numbers 136 / 201, 401 k 410 / 323,
# 803 k 785 / 464. That was with sleeping workers; with polling ones an eighth of it (see
# ``conv.PARALLEL_MIN_FMAS``).
PARALLEL_MIN_SIZE = 1 << 15


def _twin(kernel: Any, size: int, new: np.ndarray) -> Any:
    """``kernel`` or its serial twin for ``size`` numbers pooled into the new array ``new``."""
    return twin(kernel, size, PARALLEL_MIN_SIZE, new.nbytes)


@dataclass(frozen=True)
class NumbaPoolCache:
    x_shape: tuple[int, int, int, int]
    pool: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    mode: str
    # max mode: the row-major index of each window's first maximum, -1 where the window holds a NaN;
    # int32 for planes, the input's dtype for NHWC (whose forward kernel vectorizes its selects only
    # on operands of one type: see _numba_codegen._max_pool)
    arg: np.ndarray | None = None


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
            kernel = _twin(getattr(generated(), f"max_pool_forward_l{_codegen.CHANNEL_BLOCK}"), x.size, out)
            arg = np.empty_like(out)  # indices as numbers of x's dtype
            kernel(n, x.reshape(-1), *x.shape[1:], *args, out.reshape(-1), arg.reshape(-1), *out_hw)
        else:
            _twin(_kernels.avg_pool_forward, x.size, out)(x, *args, out)
    return out, NumbaPoolCache(x.shape, pool, stride, pads, mode, arg if mode == "max" else None)


def pool2d_backward(dout: np.ndarray, cache: NumbaPoolCache) -> np.ndarray:
    """``dx`` (N, H, W, C) from a contiguous NHWC ``dout``."""
    dx = np.empty(cache.x_shape, dtype=dout.dtype)
    args = (*cache.pool, *cache.stride, cache.pads[0], cache.pads[2])
    with compiling():
        if cache.mode == "max":
            _twin(_kernels.max_pool_backward, dx.size, dx)(dout, cache.arg, *args, dx)
        else:
            _twin(_kernels.avg_pool_backward, dx.size, dx)(dout, *args, dx)
    return dx


def max_pool2d_planes_forward(x: np.ndarray, pool: tuple[int, int], stride: tuple[int, int],
                              pads: tuple[int, int, int, int], out_hw: tuple[int, int]
                              ) -> tuple[np.ndarray, NumbaPoolCache]:
    """Max pooling of validated planes ``x`` (P, H, W) (NCHW as ``(N*C, H, W)``) -> ``(out, cache)``.

    Each plane is pooled on its own, vectorized along its output rows (``_numba_codegen._plane_row``):
    no transposes to and from NHWC. The cache's ``x_shape`` is ``(P, H, W, 1)``.
    """
    x = np.ascontiguousarray(x)
    planes, h, w = x.shape
    out = np.empty((planes, *out_hw), dtype=x.dtype)
    arg = np.empty(out.shape, dtype=np.int32)
    with compiling():
        kernel = _twin(generated().plane_max_pool_forward, x.size, out)
        kernel(planes, x.reshape(-1), h, w, *pool, *stride, pads[0], pads[2], out.reshape(-1),
               arg.reshape(-1), *out_hw)
    return out, NumbaPoolCache((planes, h, w, 1), pool, stride, pads, "max", arg)


def max_pool2d_planes_backward(dout: np.ndarray, cache: NumbaPoolCache) -> np.ndarray:
    """``dx`` (P, H, W) from a contiguous ``dout`` (P, oh, ow) of :func:`max_pool2d_planes_forward`."""
    planes, h, w, _ = cache.x_shape
    oh, ow = dout.shape[1:]
    dx = np.empty((planes, h, w), dtype=dout.dtype)
    with compiling():
        kernel = _twin(generated().plane_max_pool_backward, dx.size, dx)
        kernel(planes, dout.reshape(-1), cache.arg.reshape(-1), oh, ow, *cache.pool, *cache.stride,
               cache.pads[0], cache.pads[2], dx.reshape(-1), h, w)
    return dx
