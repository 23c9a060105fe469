"""Direct NHWC convolution with the compiled kernels: forward (+bias, +ReLU), dx, dW, db.

Forward. The input is copied once into a zero-padded buffer ``xp`` (the pad is fused into this
copy; the buffer is wider than the padding needs so that the last pixel block may read past the
last output pixel). Then, for every output row and every block of ``P`` pixels x ``L`` output
channels, the generated kernel accumulates in registers::

    out[n, oy, ox, f] = b[f] + sum_{i < kh} sum_{r < kw*C} xp[n, oy*sh + i, ox*sw*C + r] * W[i, r, f]

where ``r`` walks one window row (``kw`` pixels of ``C`` channels, contiguous in NHWC) and ``W`` is
the filter tensor as a ``(kh, kw*C, F_pad)`` array (``F`` padded with zero filters to a multiple of
``L``; stores beyond ``F`` are skipped).

Backward.

- ``dW[i, r, f] = sum_{n, oy, ox} xp[n, oy*sh + i, ox*sw*C + r] * dout[n, oy, ox, f]`` and
  ``db[f] = sum dout[n, oy, ox, f]``, per batch chunk with a *fixed* number of chunks
  (:data:`WEIGHT_GRAD_CHUNKS`, whatever the thread count), the chunk partials then added in chunk
  order: the result is bitwise identical at any thread count.
- One copy of ``dout`` (channels zero-padded to a multiple of 8, the fused ReLU's mask applied, and,
  when dx is needed, the zero border the dx convolutions read) serves dW and dx: dW reads it at an
  offset.
- ``dx`` is a sum of convolutions of ``dout`` with flipped sub-filters, one per stride phase
  ``(py, px)``: the input rows ``y = a*sh + py`` receive ``sum_t dout[a - t] * W[py + sh*t]``.
  With stride 1 this is the familiar "full convolution with the rotated filters"; for stride
  ``s`` it is ``s*s`` stride-1 convolutions whose outputs interleave. All of them run on the
  forward kernel (which can write strided outputs), so no scatter-add is needed.

Buffers. The padded input (kept in the cache for dW) and the backward's scratch come from a
small pool and go back to it after the backward pass: page faults on fresh buffers cost about a
third of the SIGNS step (issue 11's profile).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...._validation import dtype_name
from .. import _numba_codegen as _codegen
from . import _kernels, compiling, generated, twin, wide_registers

__all__ = ["NumbaConvCache", "conv2d_forward", "conv2d_backward", "WEIGHT_GRAD_CHUNKS"]

# Fixed number of batch chunks of the dW/db reduction: enough to keep 2-4 threads busy, few enough
# that the per-chunk partial sums stay small. Changing it changes the (float) rounding of dW.
WEIGHT_GRAD_CHUNKS = 8
# Below these amounts of work the serial twins run: starting a parallel region costs more.
# Measured, 2 threads, float32, median us serial / parallel (MNIST's 14x14x8 -> 16 5x5 forward at
# batch 1-64; padded copies of n x 28 x 28 x 8): 2.5 M multiply-adds 90 / 188, 5.0 M 142 / 214,
# 10 M 262 / 276, 20 M 473 / 379, 40 M 957 / 617; copies of 164 k numbers 21 / 52, 655 k 81 / 79,
# 1.3 M 162 / 108. Those thresholds (8 M, 512 k) were measured with workers that sleep between
# regions. Workers now poll ~0.4 ms before sleeping (the package's SPIN_COUNT), and an eighth of
# every threshold (this module's, pooling's, batch normalization's) pays: resnet_small's training
# step (batch 32, 64x64x3; its convolutions after the stem have 1-5 M multiply-adds), 1 / 2 threads
# alternating in one process, ms: 18.4-18.9 / 14.9-15.7 (at the old thresholds 18.8 / 19.9; an
# eighth with sleeping workers 18.7 / 21.6).
PARALLEL_MIN_FMAS = 1 << 20  # multiply-adds of one forward or dW call
PARALLEL_MIN_COPY = 1 << 16  # numbers written by one padded copy
_POOL_MAX = 4  # buffers of one shape kept for reuse


class _BufferPool:
    """Scratch arrays kept between steps, by (shape, dtype) and, for the zero-padded copies, the
    layout of what sits inside the zeros (:func:`_padded`)."""

    def __init__(self) -> None:
        self._free: dict[tuple, list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def get(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.take(shape, dtype)[0]

    def take(self, shape: tuple[int, ...], dtype: np.dtype, layout: tuple[int, ...] | None = None
             ) -> tuple[np.ndarray, bool]:
        """``(array, reused)``: a free array put back with the same ``layout``, else a new one."""
        key = (tuple(shape), np.dtype(dtype).str, layout)
        with self._lock:
            free = self._free.get(key)
            if free:
                return free.pop(), True
        return np.empty(shape, dtype=dtype), False

    def put(self, arr: np.ndarray, layout: tuple[int, ...] | None = None) -> None:
        """Keep ``arr`` for reuse; ``layout`` as it was taken (a frame whose zeros are intact)."""
        key = (arr.shape, arr.dtype.str, layout)
        with self._lock:
            free = self._free.setdefault(key, [])
            if len(free) < _POOL_MAX:
                free.append(arr)

    def clear(self) -> None:
        with self._lock:
            self._free.clear()


BUFFERS = _BufferPool()
_NO_MASK = {np.dtype(np.float32): np.empty((0, 0, 0, 0), np.float32),
            np.dtype(np.float64): np.empty((0, 0, 0, 0), np.float64)}


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _u(*values: int) -> tuple[np.uint64, ...]:
    return tuple(map(np.uint64, values))


def _blocks(dtype: np.dtype, window_row: int, f: int) -> tuple[int, int, int, int]:
    """``(Fp, kwcp, R, L)``: ``F`` padded to the channel block, the window row ``kw * C`` padded to the
    dW kernel's ``R`` rows, and its ``(R, L)`` block (one rule for the forward's buffer and the backward)."""
    lanes = _codegen.CHANNEL_BLOCK
    fp = _ceil(f, lanes) * lanes
    r_block, l_block = _codegen.weight_grad_block(dtype_name(dtype), window_row, fp, wide_registers())
    return fp, _ceil(window_row, r_block) * r_block, r_block, l_block


@dataclass
class NumbaConvCache:
    """What :func:`conv2d_backward` needs: the padded input (a pooled buffer), filters, sizes."""

    xp: np.ndarray | None
    w: np.ndarray  # (kh, kw, C, F)
    x_shape: tuple[int, int, int, int]
    out_hw: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    has_bias: bool
    need_dx: bool
    relu_out: np.ndarray | None


def _forward_call(xp: np.ndarray, wm: np.ndarray, bias: np.ndarray, out: np.ndarray, n: int,
                  out_rows: int, out_cols: int, stride: tuple[int, int], in_origin: tuple[int, int],
                  out_frame: tuple[int, int], out_step: tuple[int, int], out_origin: tuple[int, int],
                  kh: int, relu: bool, rows: tuple[int, int]) -> None:
    """Run the generated forward kernel on a padded NHWC buffer ``xp`` with ``(kh, kw*C, Fp)`` filters.

    ``out`` has ``Fp`` channels (the kernels store whole blocks of channels). ``rows = (lo, hi)``: the
    rows of ``xp`` that may hold non-zeros; taps on the zero rows outside are skipped.
    """
    _, hp, wpa, cin = xp.shape
    _, kwc, fp = wm.shape
    if out.shape[3] != fp:
        raise AssertionError(f"out has {out.shape[3]} channels, the kernels write {fp}")
    _, l_block = _codegen.forward_block(dtype_name(out.dtype), fp)
    fmas = n * out_rows * out_cols * fp * kh * kwc
    name = _codegen.forward_kernel(dtype_name(out.dtype), fp, kwc, unit_step=cin * stride[1] == 1)
    kernel = twin(getattr(generated(), name), fmas, PARALLEL_MIN_FMAS)
    # packed by blocks of output channels: (Fp / L, kh, kwc, L)
    wk = np.ascontiguousarray(wm.reshape(kh, kwc, fp // l_block, l_block).transpose(2, 0, 1, 3))
    zero = np.zeros(1, dtype=out.dtype)
    with compiling():
        kernel(xp.reshape(-1), *_u(hp, wpa, cin, *rows), wk.reshape(-1), *_u(kh, kwc, fp), bias,
               out.reshape(-1), *_u(n, out_rows, out_cols, *stride, *in_origin, *out_frame, *out_step,
                                    *out_origin), relu, zero)


def _frame(src_shape: tuple[int, ...], top: int, left: int) -> tuple[int, ...]:
    """The layout key of a padded copy: where the source sits and its shape."""
    return (top, left, *src_shape[1:])


def _padded(src: np.ndarray, shape: tuple[int, int, int, int], top: int, left: int,
            mask: np.ndarray | None = None) -> np.ndarray:
    """``src`` (times ``mask > 0``) at ``(top, left)`` in a zero frame of ``shape`` from :data:`BUFFERS`.

    Put it back with ``BUFFERS.put(dst, _frame(src.shape, top, left))`` and only read it in between:
    a frame taken again for the same layout keeps its zeros, and only ``src`` is copied (measured,
    1 thread, MNIST's 128x14x14x16 dout, masked, into its 21x28 dx frame: 0.34-0.35 ms with the zeros
    written, 0.25-0.29 ms without).
    """
    dst, zeros_kept = BUFFERS.take(shape, src.dtype, _frame(src.shape, top, left))
    with compiling():
        twin(_kernels.pad_copy, dst.size, PARALLEL_MIN_COPY)(
            src, dst, top, left, _NO_MASK[src.dtype] if mask is None else mask, zeros_kept)
    return dst


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int],
                   pads: tuple[int, int, int, int], out_hw: tuple[int, int], need_dx: bool,
                   relu: bool) -> tuple[np.ndarray, NumbaConvCache]:
    """NHWC convolution of validated arrays: ``x`` (N, H, W, C), ``w`` (kh, kw, C, F), ``b`` (F,) or None."""
    x = np.ascontiguousarray(x)
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    sh, sw = stride
    top, bottom, left, right = pads
    oh, ow = out_hw
    fp, kwcp, _, _ = _blocks(x.dtype, kw * c, f)
    p_block, _ = _codegen.forward_block(dtype_name(x.dtype), fp)
    hp = h + top + bottom
    # Columns: the padded image, the last pixel block's overreach (forward) and the last row
    # block's overreach (dW reads kwcp >= kw*C numbers from the last window).
    wpa = max(wd + left + right, (_ceil(ow, p_block) * p_block - 1) * sw + kw,
              _ceil((ow - 1) * sw * c + kwcp, c))
    xp = _padded(x, (n, hp, wpa, c), top, left)
    wm = np.zeros((kh, kw * c, fp), dtype=x.dtype)
    wm[:, :, :f] = w.reshape(kh, kw * c, f)
    bias = np.zeros(fp, dtype=x.dtype)
    if b is not None:
        bias[:f] = b
    # whole channel blocks: F < Fp goes through a padded buffer, then a cropping copy
    out = np.empty((n, oh, ow, f), dtype=x.dtype) if f == fp else BUFFERS.get((n, oh, ow, fp), x.dtype)
    _forward_call(xp, wm, bias, out, n, oh, ow, stride, (0, 0), (oh, ow), (1, 1), (0, 0), kh, relu,
                  (top, top + h))
    if f != fp:
        out_p, out = out, np.ascontiguousarray(out[..., :f])
        BUFFERS.put(out_p)
    cache = NumbaConvCache(xp=xp, w=w, x_shape=(n, h, wd, c), out_hw=out_hw, stride=stride, pads=pads,
                           has_bias=b is not None, need_dx=need_dx, relu_out=out if relu else None)
    return out, cache


def _weight_grads(xp: np.ndarray, dout_p: np.ndarray, out_hw: tuple[int, int], origin: tuple[int, int],
                  kh: int, kwcp: int, stride: tuple[int, int], r_block: int, l_block: int,
                  rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``dW`` as (kh, kwcp, Fp) and ``db`` as (Fp,), from chunk partials added in chunk order.

    ``dout`` is ``dout_p[:, y0:y0 + oh, x0:x0 + ow]`` with ``(y0, x0) = origin``; ``rows = (lo, hi)``
    are the rows of ``xp`` that may hold non-zeros (taps on the zero rows outside are skipped).
    """
    n, hp, wpa, c = xp.shape
    _, dfh, dfw, fp = dout_p.shape
    oh, ow = out_hw
    fmas = n * oh * ow * kh * kwcp * fp
    kernel = twin(getattr(generated(), f"conv_weight_grad_r{r_block}_l{l_block}"), fmas, PARALLEL_MIN_FMAS)
    chunks = min(n, WEIGHT_GRAD_CHUNKS)
    bounds = np.array([n * k // chunks for k in range(chunks + 1)], dtype=np.int64)
    dw = np.empty((chunks, kh, kwcp, fp), dtype=xp.dtype)
    db = np.empty((chunks, fp), dtype=xp.dtype)
    with compiling():
        kernel(xp.reshape(-1), *_u(hp, wpa, c, *rows), dout_p.reshape(-1), *_u(oh, ow, fp, dfh, dfw, *origin),
               *_u(kh, kwcp, *stride), bounds, dw.reshape(-1), db.reshape(-1))
    dw_sum, db_sum = dw[0].copy(), db[0].copy()
    for k in range(1, chunks):  # chunk order: the same sums at any thread count
        dw_sum += dw[k]
        db_sum += db[k]
    return dw_sum, db_sum


def _dout_frame(x_shape: tuple[int, int, int, int], w_shape: tuple[int, int, int, int],
                out_hw: tuple[int, int],
                stride: tuple[int, int], pads: tuple[int, int, int, int], fp: int, dtype: np.dtype
                ) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Shape of the zero-padded ``dout`` buffer the dx convolutions read, and where ``dout`` sits in it.

    ``dout`` sits at ``(th_max - 1, tw_max - 1)``; the buffer is sized for every phase's reads: rows
    up to ``a_hi + th_max - 1`` with ``a_hi <= (top + h - 1) // sh``, columns likewise plus the last
    pixel block's overreach.
    """
    n, h, wd, _ = x_shape
    kh, kw, _, _ = w_shape
    oh, ow = out_hw
    sh, sw = stride
    top, _, left, _ = pads
    p_block = max(p for p, _ in (_codegen.FORWARD_BLOCKS[dtype_name(dtype)], _codegen.WIDE_FORWARD_BLOCK))
    th_max, tw_max = _ceil(kh, sh), _ceil(kw, sw)
    hd = max(oh, (top + h - 1) // sh + 1) + th_max
    wdd = max(ow, (left + wd - 1) // sw + 1 + p_block) + tw_max
    return (n, hd, wdd, fp), (th_max - 1, tw_max - 1)


def _input_grad(dp: np.ndarray, w: np.ndarray, x_shape: tuple[int, int, int, int],
                stride: tuple[int, int], pads: tuple[int, int, int, int], out_rows: int) -> np.ndarray:
    """``dx`` as ``sh * sw`` stride-1 convolutions of ``dout`` with flipped sub-filters (module doc).

    ``dp`` is the zero-padded ``dout`` (``out_rows`` rows) laid out by :func:`_dout_frame`.
    """
    n, h, wd, c = x_shape
    kh, kw, _, f = w.shape
    fp = dp.shape[3]
    sh, sw = stride
    top, _, left, _ = pads
    dtype = dp.dtype
    lanes = _codegen.CHANNEL_BLOCK
    cp = _ceil(c, lanes) * lanes
    th_max, tw_max = _ceil(kh, sh), _ceil(kw, sw)
    zeros_needed = kh < sh or kw < sw
    dx = (np.zeros if zeros_needed else np.empty)((n, h, wd, cp), dtype=dtype)  # cropped to C below
    bias = np.zeros(cp, dtype=dtype)
    for py in range(sh):
        t_h = _ceil(kh - py, sh) if py < kh else 0
        a_lo = _ceil(top - py, sh) if top > py else 0
        rows = (top + h - 1 - py) // sh - a_lo + 1
        for px in range(sw):
            t_w = _ceil(kw - px, sw) if px < kw else 0
            b_lo = _ceil(left - px, sw) if left > px else 0
            cols = (left + wd - 1 - px) // sw - b_lo + 1
            if t_h == 0 or t_w == 0 or rows <= 0 or cols <= 0:
                continue
            # wm[t', t'w*Fp + g, c] = w[py + sh*(t_h-1-t'), px + sw*(t_w-1-t'w), c, g]
            sub = w[py::sh, px::sw][::-1, ::-1]  # (t_h, t_w, C, F), flipped
            wm = np.zeros((t_h, t_w, fp, cp), dtype=dtype)
            wm[:, :, :f, :c] = sub.transpose(0, 1, 3, 2)
            _forward_call(dp, wm.reshape(t_h, t_w * fp, cp), bias, dx, n, rows, cols, (1, 1),
                          (a_lo + th_max - t_h, b_lo + tw_max - t_w), (h, wd), (sh, sw),
                          (a_lo * sh + py - top, b_lo * sw + px - left), t_h, False,
                          (th_max - 1, th_max - 1 + out_rows))
    return dx if c == cp else np.ascontiguousarray(dx[..., :c])


def conv2d_backward(dout: np.ndarray, cache: NumbaConvCache
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)`` of :func:`conv2d_forward`; ``dout`` validated, NHWC ``(N, oh, ow, F)``."""
    if cache.xp is None:
        raise ValueError("this ConvCache was already used by conv2d_backward (the compiled kernels "
                         "release the forward's buffers after one backward pass)")
    kh, kw, c, f = cache.w.shape
    dtype = dout.dtype
    fp, kwcp, r_block, l_block = _blocks(dtype, kw * c, f)
    out_hw = dout.shape[1:3]
    if cache.need_dx:
        # One copy of dout (channels padded, ReLU mask applied, zero border) serves dW and dx:
        # separate masked and padded copies cost 0.26 + 0.54 ms on MNIST's 14x14x16 dout.
        frame, origin = _dout_frame(cache.x_shape, cache.w.shape, out_hw, cache.stride, cache.pads, fp, dtype)
        dout_p = _padded(dout, frame, *origin, cache.relu_out)
    elif fp != f or cache.relu_out is not None:
        dout_p, origin = _padded(dout, dout.shape[:3] + (fp,), 0, 0, cache.relu_out), (0, 0)
    else:
        dout_p, origin = None, (0, 0)
    top = cache.pads[0]
    x_rows = (top, top + cache.x_shape[1])
    dw_m, db_p = _weight_grads(cache.xp, np.ascontiguousarray(dout) if dout_p is None else dout_p, out_hw,
                               origin, kh, kwcp, cache.stride, r_block, l_block, x_rows)
    BUFFERS.put(cache.xp, _frame(cache.x_shape, top, cache.pads[2]))
    cache.xp = None
    dx = (_input_grad(dout_p, cache.w, cache.x_shape, cache.stride, cache.pads, out_hw[0])
          if cache.need_dx else None)
    if dout_p is not None:
        BUFFERS.put(dout_p, _frame(dout.shape, *origin))
    dw = np.ascontiguousarray(dw_m[:, :kw * c, :f]).reshape(kh, kw, c, f)
    db = db_p[:f].copy() if cache.has_bias else None
    return dx, dw, db
