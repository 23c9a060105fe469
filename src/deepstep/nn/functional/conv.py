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
from .im2col import Layout, col2im, im2col, layout_for, pad_image

__all__ = ["conv2d", "conv2d_backward", "set_workspace_limit", "get_workspace_limit", "ConvCache"]

DEFAULT_WORKSPACE_BYTES = 256 * 2**20
_workspace_limit = DEFAULT_WORKSPACE_BYTES


def set_workspace_limit(nbytes: int) -> None:
    """Set the default memory budget (bytes) of the column buffers of one chunk.

    The batch is processed in chunks whose column buffers (``im2col`` in the forward
    pass; ``col`` and ``dcol`` together in the backward pass) stay within this many
    bytes. A single sample is always processed whole, even if it alone exceeds the
    limit.
    """
    global _workspace_limit
    _workspace_limit = check_int(nbytes, "workspace limit (bytes)", 1)


def get_workspace_limit() -> int:
    """The current default workspace limit in bytes (see :func:`set_workspace_limit`)."""
    return _workspace_limit


@dataclass
class ConvCache:
    """What :func:`conv2d_backward` needs from the forward pass.

    ``col`` is the forward's column buffer, kept only when the whole batch fitted
    in one chunk; otherwise the backward pass rebuilds it chunk by chunk from ``x``
    so that the workspace limit also holds between the two passes.
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    layout: Layout
    stride: Pair
    pads: Padding4
    out_hw: Pair
    need_dx: bool
    workspace_bytes: int
    col: np.ndarray | None


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


def _chunk_size(n: int, bytes_per_sample: int, limit: int) -> int:
    """Number of samples per chunk so that a chunk's buffers fit ``limit`` bytes (>= 1)."""
    return max(1, min(n, limit // max(bytes_per_sample, 1)))


def _filters_2d(w: np.ndarray, layout: Layout) -> np.ndarray:
    """Filters as the matrix of the matmul: ``(kh*kw*C, F)`` (NHWC) or ``(F, C*kh*kw)`` (NCHW)."""
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


def _weight_grad(col: np.ndarray, dout: np.ndarray, layout: Layout) -> np.ndarray:
    """``dW = col^T @ dout``, ``(kh*kw*C, F)`` (NHWC), or ``sum_n dout[n] @ col[n]^T``, ``(F, C*kh*kw)``."""
    nb = dout.shape[0]
    if layout.channels_last:
        f = dout.shape[3]
        return col.reshape(-1, col.size // (nb * dout.shape[1] * dout.shape[2])).T @ dout.reshape(-1, f)
    f = dout.shape[1]
    k = col.size // (nb * dout.shape[2] * dout.shape[3])
    return np.matmul(dout.reshape(nb, f, -1), col.reshape(nb, k, -1).transpose(0, 2, 1)).sum(axis=0)


def _col_grad(dout: np.ndarray, w2d: np.ndarray, col_shape: tuple[int, ...], layout: Layout) -> np.ndarray:
    """``dcol = dout @ W^T`` (NHWC) or ``dcol[n] = W^T @ dout[n]`` (NCHW), in the column shape."""
    nb = dout.shape[0]
    if layout.channels_last:
        return (dout.reshape(-1, w2d.shape[1]) @ w2d.T).reshape(col_shape)
    return np.matmul(w2d.T, dout.reshape(nb, w2d.shape[0], -1)).reshape(col_shape)


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
        Memory budget of one chunk's column buffer; defaults to
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

    f = w.shape[3] if layout.channels_last else w.shape[0]
    w2d = _filters_2d(w, layout)
    col_bytes = c * kernel[0] * kernel[1] * out_hw[0] * out_hw[1] * x.itemsize
    chunk = _chunk_size(n, col_bytes, limit)
    out = np.empty(layout.image_shape(n, f, *out_hw), dtype=x.dtype)
    col = None
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        col = im2col(pad_image(x[part], pads, layout), kernel, stride_hw, out_hw, layout)
        _forward_matmul(col, w2d, out[part], layout)
    if b is not None:
        out += b if layout.channels_last else b[:, None, None]
    cache = ConvCache(
        x=x, w=w, has_bias=b is not None, layout=layout, stride=stride_hw, pads=pads, out_hw=out_hw,
        need_dx=bool(need_dx), workspace_bytes=limit, col=col if chunk >= n else None,
    )
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
    x, w, layout = cache.x, cache.w, cache.layout
    dout = check_float_array(dout, "dout", 4)
    if layout.channels_last:
        n, h, wd, c = x.shape
        kh, kw, _, f = w.shape
    else:
        n, c, h, wd = x.shape
        f, _, kh, kw = w.shape
    expected = layout.image_shape(n, f, *cache.out_hw)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    check_same_dtype({"x": x, "dout": dout}, "x")
    dout = np.ascontiguousarray(dout)
    kernel = (kh, kw)
    top, bottom, left, right = cache.pads
    padded_hw = (h + top + bottom, wd + left + right)
    w2d = _filters_2d(w, layout)

    col_bytes = c * kh * kw * cache.out_hw[0] * cache.out_hw[1] * x.itemsize
    per_sample = col_bytes * (2 if cache.need_dx else 1)
    chunk = n if cache.col is not None else _chunk_size(n, per_sample, cache.workspace_bytes)
    dw2d = np.zeros(w2d.shape, dtype=x.dtype)
    dx = np.empty_like(x) if cache.need_dx else None
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        col = cache.col
        if col is None:
            col = im2col(pad_image(x[part], cache.pads, layout), kernel, cache.stride, cache.out_hw, layout)
        dw2d += _weight_grad(col, dout[part], layout)
        if dx is not None:
            dcol = _col_grad(dout[part], w2d, col.shape, layout)
            dx_pad = col2im(dcol, padded_hw, cache.stride, layout)
            dx[part] = dx_pad[layout.image_index(slice(top, top + h), slice(left, left + wd))]
    dw = dw2d.reshape(w.shape)
    db = dout.sum(axis=(0, 1, 2) if layout.channels_last else (0, 2, 3)) if cache.has_bias else None
    return dx, dw, db
