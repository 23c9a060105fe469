"""Fast 2-D convolution (cross-correlation, as in every deep-learning library).

Forward, for output pixel ``(oy, ox)`` and filter ``f`` (NHWC notation)::

    out[n, oy, ox, f] = b[f] + sum_{i, j, c} x_pad[n, sh*oy + i, sw*ox + j, c] * w[i, j, c, f]

With the column buffer of :mod:`.im2col` (one receptive field per row,
``col`` of shape ``(N*oh*ow, kh*kw*C)``) and the filters flattened to
``W`` of shape ``(kh*kw*C, F)`` this is one matrix product, ``out = col @ W + b``.
Backward, with ``dout`` flattened to ``(N*oh*ow, F)``::

    db   = sum over rows of dout
    dW   = col^T @ dout
    dcol = dout @ W^T,   dx = crop(col2im(dcol))

NCHW uses the transposed orientation per sample (``out[n] = W @ col[n]`` with
``W`` of shape ``(F, C*kh*kw)`` and ``col[n]`` of shape ``(C*kh*kw, oh*ow)``), which
produces the ``(F, oh, ow)`` output block directly, without a transpose.

The column buffer is ``kh*kw`` times larger than the input, so it is built over
chunks of the batch whose buffers fit a workspace limit (default 256 MiB,
:func:`set_workspace_limit`, or ``workspace_bytes`` per call). Chunks are independent
samples, so chunking changes the result only by the order of the ``dW`` sum over
chunks (bit-identical for a single chunk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import check_float_array, check_int, check_same_dtype
from ._params import Padding4, Pair, as_pair, check_data_format, resolve_padding
from .im2col import NCHW, NHWC, Layout, col2im, im2col, layout_for

__all__ = ["conv2d", "conv2d_backward", "set_workspace_limit", "get_workspace_limit", "ConvCache"]

DEFAULT_WORKSPACE_BYTES = 256 * 2**20
# Chunks are kept small on purpose: a column buffer that stays in the CPU cache between im2col and
# the matmul that reads it is ~2-4x faster than one streamed through main memory (measured; see
# BENCHMARKS.md). The workspace limit only ever makes chunks smaller than this.
CHUNK_TARGET_BYTES = 4 * 2**20
_workspace_limit = DEFAULT_WORKSPACE_BYTES


def set_workspace_limit(nbytes: int) -> None:
    """Set the default memory budget (bytes) of the scratch buffers of one chunk.

    The batch is processed in chunks whose scratch buffers (padded input, column
    buffer and, in the backward pass, their gradients) stay within this many bytes.
    A single sample is always processed whole, even if it alone exceeds the limit.
    """
    global _workspace_limit
    _workspace_limit = check_int(nbytes, "workspace limit (bytes)", 1)


def get_workspace_limit() -> int:
    """The current default workspace limit in bytes (see :func:`set_workspace_limit`)."""
    return _workspace_limit


@dataclass(frozen=True)
class ConvCache:
    """What :func:`conv2d_backward` needs from the forward pass.

    The column buffer is *not* kept: the backward pass rebuilds it chunk by chunk
    from ``x`` (cheap, and it keeps both the memory bound and the cache locality).
    """

    x: np.ndarray
    w2d: np.ndarray
    w_shape: tuple[int, int, int, int]
    has_bias: bool
    layout: Layout
    internal: Layout
    kernel: Pair
    stride: Pair
    pads: Padding4
    out_hw: Pair
    need_dx: bool
    workspace_bytes: int


def _check_inputs(x: Any, w: Any, b: Any, data_format: Any) -> tuple[Layout, int, int, int, int, Pair]:
    """Validate arrays and layout; return (layout, N, C, H, W, (kh, kw))."""
    layout = layout_for(check_data_format(data_format))
    if layout.channels_last:
        x = check_float_array(x, "x", 4, "(N, H, W, C_in)")
        w = check_float_array(w, "w", 4, "(kh, kw, C_in, C_out)")
        n, h, wd, c = x.shape
        kh, kw, c_w, f = w.shape
    else:
        x = check_float_array(x, "x", 4, "(N, C_in, H, W)")
        w = check_float_array(w, "w", 4, "(C_out, C_in, kh, kw)")
        n, c, h, wd = x.shape
        f, c_w, kh, kw = w.shape
    if c_w != c:
        raise ValueError(
            f"w must have C_in = {c} input channels to match x {x.shape} ({layout.name}), "
            f"got w of shape {w.shape} with C_in = {c_w}"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x and w must not have zero-length axes, got x {x.shape} and w {w.shape}")
    if b is not None:
        b = check_float_array(b, "b", 1, "(C_out,)")
        if b.shape != (f,):
            raise ValueError(f"b must have shape ({f},) (one bias per filter), got {b.shape}")
    check_same_dtype({"x": x, "w": w, "b": b}, "x")
    return layout, n, c, h, wd, (kh, kw)


def choose_internal_layout(channels: int, out_w: int, stride_w: int) -> Layout:
    """The layout the column buffer is built in, whatever the caller's layout.

    im2col copies, per kernel offset, contiguous runs of ``C`` numbers in NHWC and of
    ``out_w`` numbers in NCHW (single numbers when ``stride_w > 1``). Short runs make
    the copies slow, so the layout with the longer run wins: NCHW for images with few
    channels (RGB, grayscale), NHWC otherwise. Converting between layouts costs
    nothing extra on the input side (the padding copy does it) and one copy of the
    output.
    """
    nchw_run = out_w if stride_w == 1 else 1
    return NHWC if channels >= nchw_run else NCHW


def _chunk_size(n: int, bytes_per_sample: int, limit: int) -> int:
    """Samples per chunk so that a chunk's buffers fit ``min(limit, CHUNK_TARGET_BYTES)`` (>= 1)."""
    return max(1, min(n, min(limit, CHUNK_TARGET_BYTES) // max(bytes_per_sample, 1)))


def _filters_2d(w: np.ndarray, layout: Layout) -> np.ndarray:
    """Filters as the matrix of the matmul: ``(kh*kw*C, F)`` (NHWC) or ``(F, C*kh*kw)`` (NCHW)."""
    w = np.ascontiguousarray(w)
    if layout.channels_last:
        return w.reshape(-1, w.shape[3])
    return w.reshape(w.shape[0], -1)


def _forward_matmul(col: np.ndarray, w2d: np.ndarray, out: np.ndarray, layout: Layout) -> None:
    """``out = col @ W`` (NHWC) or ``out[n] = W @ col[n]`` (NCHW), written into ``out``."""
    nb = out.shape[0]
    if layout.channels_last:
        np.matmul(col.reshape(-1, w2d.shape[0]), w2d, out=out.reshape(-1, w2d.shape[1]))
    else:
        np.matmul(w2d, col.reshape(nb, w2d.shape[1], -1), out=out.reshape(nb, w2d.shape[0], -1))


def _weight_grad(col: np.ndarray, dout: np.ndarray, w2d: np.ndarray, layout: Layout) -> np.ndarray:
    """``dW = col^T @ dout`` (NHWC) or ``dW = sum_n dout[n] @ col[n]^T`` (NCHW), shaped like ``w2d``."""
    nb = dout.shape[0]
    if layout.channels_last:
        return col.reshape(-1, w2d.shape[0]).T @ dout.reshape(-1, w2d.shape[1])
    col_t = col.reshape(nb, w2d.shape[1], -1).transpose(0, 2, 1)
    return np.matmul(dout.reshape(nb, w2d.shape[0], -1), col_t).sum(axis=0)


def _col_grad(dout: np.ndarray, w2d: np.ndarray, dcol: np.ndarray, layout: Layout) -> np.ndarray:
    """``dcol = dout @ W^T`` (NHWC) or ``dcol[n] = W^T @ dout[n]`` (NCHW), written into ``dcol``."""
    nb = dout.shape[0]
    if layout.channels_last:
        np.matmul(dout.reshape(-1, w2d.shape[1]), w2d.T, out=dcol.reshape(-1, w2d.shape[0]))
    else:
        np.matmul(w2d.T, dout.reshape(nb, w2d.shape[0], -1), out=dcol.reshape(nb, w2d.shape[1], -1))
    return dcol


class _Scratch:
    """Per-call scratch buffers sized for one chunk, reused by every chunk (``[:nb]`` for the last)."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], nb: int, zeros: bool = False) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None:
            buf = (np.zeros if zeros else np.empty)(shape, dtype=self.dtype)
            self._buffers[name] = buf
        return buf[:nb]


def _padded_chunk(x_part: np.ndarray, cache: ConvCache, scratch: _Scratch, chunk: int) -> np.ndarray:
    """The chunk ``x_part`` zero-padded and in the internal layout (a view of ``x`` when possible).

    The padded buffer is zero-initialised once; chunks only overwrite its interior,
    so the borders stay zero.
    """
    internal, nb = cache.internal, x_part.shape[0]
    if cache.pads == (0, 0, 0, 0) and internal == cache.layout:
        return x_part
    if internal.channels_last:
        h, w, c = x_part.shape[1:] if cache.layout.channels_last else (*x_part.shape[2:], x_part.shape[1])
    else:
        c, h, w = (x_part.shape[3], *x_part.shape[1:3]) if cache.layout.channels_last else x_part.shape[1:]
    top, bottom, left, right = cache.pads
    shape = internal.image_shape(chunk, c, h + top + bottom, w + left + right)
    padded = scratch.get("x_pad", shape, nb, zeros=True)
    internal.interior(padded, cache.pads, (h, w))[...] = internal.image_from(x_part, cache.layout)
    return padded


def _internal_chunk(arr_part: np.ndarray, cache: ConvCache, scratch: _Scratch, name: str,
                    chunk: int) -> np.ndarray:
    """A C-contiguous copy (or view) of a feature-map chunk in the internal layout."""
    if cache.internal == cache.layout and arr_part.flags.c_contiguous:
        return arr_part
    view = cache.internal.image_from(arr_part, cache.layout)
    buf = scratch.get(name, (chunk, *view.shape[1:]), view.shape[0])
    buf[...] = view
    return buf


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    data_format: str = "NHWC",
    need_dx: bool = True,
    workspace_bytes: int | None = None,
) -> tuple[np.ndarray, ConvCache]:
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters.

    Parameters
    ----------
    x : ndarray, float32 or float64
        Images, ``(N, H, W, C_in)`` for ``data_format="NHWC"`` or ``(N, C_in, H, W)``
        for ``"NCHW"``.
    w : ndarray, same dtype as ``x``
        Filters, ``(kh, kw, C_in, C_out)`` (NHWC, the course/Keras layout) or
        ``(C_out, C_in, kh, kw)`` (NCHW, the PyTorch/CS231n layout).
    b : ndarray of shape (C_out,), same dtype, optional
        Biases, one per filter.
    stride : int or (int, int)
        Step ``(sh, sw)`` between windows, >= 1.
    padding : int, (int, int), "valid" or "same"
        Zero padding: ``p`` on every side, ``(ph, pw)`` top/bottom and left/right,
        none, or TensorFlow's SAME (``out = ceil(in / stride)``, an odd total pad puts
        the extra pixel at the bottom/right).
    data_format : {"NHWC", "NCHW"}
    need_dx : bool
        If False the backward pass skips ``dx`` (for a network's first layer).
    workspace_bytes : int, optional
        Memory budget of one chunk's scratch buffers; defaults to
        :func:`get_workspace_limit`.

    Returns
    -------
    out : ndarray
        ``(N, oh, ow, C_out)`` or ``(N, C_out, oh, ow)``, dtype of ``x``, with
        ``oh = (H + pad_top + pad_bottom - kh) // sh + 1`` (likewise ``ow``).
    cache : ConvCache
        For :func:`conv2d_backward`.

    Raises
    ------
    TypeError
        Non-ndarray or non-float input, or mixed dtypes.
    ValueError
        Wrong ranks, channel mismatch, bad bias shape, stride < 1, negative or
        unknown padding, a window that does not fit, unknown ``data_format``.
    """
    layout, n, c, h, wd, kernel = _check_inputs(x, w, b, data_format)
    stride_hw = as_pair(stride, "stride", 1)
    pads, out_hw = resolve_padding(padding, (h, wd), kernel, stride_hw)
    if not isinstance(need_dx, bool | np.bool_):
        raise TypeError(f"need_dx must be a bool, got {need_dx!r}")
    limit = _workspace_limit if workspace_bytes is None else check_int(workspace_bytes, "workspace_bytes", 1)

    internal = choose_internal_layout(c, out_hw[1], stride_hw[1])
    w2d = _filters_2d(internal.filters_from(w, layout), internal)
    cache = ConvCache(
        x=x, w2d=w2d, w_shape=w.shape, has_bias=b is not None, layout=layout, internal=internal,
        kernel=kernel, stride=stride_hw, pads=pads, out_hw=out_hw, need_dx=bool(need_dx),
        workspace_bytes=limit,
    )
    f = w2d.shape[1] if internal.channels_last else w2d.shape[0]
    padded_hw = (h + pads[0] + pads[1], wd + pads[2] + pads[3])
    col_elems = c * kernel[0] * kernel[1] * out_hw[0] * out_hw[1]
    per_sample = (col_elems + c * padded_hw[0] * padded_hw[1] + f * out_hw[0] * out_hw[1]) * x.itemsize
    chunk = _chunk_size(n, per_sample, limit)

    out = np.empty(layout.image_shape(n, f, *out_hw), dtype=x.dtype)
    scratch = _Scratch(x.dtype)
    bias = None if b is None else internal.per_channel(b)
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        nb = part.stop - start
        x_pad = _padded_chunk(x[part], cache, scratch, chunk)
        col = im2col(x_pad, kernel, stride_hw, out_hw, internal,
                     col=scratch.get("col", internal.col_shape(chunk, c, kernel, out_hw), nb))
        same = internal == layout
        out_part = out[part] if same else scratch.get("out", internal.image_shape(chunk, f, *out_hw), nb)
        _forward_matmul(col, w2d, out_part, internal)
        if bias is not None:
            out_part += bias
        if not same:
            out[part] = layout.image_from(out_part, internal)
    return out, cache


def conv2d_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d` with respect to ``x``, ``w`` and ``b``.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient, the shape and dtype of the forward output.
    cache : ConvCache
        From :func:`conv2d`.

    Returns
    -------
    dx : ndarray or None
        Shape and dtype of ``x``; None if the forward had ``need_dx=False``.
    dw : ndarray
        Shape and dtype of ``w``.
    db : ndarray or None
        ``(C_out,)``; None if the forward had no bias.
    """
    if not isinstance(cache, ConvCache):
        raise TypeError(f"cache must be the ConvCache returned by conv2d, got {type(cache).__name__}")
    x, layout, internal, w2d = cache.x, cache.layout, cache.internal, cache.w2d
    dout = check_float_array(dout, "dout", 4)
    if layout.channels_last:
        n, h, wd, c = x.shape
    else:
        n, c, h, wd = x.shape
    f = w2d.shape[1] if internal.channels_last else w2d.shape[0]
    expected = layout.image_shape(n, f, *cache.out_hw)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    check_same_dtype({"x": x, "dout": dout}, "x")
    kernel, pads, out_hw = cache.kernel, cache.pads, cache.out_hw
    padded_hw = (h + pads[0] + pads[1], wd + pads[2] + pads[3])

    col_elems = c * kernel[0] * kernel[1] * out_hw[0] * out_hw[1]
    image_elems = c * padded_hw[0] * padded_hw[1]
    per_sample = col_elems + image_elems + f * out_hw[0] * out_hw[1]
    if cache.need_dx:
        per_sample += col_elems + image_elems
    chunk = _chunk_size(n, per_sample * x.itemsize, cache.workspace_bytes)

    scratch = _Scratch(x.dtype)
    dw2d = np.zeros(w2d.shape, dtype=x.dtype)
    dx = np.empty_like(x, order="C") if cache.need_dx else None
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        nb = part.stop - start
        col_shape = internal.col_shape(chunk, c, kernel, out_hw)
        x_pad = _padded_chunk(x[part], cache, scratch, chunk)
        col = im2col(x_pad, kernel, cache.stride, out_hw, internal, col=scratch.get("col", col_shape, nb))
        dout_part = _internal_chunk(dout[part], cache, scratch, "dout", chunk)
        dw2d += _weight_grad(col, dout_part, w2d, internal)
        if dx is not None:
            dcol = _col_grad(dout_part, w2d, scratch.get("dcol", col_shape, nb), internal)
            dx_pad = col2im(dcol, padded_hw, cache.stride, internal,
                            scratch.get("dx_pad", internal.image_shape(chunk, c, *padded_hw), nb))
            dx[part] = layout.image_from(internal.interior(dx_pad, pads, (h, wd)), internal)
    kh, kw = kernel
    dw = layout.filters_from(dw2d.reshape(internal.filter_shape(kh, kw, c, f)), internal)
    dw = np.ascontiguousarray(dw)
    db = dout.sum(axis=(0, 1, 2) if layout.channels_last else (0, 2, 3)) if cache.has_bias else None
    return dx, dw, db
