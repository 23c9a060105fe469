"""2-D max and average pooling, vectorized, with their backward passes.

Both layouts are handled without transposing: every window offset ``(i, j)`` is
a strided slice of the (padded) input, so the kernels are a handful of whole-array
NumPy operations per window row or column.

Max pooling is computed in two separable stages: a maximum over the window's
columns, ``m1[h, q] = max_j x[h, q * sw + j]``, then over its rows,
``out[p, q] = max_i m1[p * sh + i, q]``. The backward pass walks the same stages
in reverse and, at each stage, routes the gradient to the *first* offset that
attains the maximum. The first row whose column-maximum wins, then the first
column within that row, is exactly the first maximum of the window in row-major
order, which is PyTorch's choice: on ties, exactly one input element per window
receives that window's gradient. Overlapping windows (``stride < pool_size``)
accumulate with ``+=`` over the window offsets (no ``np.add.at``).

When ``stride == pool_size`` the windows tile the (padded, cropped) input, and a
faster path applies: the forward may take the maxima in any order (rows first, so
that the inner loops run over whole contiguous rows), and the backward marks
``element == its window's max`` for the whole input at once, keeping only the first
hit in row-major order of a window that holds tied maxima, then multiplies by ``dout``.

Average pooling is separable as well (a sum over columns, then over rows), and its
backward spreads ``dout / count`` back over the same slices.

All paths process the batch a few samples at a time (``_CHUNK_BYTES``), so that the
intermediates of one stage are still in cache when the next stage reads them. The chunks
of the tiled max backward run on several threads when :func:`.set_num_threads` asks for them
(each chunk writes only its own samples, so the result does not depend on it). Every
kernel keeps the input dtype (float32 or float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import check_choice, check_float_array, dtype_name
from . import _parallel, _registry
from ._params import Padding4, Pair, as_pair, check_buffers, check_data_format, resolve_padding

__all__ = ["pool2d", "pool2d_backward", "PoolCache"]

MODES = ("max", "average")
# Bytes of temporaries per chunk of samples (sized to stay in a core's L2 cache): the kernels
# work a few samples at a time so that intermediates are reused while still in cache.
_CHUNK_BYTES = 1 << 19


@dataclass(frozen=True)
class PoolCache:
    """What :func:`pool2d_backward` needs from the forward pass.

    Attributes
    ----------
    x_shape : tuple of int
        Shape of the unpadded input.
    out_shape : tuple of int
        Shape of the output (and of ``dout``).
    dtype : numpy.dtype
        Input dtype (float32 or float64).
    mode, data_format : str
        As given to :func:`pool2d`.
    pool, stride : (int, int)
        Window size and stride as ``(height, width)``.
    pads : (top, bottom, left, right)
        Explicit padding of each side.
    xp : ndarray or None
        Padded input cropped to the rows/columns some window reaches (max mode only;
        a view of the input itself when there is no padding, so the input must not be
        modified in place before the backward pass).
    m1 : ndarray or None
        Column-stage maxima (max mode with stride != pool size only).
    out : ndarray or None
        Forward output (max mode only).
    count : ndarray or float or None
        Number of real (non-padding) pixels of every window (average mode only),
        broadcastable against the output, or a plain number without padding.
    """

    x_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    dtype: np.dtype
    mode: str
    data_format: str
    pool: Pair
    stride: Pair
    pads: Padding4
    xp: np.ndarray | None = None
    m1: np.ndarray | None = None
    out: np.ndarray | None = None
    count: np.ndarray | float | None = None


def _spatial_axes(data_format: str) -> tuple[int, int]:
    return (1, 2) if data_format == "NHWC" else (2, 3)


def _index(axis: int, sl: slice) -> tuple[slice, ...]:
    """``(slice(None),) * axis + (sl,)``: a slice along one axis of a 4-D array."""
    return (slice(None),) * axis + (sl,)


def _offsets(start: int, stride: int, count: int) -> slice:
    """The ``count`` positions ``start, start + stride, ...`` as a slice."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _out_shape(shape: tuple[int, ...], h_axis: int, height: int, width: int) -> tuple[int, ...]:
    """``shape`` with its spatial sizes replaced by ``(height, width)``."""
    new = list(shape)
    new[h_axis], new[h_axis + 1] = height, width
    return tuple(new)


def _pad(x: np.ndarray, pads: Padding4, h_axis: int, fill: float) -> np.ndarray:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    shape = list(x.shape)
    shape[h_axis] += top + bottom
    shape[h_axis + 1] += left + right
    xp = np.full(shape, fill, dtype=x.dtype)
    inner = [slice(None)] * 4
    inner[h_axis] = slice(top, top + x.shape[h_axis])
    inner[h_axis + 1] = slice(left, left + x.shape[h_axis + 1])
    xp[tuple(inner)] = x
    return xp


def _unpad(dxp: np.ndarray, pads: Padding4, x_shape: tuple[int, ...], h_axis: int) -> np.ndarray:
    if not any(pads):
        return dxp
    top, _, left, _ = pads
    inner = [slice(None)] * 4
    inner[h_axis] = slice(top, top + x_shape[h_axis])
    inner[h_axis + 1] = slice(left, left + x_shape[h_axis + 1])
    return np.ascontiguousarray(dxp[tuple(inner)])


def _window_reduce(a: np.ndarray, axis: int, window: int, stride: int, n_out: int,
                   ufunc: np.ufunc, out: np.ndarray | None = None) -> np.ndarray:
    """``r[.., q, ..] = ufunc.reduce(a[.., q * stride + k, ..] for k < window)`` along ``axis``.

    Written into ``out`` when given, else into a fresh array (safe to modify in place).
    """
    first = a[_index(axis, _offsets(0, stride, n_out))]
    if out is None:
        out = np.empty(first.shape, dtype=a.dtype)
    if window == 1:
        out[...] = first
        return out
    ufunc(first, a[_index(axis, _offsets(1, stride, n_out))], out=out)
    for k in range(2, window):
        ufunc(out, a[_index(axis, _offsets(k, stride, n_out))], out=out)
    return out


def _batch_chunks(n: int, bytes_per_sample: int) -> list[slice]:
    """Slices of a few samples each, so that per-chunk temporaries stay in cache."""
    chunk = max(1, _CHUNK_BYTES // max(bytes_per_sample, 1))
    return [slice(start, start + chunk) for start in range(0, n, chunk)]


def _fills_all(stride: int, window: int) -> bool:
    """Whether a backward stage initialises every element of its target by itself.

    With ``stride == window`` the windows tile the axis and every element is written
    once; with ``stride == 1`` the offset-0 pass writes all but the last ``window - 1``
    elements, which :func:`_zero_tail` clears before the other offsets accumulate. Any
    other stride leaves gaps or accumulates onto unwritten elements: the target must
    then start from zeros.
    """
    return stride == window or stride == 1


def _zero_tail(d: np.ndarray, axis: int, stride: int, window: int, n_out: int) -> None:
    """With ``stride == 1``, zero the elements the offset-0 pass does not reach."""
    if stride == 1 and window > 1:
        d[_index(axis, slice(n_out, None))] = 0


def _route_first_max(dout: np.ndarray, a: np.ndarray, reduced: np.ndarray, axis: int,
                     window: int, stride: int, da: np.ndarray) -> None:
    """Backward of one max stage: add ``dout`` to ``da`` at the first ``a`` equal to ``reduced``.

    ``reduced`` (shape of ``dout``) is the windowed maximum of ``a`` along ``axis``;
    ``da`` (shape of ``a``, may be a view) receives the gradient; it must be zero on
    entry unless :func:`_fills_all` holds for ``(stride, window)``. For
    every output position the offsets ``k = 0, 1, ...`` are visited in order and the
    gradient goes to the first offset whose value equals the maximum (``free`` marks
    the positions not yet served).
    """
    n_out = dout.shape[axis]
    disjoint = stride >= window  # windows do not overlap: plain writes, no accumulation
    hit = np.empty(dout.shape, dtype=bool)
    routed = None if disjoint else np.empty(dout.shape, dtype=dout.dtype)
    free = None
    for k in range(window):
        sl = _index(axis, _offsets(k, stride, n_out))
        np.equal(a[sl], reduced, out=hit)
        if k == 0:
            if window > 1:
                free = np.logical_not(hit)
        else:
            hit &= free
            if k < window - 1:
                free ^= hit
        if k == 0 or disjoint:
            np.multiply(hit, dout, out=da[sl])
            if k == 0:
                _zero_tail(da, axis, stride, window, n_out)
        else:
            np.multiply(hit, dout, out=routed)
            da[sl] += routed


def _window_scatter(g: np.ndarray, axis: int, window: int, stride: int, d: np.ndarray) -> None:
    """Adjoint of a windowed sum: ``d[.., q * stride + k, ..] += g[.., q, ..]`` for every ``k``.

    ``d`` (it may be a view) must be zero on entry unless :func:`_fills_all` holds.
    """
    n_out = g.shape[axis]
    for k in range(window):
        sl = _index(axis, _offsets(k, stride, n_out))
        if k == 0 or stride >= window:
            d[sl] = g
            if k == 0:
                _zero_tail(d, axis, stride, window, n_out)
        else:
            d[sl] += g


def _tile_view(a: np.ndarray, h_axis: int, pool: Pair, out_hw: Pair, writeable: bool = False) -> np.ndarray:
    """6-D view splitting H into (out_h, kh) and W into (out_w, kw): no copy.

    Valid when the windows tile ``a`` exactly (stride == pool size and
    ``a.shape[h_axis] == out_h * kh``, likewise for W). ``a`` may be any strided view.
    """
    (kh, kw), (oh, ow) = pool, out_hw
    sh, sw = a.strides[h_axis], a.strides[h_axis + 1]
    shape = a.shape[:h_axis] + (oh, kh, ow, kw) + a.shape[h_axis + 2:]
    strides = a.strides[:h_axis] + (kh * sh, sh, kw * sw, sw) + a.strides[h_axis + 2:]
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=writeable)


def _max_over_offsets(xp: np.ndarray, h_axis: int, pool: Pair, stride: Pair, out_hw: Pair) -> np.ndarray:
    """``out = max over (i, j) of xp[.., i + sh * p, j + sw * q, ..]``, one ``np.maximum`` per offset."""
    offsets = [(i, j) for i in range(pool[0]) for j in range(pool[1])]

    def window(i: int, j: int) -> np.ndarray:
        rows = _offsets(i, stride[0], out_hw[0])
        cols = _offsets(j, stride[1], out_hw[1])
        return xp[(slice(None),) * h_axis + (rows, cols)]

    if len(offsets) == 1:
        return window(0, 0).copy()
    out = np.maximum(window(*offsets[0]), window(*offsets[1]))
    for i, j in offsets[2:]:
        np.maximum(out, window(i, j), out=out)
    return out


def _keep_first_hits(rows: list[np.ndarray], kw_axis: int) -> None:
    """In place: keep, in every window, only its first hit in row-major order.

    ``rows[i]`` holds the hits of window row ``i`` (a boolean array or view), with the
    window column ``j`` along ``kw_axis``, the window index along the axis before it, and
    the same window at the same position of every other axis. Each hit gets the rank
    ``kh * kw - (i * kw + j)`` (larger = earlier); the window's largest rank marks its first
    hit, and every other hit is cleared. A few passes per window row over whole arrays
    (the rank pattern and the window maximum are materialised, not broadcast, so that
    the inner loops stay long): 6x faster than one pass per window offset over short
    strided runs for 8x8 windows over 8 channels.
    """
    kh, kw = len(rows), rows[0].shape[kw_axis]
    dtype = np.min_scalar_type(kh * kw + 1)
    pattern = [1] * rows[0].ndim
    pattern[kw_axis] = kw
    column = np.arange(kw, dtype=dtype).reshape(pattern)
    column = np.ascontiguousarray(np.broadcast_to(column, (1,) * (kw_axis - 1) + rows[0].shape[kw_axis - 1:]))
    ranks = [np.multiply(row, dtype.type(kh * kw - i * kw) - column, dtype=dtype)
             for i, row in enumerate(rows)]
    best_of_rows = ranks[0].copy()
    for rank in ranks[1:]:
        np.maximum(best_of_rows, rank, out=best_of_rows)
    column_index = [slice(None)] * best_of_rows.ndim
    best = None
    for j in range(kw):
        column_index[kw_axis] = slice(j, j + 1)
        part = best_of_rows[tuple(column_index)]
        best = part.copy() if best is None else np.maximum(best, part, out=best)
    best[best == 0] = np.iinfo(dtype).max  # a window without hits (NaN inside): nothing matches
    best = np.repeat(best, kw, axis=kw_axis)
    for row, rank in zip(rows, ranks, strict=True):
        np.equal(rank, best, out=row)


def _split_axis(a: np.ndarray, axis: int, inner: int) -> np.ndarray:
    """View of ``a`` with ``axis`` split into ``(a.shape[axis] // inner, inner)`` (never a copy)."""
    shape = a.shape[:axis] + (a.shape[axis] // inner, inner) + a.shape[axis + 1:]
    return np.reshape(a, shape, copy=False)


def _tiled_max_backward(dout: np.ndarray, xp: np.ndarray, out: np.ndarray, h_axis: int,
                        pool: Pair, dxp: np.ndarray) -> None:
    """Backward of max pooling over windows that tile ``xp`` exactly (stride == pool size).

    ``hit = (element == its window's max)``; when some window holds several maxima
    (more hits than windows), only the first hit in row-major order is kept. Then
    ``dx = hit * dout``. Two equivalent evaluations, chosen for long inner loops:

    - a 6-D view ``(.., out_h, kh, out_w, kw, ..)`` against ``out`` broadcast over each
      window, when the innermost axis of that view (C in NHWC, kw in NCHW) is long;
    - otherwise one window row ``i`` at a time against ``out`` repeated ``kw`` times
      along W, so that the inner loops run over whole contiguous rows.

    The result is written into ``dxp`` (shape of ``xp``, may be a view).
    """
    kh, kw = pool
    w_axis = h_axis + 1
    oh, ow = out.shape[h_axis], out.shape[w_axis]
    lead = (slice(None),) * h_axis
    innermost = xp.shape[-1] if h_axis == 1 else kw
    if innermost >= 16:
        x6 = _tile_view(xp, h_axis, pool, (oh, ow))
        dx6 = _tile_view(dxp, h_axis, pool, (oh, ow), writeable=True)
        expand = (h_axis + 1, h_axis + 3)
        out6, dout6 = np.expand_dims(out, expand), np.expand_dims(dout, expand)

        def backward_6d(batch: slice) -> None:
            hit6 = np.equal(x6[batch], out6[batch])
            if np.count_nonzero(hit6) != out[batch].size:
                _keep_first_hits([hit6[lead + (slice(None), i)] for i in range(kh)], w_axis + 1)
            np.multiply(hit6, dout6[batch], out=dx6[batch])

        # A few samples at a time, so that the boolean mask stays in cache.
        _parallel.map_chunks(backward_6d, _batch_chunks(out.shape[0], x6[:1].size))
        return
    # Row by row, a few samples at a time so that the repeated out/dout stay in cache
    # while the kh window rows are compared against them.
    rows = [lead + (_offsets(i, kh, oh),) for i in range(kh)]

    def backward_rows(batch: slice) -> None:
        out_rep = np.repeat(out[batch], kw, axis=w_axis)
        dout_rep = np.repeat(dout[batch], kw, axis=w_axis)
        xb, dxb = xp[batch], dxp[batch]
        hits = [np.equal(xb[r], out_rep) for r in rows]
        if sum(np.count_nonzero(hit) for hit in hits) != out_rep.size // kw:
            _keep_first_hits([_split_axis(hit, w_axis, kw) for hit in hits], w_axis + 1)
        for r, hit in zip(rows, hits, strict=True):
            np.multiply(hit, dout_rep, out=dxb[r])

    _parallel.map_chunks(backward_rows, _batch_chunks(out.shape[0], out[:1].nbytes * kw * 2))


def _window_counts(in_size: int, window: int, stride: int, pad_before: int, n_out: int) -> np.ndarray:
    """Number of real pixels in each window along one axis (padding excluded)."""
    starts = np.arange(n_out) * stride - pad_before
    ends = starts + window
    return np.minimum(ends, in_size) - np.maximum(starts, 0)


def pool2d(
    x: np.ndarray,
    pool_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] | str = "valid",
    mode: str = "max",
    data_format: str = "NHWC",
) -> tuple[np.ndarray, PoolCache]:
    """2-D max or average pooling.

    Parameters
    ----------
    x : ndarray, float32 or float64
        Input, ``(N, H, W, C)`` for ``"NHWC"`` or ``(N, C, H, W)`` for ``"NCHW"``.
    pool_size : int or (int, int)
        Window size ``(kh, kw)``, each >= 1.
    stride : int or (int, int), optional
        Step ``(sh, sw)`` between windows, each >= 1; defaults to ``pool_size``.
        ``stride < pool_size`` gives overlapping windows.
    padding : int, (int, int), "valid" or "same"
        ``"valid"``: no padding, ``out = floor((in - k) / s) + 1``. ``"same"``:
        TensorFlow's rule, ``out = ceil(in / s)`` with total padding
        ``max((out - 1) * s + k - in, 0)`` and the extra pixel at the bottom/right.
        An int or ``(ph, pw)`` pads both sides of each axis by that much; each side's
        padding must be smaller than the window so that every window holds a real pixel.
    mode : {"max", "average"}
        ``"max"``: padding is ``-inf`` and is never selected. ``"average"``: the mean
        over the real pixels of each window; padding is *excluded* from the count,
        for ``"same"`` (as TensorFlow) and for explicit integer padding alike (as
        PyTorch's ``avg_pool2d(..., count_include_pad=False)``).
    data_format : {"NHWC", "NCHW"}

    Returns
    -------
    out : ndarray
        ``(N, out_h, out_w, C)`` or ``(N, C, out_h, out_w)``, dtype of ``x``.
    cache : PoolCache (NumPy) or the compiled kernels' cache
        For :func:`pool2d_backward`, which runs the implementation that made it
        (:mod:`._registry`).

    Notes
    -----
    Max-pool gradients follow PyTorch: each window's gradient goes to ONE input
    element, the first maximum of the window in row-major order. (The course's
    ``pool_backward`` instead gives every tied maximum the full gradient.) NaN
    inputs are not supported.

    Raises
    ------
    TypeError
        ``x`` not a float32/float64 ndarray; non-integer sizes.
    ValueError
        Wrong rank, bad ``pool_size``/``stride``/``padding``/``mode``/``data_format``,
        padding not smaller than the window, or a window that does not fit.
    """
    data_format = check_data_format(data_format)
    x = check_float_array(x, "x", 4, "(N, H, W, C)" if data_format == "NHWC" else "(N, C, H, W)")
    mode = check_choice(mode, "mode", MODES)
    pool = as_pair(pool_size, "pool_size", 1)
    strides = pool if stride is None else as_pair(stride, "stride", 1)
    h_axis, w_axis = _spatial_axes(data_format)
    in_hw = (x.shape[h_axis], x.shape[w_axis])
    pads, (out_h, out_w) = resolve_padding(padding, in_hw, pool, strides)
    padded_hw = (in_hw[0] + pads[0] + pads[1], in_hw[1] + pads[2] + pads[3])
    channels = x.shape[3] if data_format == "NHWC" else x.shape[1]
    check_buffers(padding, x.shape[0], channels, padded_hw, (out_h, out_w), None, channels, x.dtype)
    for side, pad in zip(("top", "bottom", "left", "right"), pads, strict=True):
        window = pool[0] if side in ("top", "bottom") else pool[1]
        if pad >= window:
            raise ValueError(
                f"padding on the {side} ({pad}) must be smaller than the pool window ({window}) "
                f"so that every window holds a real pixel; got padding={padding!r}, pool_size={pool_size!r}"
            )
    problem = {"dtype": dtype_name(x.dtype), "layout": data_format, "mode": mode}
    impl = _registry.choose("pool2d", problem)
    if impl.name != "numpy":
        return impl.forward(x, pool, strides, pads, (out_h, out_w), mode, data_format)
    return _numpy_pool2d(x, pool, strides, pads, (out_h, out_w), mode, data_format)


def _numpy_pool2d(x: np.ndarray, pool: Pair, strides: Pair, pads: Padding4, out_hw: Pair, mode: str,
                  data_format: str) -> tuple[np.ndarray, PoolCache]:
    """:func:`pool2d` with the NumPy kernels, for validated arguments."""
    h_axis, w_axis = _spatial_axes(data_format)
    in_hw = (x.shape[h_axis], x.shape[w_axis])
    out_h, out_w = out_hw
    kh, kw = pool
    sh, sw = strides
    if mode == "max":
        xp = _pad(x, pads, h_axis, -np.inf)
        # Drop trailing rows/columns no window reaches.
        xp_used = xp[_index(h_axis, slice(0, (out_h - 1) * sh + kh))]
        xp_used = xp_used[_index(w_axis, slice(0, (out_w - 1) * sw + kw))]
        if strides == pool:
            # Windows tile xp_used exactly: one maximum per window offset, and a
            # one-shot backward (see _tiled_max_backward).
            if h_axis == 1 and kh * kw <= 4:
                # Small NHWC windows: one maximum per offset, inner loops over C.
                out = _max_over_offsets(xp_used, h_axis, pool, strides, (out_h, out_w))
            else:
                # Rows first (inner loops over whole contiguous rows), then columns.
                out = np.empty(_out_shape(x.shape, h_axis, out_h, out_w), dtype=x.dtype)
                row_bytes = xp_used[:1].nbytes // kh
                for b in _batch_chunks(x.shape[0], row_bytes):
                    rows_max = _window_reduce(xp_used[b], h_axis, kh, sh, out_h, np.maximum)
                    _window_reduce(rows_max, w_axis, kw, sw, out_w, np.maximum, out=out[b])
            cache = PoolCache(x.shape, out.shape, x.dtype, mode, data_format, pool, strides, pads,
                              xp=xp_used, out=out)
            return out, cache
        m1_shape = _out_shape(xp_used.shape, h_axis, xp_used.shape[h_axis], out_w)
        m1 = np.empty(m1_shape, dtype=x.dtype)
        out = np.empty(_out_shape(x.shape, h_axis, out_h, out_w), dtype=x.dtype)
        for b in _batch_chunks(x.shape[0], m1[:1].nbytes):
            _window_reduce(xp_used[b], w_axis, kw, sw, out_w, np.maximum, out=m1[b])
            _window_reduce(m1[b], h_axis, kh, sh, out_h, np.maximum, out=out[b])
        cache = PoolCache(x.shape, out.shape, x.dtype, mode, data_format, pool, strides, pads,
                          xp=xp_used, m1=m1, out=out)
        return out, cache
    xp = _pad(x, pads, h_axis, 0.0)
    xp = xp[_index(h_axis, slice(0, (out_h - 1) * sh + kh))]
    xp = xp[_index(w_axis, slice(0, (out_w - 1) * sw + kw))]
    total = np.empty(_out_shape(x.shape, h_axis, out_h, out_w), dtype=x.dtype)
    for b in _batch_chunks(x.shape[0], xp[:1].nbytes // kw):
        s1 = _window_reduce(xp[b], w_axis, kw, sw, out_w, np.add)
        _window_reduce(s1, h_axis, kh, sh, out_h, np.add, out=total[b])
    if any(pads):
        rows = _window_counts(in_hw[0], kh, sh, pads[0], out_h)
        cols = _window_counts(in_hw[1], kw, sw, pads[2], out_w)
        shape = [1, 1, 1, 1]
        shape[h_axis], shape[w_axis] = out_h, 1
        rows = rows.reshape(shape)
        shape[h_axis], shape[w_axis] = 1, out_w
        count: np.ndarray | float = (rows * cols.reshape(shape)).astype(x.dtype)
        total /= count
    else:
        count = float(kh * kw)
        total *= x.dtype.type(1.0 / count)
    out = total
    cache = PoolCache(x.shape, out.shape, x.dtype, mode, data_format, pool, strides, pads, count=count)
    return out, cache


def pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Gradient of :func:`pool2d` with respect to its input.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient, the shape and dtype of the forward output.
    cache : PoolCache
        From :func:`pool2d`.

    Returns
    -------
    dx : ndarray
        Shape and dtype of the forward input. Max mode: each window's ``dout`` is
        added to the first maximum of the window (row-major); average mode:
        ``dout / count`` is added to every real pixel of the window. Overlapping
        windows accumulate.
    """
    impl = _registry.implementation_of("pool2d", cache)
    if impl is None:
        raise TypeError(f"cache must be the PoolCache returned by pool2d, got {type(cache).__name__}")
    if impl.name != "numpy":
        return impl.backward(dout, cache)
    return _numpy_pool2d_backward(dout, cache)


def _numpy_pool2d_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """:func:`pool2d_backward` with the NumPy kernels."""
    dout = check_float_array(dout, "dout", 4)
    if dout.shape != cache.out_shape:
        raise ValueError(f"dout must have the forward output's shape {cache.out_shape}, got {dout.shape}")
    if dout.dtype != cache.dtype:
        raise TypeError(f"dout must have the forward input's dtype {cache.dtype}, got {dout.dtype}")
    h_axis, w_axis = _spatial_axes(cache.data_format)
    kh, kw = cache.pool
    sh, sw = cache.stride
    padded_shape = list(cache.x_shape)
    padded_shape[h_axis] += cache.pads[0] + cache.pads[1]
    padded_shape[w_axis] += cache.pads[2] + cache.pads[3]
    used_h = (dout.shape[h_axis] - 1) * sh + kh
    used_w = (dout.shape[w_axis] - 1) * sw + kw
    # Skip the zero fill where the backward stages write every element themselves
    # (see _fills_all): windows reach every row and column and the strides suit.
    fills_all = ((used_h, used_w) == (padded_shape[h_axis], padded_shape[w_axis])
                 and _fills_all(sh, kh) and _fills_all(sw, kw))
    dxp = (np.empty if fills_all else np.zeros)(padded_shape, dtype=dout.dtype)
    alloc_h = np.empty if _fills_all(sh, kh) else np.zeros  # for the row-stage targets
    # Rows/columns past the last window get no gradient: work on the region windows reach.
    used = dxp[_index(h_axis, slice(0, used_h))]
    used = used[_index(w_axis, slice(0, used_w))]
    if cache.mode == "max":
        assert cache.xp is not None and cache.out is not None
        if cache.m1 is None:
            _tiled_max_backward(dout, cache.xp, cache.out, h_axis, cache.pool, used)
        else:
            for b in _batch_chunks(dout.shape[0], cache.m1[:1].nbytes):
                m1 = cache.m1[b]
                dm1 = alloc_h(m1.shape, dtype=dout.dtype)
                _route_first_max(dout[b], m1, cache.out[b], h_axis, kh, sh, dm1)
                _route_first_max(dm1, cache.xp[b], m1, w_axis, kw, sw, used[b])
    else:
        if isinstance(cache.count, np.ndarray):
            g = dout / cache.count
        else:
            g = dout * dout.dtype.type(1.0 / cache.count)
        d1_shape = _out_shape(dout.shape, h_axis, used.shape[h_axis], dout.shape[w_axis])
        for b in _batch_chunks(dout.shape[0], used[:1].nbytes // kw):
            d1 = alloc_h((min(b.stop, dout.shape[0]) - b.start,) + d1_shape[1:], dtype=dout.dtype)
            _window_scatter(g[b], h_axis, kh, sh, d1)
            _window_scatter(d1, w_axis, kw, sw, used[b])
    return _unpad(dxp, cache.pads, cache.x_shape, h_axis)


_registry.register("pool2d", _registry.Implementation(
    "numpy", lambda problem: True, _numpy_pool2d, _numpy_pool2d_backward, PoolCache))
