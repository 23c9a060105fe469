"""Register the compiled kernels with :mod:`.._registry` (called once, when they are first selected).

Adapters between the public signatures and the NHWC kernels: NCHW calls are transposed to NHWC
and back (the kernels are NHWC only), and the caches record the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...._validation import check_float_array
from .. import _registry
from . import conv as nconv
from . import is_warm, mark_warm, note_compiling
from . import pool as npool

__all__ = ["register_all"]

# Direct convolution against im2col + OpenBLAS GEMM, 1 thread: direct loses when the reduction
# C_in*kh*kw is long and there are many output channels (VGG-like 3x3x64 -> 64: 1.35-1.46x slower in
# issue 11's prototype); at 2 threads direct wins there too. BENCHMARKS.md has this project's numbers.
IM2COL_MIN_REDUCTION = 500
IM2COL_MIN_FILTERS = 32


def conv_supports(problem: dict[str, Any]) -> bool:
    """Direct convolution unless the measured rule says im2col + GEMM is faster (1 thread, big K and F)."""
    if problem.get("dtype") not in ("float32", "float64"):
        return False
    if _registry.get_kernels() == "numba":
        return True
    from . import threads

    kh, kw = problem["kernel"]
    big = problem["c"] * kh * kw > IM2COL_MIN_REDUCTION and problem["f"] >= IM2COL_MIN_FILTERS
    return not (big and threads() == 1)


@dataclass
class Conv2DCache:
    """Cache of the compiled convolution: the NHWC kernel's cache plus the caller's layout."""

    inner: nconv.NumbaConvCache
    data_format: str
    out_shape: tuple[int, ...]
    dtype: np.dtype


def _tell_once(dtype: np.dtype) -> None:
    if not is_warm(dtype.name):
        note_compiling(dtype.name)


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, data_format: str, stride: Any,
                 pads: Any, out_hw: Any, need_dx: bool, relu: bool) -> tuple[np.ndarray, Conv2DCache]:
    _tell_once(x.dtype)
    if data_format == "NCHW":
        x, w = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0)
    out, inner = nconv.conv2d_forward(x, np.ascontiguousarray(w), b, stride, pads, out_hw, need_dx, relu)
    if data_format == "NCHW":
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return out, Conv2DCache(inner, data_format, out.shape, x.dtype)


def _check_dout(dout: Any, shape: tuple[int, ...], dtype: np.dtype, dtype_error: str) -> np.ndarray:
    """The NumPy kernels' checks and messages (``dtype_error`` is formatted with both dtypes)."""
    dout = check_float_array(dout, "dout", 4)
    if dout.shape != shape:
        raise ValueError(f"dout must have the forward output's shape {shape}, got {dout.shape}")
    if dout.dtype != dtype:
        raise TypeError(dtype_error.format(want=dtype, got=dout.dtype))
    return dout


def conv_backward(dout: Any, cache: Conv2DCache) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    dout = _check_dout(dout, cache.out_shape, cache.dtype,
                       "dout must have the same dtype as x ({want}), got {got}")
    if cache.data_format == "NCHW":
        dout = dout.transpose(0, 2, 3, 1)
    dx, dw, db = nconv.conv2d_backward(np.ascontiguousarray(dout), cache.inner)
    mark_warm(cache.dtype.name)
    if cache.data_format == "NCHW":
        dx = None if dx is None else np.ascontiguousarray(dx.transpose(0, 3, 1, 2))
        dw = np.ascontiguousarray(dw.transpose(3, 2, 0, 1))
    return dx, dw, db


def pool_supports(problem: dict[str, Any]) -> bool:
    return problem.get("dtype") in ("float32", "float64")


@dataclass
class Pool2DCache:
    inner: npool.NumbaPoolCache
    data_format: str
    out_shape: tuple[int, ...]
    dtype: np.dtype


def pool_forward(x: np.ndarray, pool: Any, stride: Any, pads: Any, out_hw: Any, mode: str,
                 data_format: str) -> tuple[np.ndarray, Pool2DCache]:
    _tell_once(x.dtype)
    if data_format == "NCHW":
        x = x.transpose(0, 2, 3, 1)
    out, inner = npool.pool2d_forward(x, pool, stride, pads, out_hw, mode)
    if data_format == "NCHW":
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return out, Pool2DCache(inner, data_format, out.shape, x.dtype)


def pool_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    dout = _check_dout(dout, cache.out_shape, cache.dtype,
                       "dout must have the forward input's dtype {want}, got {got}")
    if cache.data_format == "NCHW":
        dout = dout.transpose(0, 2, 3, 1)
    dx = npool.pool2d_backward(np.ascontiguousarray(dout), cache.inner)
    if cache.data_format == "NCHW":
        dx = np.ascontiguousarray(dx.transpose(0, 3, 1, 2))
    return dx


def register_all() -> None:
    _registry.register("conv2d", _registry.Implementation("numba", conv_supports, conv_forward,
                                                          conv_backward, Conv2DCache))
    _registry.register("pool2d", _registry.Implementation("numba", pool_supports, pool_forward,
                                                          pool_backward, Pool2DCache))

