"""Register the compiled kernels with :mod:`.._registry` (called once, when they are first selected).

Adapters between the public signatures and the NHWC kernels: NCHW convolutions are copied to NHWC
and back (:mod:`.layout`; the convolution kernels are NHWC only), NCHW max pooling runs on planes,
and the caches record the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...._validation import check_float_array
from .. import _registry
from ..normalization import _numpy_batch_norm_backward
from . import conv as nconv
from . import elementwise as nelementwise
from . import is_warm, note_compiling
from . import layout as nlayout
from . import norm as nnorm
from . import pool as npool

__all__ = ["register_all"]

# Inputs with at most this many channels whose gradient is wanted run the NumPy kernels: the direct dx
# computes 8 channels (the kernels' lane count) where the input has 1 or 2. Measured (float32, 1 thread,
# forward + backward with dx, ms, NumPy / compiled, `OPENBLAS_NUM_THREADS=1`, ad-hoc script): 28x28x1 ->
# 32 3x3 6.17 / 13.19; -> 8 3x3 2.68 / 3.62; -> 8 5x5 6.71 / 7.09; 32x32x2 -> 16 3x3 4.42 / 5.01;
# 32x32x3 -> 16 3x3 5.98 / 5.31; 32x32x4 -> 16 3x3 7.59 / 5.26; 64x64x3 -> 8 4x4 38.15 / 15.98. Without
# dx (a network's first layer) the compiled kernels win: 28x28x1 -> 8 5x5 2.87 / 2.40, -> 32 3x3 4.47 / 3.60.
# So for such inputs `need_dx` picks the kernels: the forward and dW with and without dx then agree to
# rounding, not bit for bit (tests/nn/functional/test_fn_conv.py).
SMALL_INPUT_CHANNELS = 2


def conv_supports(problem: dict[str, Any]) -> bool:
    """Direct convolution for undilated float32/float64 calls, except inputs of 1-2 channels whose dx
    is wanted (:data:`SMALL_INPUT_CHANNELS`); the others run the NumPy kernels.

    The prototype of issue 11 lost to im2col + OpenBLAS at 1 thread on VGG-like layers
    (3x3x64 -> 64: 1.35-1.46x slower); these kernels (8 accumulators for float32) do not: measured
    at 1 thread, forward + backward, float32 (kernel timing beside PyTorch, ms): VGG 32x32x64 -> 64
    3x3 numpy 1042, numba 482; strided 32x32x32 -> 64 3x3 s2 numpy 108, numba 75; MNIST 14x14x32 -> 64
    numpy 188, numba 103. So no layer with more channels goes back to im2col.
    """
    if problem.get("dtype") not in ("float32", "float64") or problem.get("dilation", (1, 1)) != (1, 1):
        return False
    return not (problem.get("need_dx", True) and problem.get("c", 8) <= SMALL_INPUT_CHANNELS)


@dataclass
class Conv2DCache:
    """Cache of the compiled convolution: the NHWC kernel's cache plus the caller's layout."""

    inner: nconv.NumbaConvCache
    data_format: str
    out_shape: tuple[int, ...]
    dtype: np.dtype


_checked: set[np.dtype] = set()


def _tell_once(dtype: np.dtype) -> None:
    """Say "compiling kernels" if the cache of ``dtype`` is cold: checked on a dtype's first call only
    (the check looks for a file; made on every call it cost ~10 us a kernel call once a cache had been
    filled without the warm-up)."""
    if dtype not in _checked:
        _checked.add(dtype)
        if not is_warm(dtype.name):
            note_compiling(dtype.name)


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, data_format: str, stride: Any,
                 pads: Any, out_hw: Any, need_dx: bool, relu: bool) -> tuple[np.ndarray, Conv2DCache]:
    _tell_once(x.dtype)
    if data_format == "NCHW":
        x, w = nlayout.nchw_to_nhwc(x), w.transpose(2, 3, 1, 0)
    out, inner = nconv.conv2d_forward(x, np.ascontiguousarray(w), b, stride, pads, out_hw, need_dx, relu)
    if data_format == "NCHW":
        out = nlayout.nhwc_to_nchw(out)
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
    dout = nlayout.nchw_to_nhwc(dout) if cache.data_format == "NCHW" else np.ascontiguousarray(dout)
    dx, dw, db = nconv.conv2d_backward(dout, cache.inner)
    if cache.data_format == "NCHW":
        dx = None if dx is None else nlayout.nhwc_to_nchw(dx)
        dw = np.ascontiguousarray(dw.transpose(3, 2, 0, 1))
    return dx, dw, db


def pool_supports(problem: dict[str, Any]) -> bool:
    """Compiled max pooling under ``numba`` and ``auto`` (NCHW on planes); compiled average pooling under
    ``numba`` only, NHWC only (NCHW: 37 ms compiled through transposes, 30 ms NumPy, 64x64x32x32 3x3).

    Measured at 1 thread, float32, forward / backward ms (ad-hoc script, NumPy and Numba alternating
    in one process; BENCHMARKS.md): max 2x2 on 128x28x28x8 NumPy 0.71-1.0 / 1.7-2.1, Numba
    0.71-0.92 / 0.23-0.28; max 8x8 on 64x64x64x8 NumPy 1.2-1.7 / 2.3-3.1, Numba 1.2-1.3 / 0.4-0.5.
    The backward (the recorded first maximum, one write per input element) is where it wins.
    Average pooling was not reworked and no zoo model uses it, so ``auto`` keeps NumPy's (measured
    once: 2x2 on par, 8x8 3x faster compiled; a candidate).
    """
    if problem.get("dtype") not in ("float32", "float64"):
        return False
    if problem.get("mode") == "max":
        return True
    return _registry.get_kernels() == "numba" and problem.get("layout") != "NCHW"


@dataclass
class Pool2DCache:
    inner: npool.NumbaPoolCache
    data_format: str
    out_shape: tuple[int, ...]
    dtype: np.dtype


def pool_forward(x: np.ndarray, pool: Any, stride: Any, pads: Any, out_hw: Any, mode: str,
                 data_format: str) -> tuple[np.ndarray, Pool2DCache]:
    _tell_once(x.dtype)
    if data_format == "NCHW":  # max only (pool_supports): the planes kernels, no transposes
        n, c, h, w = x.shape
        planes = np.ascontiguousarray(x).reshape(n * c, h, w)
        out, inner = npool.max_pool2d_planes_forward(planes, pool, stride, pads, out_hw)
        out = out.reshape(n, c, *out_hw)
    else:
        out, inner = npool.pool2d_forward(x, pool, stride, pads, out_hw, mode)
    return out, Pool2DCache(inner, data_format, out.shape, x.dtype)


def pool_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    dout = np.ascontiguousarray(_check_dout(dout, cache.out_shape, cache.dtype,
                                            "dout must have the forward input's dtype {want}, got {got}"))
    if cache.data_format == "NCHW":
        n, c, oh, ow = dout.shape
        dx = npool.max_pool2d_planes_backward(dout.reshape(n * c, oh, ow), cache.inner)
        return dx.reshape(n, c, *dx.shape[1:])
    return npool.pool2d_backward(dout, cache.inner)


# Below this many values `auto` keeps NumPy's batch normalization, whose fixed costs are lower
# (forward / backward us, float32, 1 thread, medians of 200 alternating in one process): (32, 10)
# NumPy 35 / 15, compiled 67 / 21; (128, 64) 51 / 30 against 70 / 23; 32x4x4x64 105 / 81 against
# 85 / 33; 32x8x8x64 543 / 293 against 265 / 140.
BATCH_NORM_AUTO_MIN_SIZE = 1 << 14


def batch_norm_supports(problem: dict[str, Any]) -> bool:
    """Compiled batch normalization for float32/float64 with the channels last (``(N, C)``, NHWC).

    Measured in the resnet_small training step (1 thread, batch 32, 64x64x3; BENCHMARKS.md): the
    NumPy forward/backward took 16.5 / 10.6 ms of its 60 ms. Channels-first calls stay NumPy's, and
    under ``auto`` so do calls of fewer than ``BATCH_NORM_AUTO_MIN_SIZE`` values.
    """
    if problem.get("dtype") not in ("float32", "float64") or not problem.get("channels_last"):
        return False
    size = problem.get("size", 0)
    return size > 0 and (size >= BATCH_NORM_AUTO_MIN_SIZE or _registry.get_kernels() == "numba")


class BatchNormCache(dict):
    """The NumPy reference's cache dict (same keys), made by the compiled kernels."""


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ax: int, epsilon: float,
                       mean: np.ndarray | None, var: np.ndarray | None) -> tuple[np.ndarray, BatchNormCache]:
    _tell_once(x.dtype)
    training = mean is None
    out, xhat, inv_std, mean, var = nnorm.batch_norm_forward(x, gamma, beta, epsilon, mean, var)
    c = x.shape[-1]
    cache = BatchNormCache(xhat=xhat, inv_std=inv_std, gamma=gamma, reduce_axes=tuple(range(x.ndim - 1)),
                           bshape=(1,) * (x.ndim - 1) + (c,), training=training, count=x.size // c)
    if training:
        cache["batch_mean"] = mean
        cache["batch_var"] = var
    return out, cache


def batch_norm_backward(dout: np.ndarray, cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat = cache["xhat"]
    if dout.dtype != xhat.dtype:  # the reference promotes (float64 dout of a float32 forward)
        return _numpy_batch_norm_backward(dout, cache)
    return nnorm.batch_norm_backward(dout, xhat, cache["gamma"], cache["inv_std"], cache["count"],
                                     cache["training"])


# Below this many values `auto` keeps NumPy's ReLU, whose fixed costs are lower. Forward / backward us,
# float32, 1 thread, medians of 300 in one process, NumPy against compiled: 4 k values 3.8 / 4.3 against
# 6.7 / 7.4; 16 k 8.4 / 7.6 against 7.7 / 8.7; 64 k 27.3 / 22.4 against 14.7 / 18.3.
RELU_AUTO_MIN_SIZE = 1 << 15


def relu_supports(problem: dict[str, Any]) -> bool:
    """Compiled ReLU for contiguous float32/float64 arrays (under ``auto``: of ``RELU_AUTO_MIN_SIZE``
    values or more). Measured in resnet_small's training step (batch 32, 64x64x3): its 13 ReLU layers
    took 0.68 / 0.69 ms forward / backward with NumPy at 1 or 2 threads."""
    if problem.get("dtype") not in ("float32", "float64") or not problem.get("contiguous"):
        return False
    return problem.get("size", 0) >= RELU_AUTO_MIN_SIZE or _registry.get_kernels() == "numba"


def relu_forward(x: np.ndarray, overwrite_x: bool) -> np.ndarray:
    _tell_once(x.dtype)
    return nelementwise.relu_forward(x, overwrite_x)


def register_all() -> None:
    _registry.register("conv2d", _registry.Implementation("numba", conv_supports, conv_forward,
                                                          conv_backward, Conv2DCache))
    _registry.register("pool2d", _registry.Implementation("numba", pool_supports, pool_forward,
                                                          pool_backward, Pool2DCache))

    _registry.register("batch_norm", _registry.Implementation(
        "numba", batch_norm_supports, batch_norm_forward, batch_norm_backward, BatchNormCache))
    _registry.register("relu", _registry.Implementation(
        "numba", relu_supports, relu_forward, nelementwise.relu_backward, np.ndarray))
