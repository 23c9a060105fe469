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

Average pooling is separable as well (a sum over columns, then over rows), and its
backward spreads ``dout / count`` back over the same slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import check_choice, check_float_array
from ._params import Padding4, Pair, as_pair, check_data_format, resolve_padding

__all__ = ["pool2d", "pool2d_backward", "PoolCache"]

MODES = ("max", "average")


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
        Padded input (max mode only; the input itself when there is no padding).
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


def _with_size(shape: tuple[int, ...], axis: int, size: int) -> tuple[int, ...]:
    return shape[:axis] + (size,) + shape[axis + 1:]


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
                   ufunc: np.ufunc) -> np.ndarray:
    """``r[.., q, ..] = ufunc.reduce(a[.., q * stride + k, ..] for k < window)`` along ``axis``.

    Always returns a fresh array (safe to modify in place).
    """
    if window == 1:
        return a[_index(axis, _offsets(0, stride, n_out))].copy()
    result = ufunc(a[_index(axis, _offsets(0, stride, n_out))], a[_index(axis, _offsets(1, stride, n_out))])
    for k in range(2, window):
        ufunc(result, a[_index(axis, _offsets(k, stride, n_out))], out=result)
    return result


def _route_first_max(dout: np.ndarray, a: np.ndarray, reduced: np.ndarray, axis: int,
                     window: int, stride: int) -> np.ndarray:
    """Backward of one max stage: send ``dout`` to the first ``a`` equal to ``reduced``.

    ``reduced`` (shape of ``dout``) is the windowed maximum of ``a`` along ``axis``.
    For every output position the offsets ``k = 0, 1, ...`` are visited in order and
    the gradient goes to the first offset whose value equals the maximum.
    """
    n_out = dout.shape[axis]
    da = np.zeros(a.shape, dtype=dout.dtype)
    taken = np.zeros(dout.shape, dtype=bool)
    hit = np.empty(dout.shape, dtype=bool)
    zero = dout.dtype.type(0)
    for k in range(window):
        sl = _index(axis, _offsets(k, stride, n_out))
        np.equal(a[sl], reduced, out=hit)
        if k > 0:
            hit &= ~taken
        if k < window - 1:
            taken |= hit
        da[sl] += np.where(hit, dout, zero)
    return da


def _window_scatter(g: np.ndarray, axis: int, size: int, window: int, stride: int) -> np.ndarray:
    """Adjoint of a windowed sum: ``d[.., q * stride + k, ..] += g[.., q, ..]`` for every ``k``."""
    n_out = g.shape[axis]
    if stride == window and size == window * n_out:
        # Non-overlapping windows tiling the axis: repeat every entry ``window`` times.
        return np.repeat(g, window, axis=axis)
    d = np.zeros(_with_size(g.shape, axis, size), dtype=g.dtype)
    d[_index(axis, _offsets(0, stride, n_out))] = g
    for k in range(1, window):
        d[_index(axis, _offsets(k, stride, n_out))] += g
    return d


def _tile_view(a: np.ndarray, h_axis: int, pool: Pair, out_hw: Pair) -> np.ndarray:
    """6-D view splitting H into (out_h, kh) and W into (out_w, kw): no copy.

    Valid when the windows tile ``a`` exactly (stride == pool size and
    ``a.shape[h_axis] == out_h * kh``, likewise for W). ``a`` may be any strided view.
    """
    (kh, kw), (oh, ow) = pool, out_hw
    sh, sw = a.strides[h_axis], a.strides[h_axis + 1]
    shape = a.shape[:h_axis] + (oh, kh, ow, kw) + a.shape[h_axis + 2:]
    strides = a.strides[:h_axis] + (kh * sh, sh, kw * sw, sw) + a.strides[h_axis + 2:]
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)


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


def _keep_first_hits(hits: list[np.ndarray]) -> None:
    """In place: keep, at every position, only the first ``True`` along the list (row-major order)."""
    free = ~hits[0]
    for hit in hits[1:]:
        hit &= free
        free ^= hit


def _tiled_max_backward(dout: np.ndarray, xp: np.ndarray, out: np.ndarray, h_axis: int,
                        pool: Pair) -> np.ndarray:
    """Backward of max pooling over windows that tile ``xp`` exactly (stride == pool size).

    ``hit = (element == its window's max)``; when some window holds several maxima
    (more hits than windows), only the first hit in row-major order is kept. Then
    ``dx = hit * dout``. Two equivalent evaluations, chosen for long inner loops:

    - a 6-D view ``(.., out_h, kh, out_w, kw, ..)`` against ``out`` broadcast over each
      window, when the innermost axis of that view (C in NHWC, kw in NCHW) is long;
    - otherwise one window row ``i`` at a time against ``out`` repeated ``kw`` times
      along W, so that the inner loops run over whole contiguous rows.
    """
    kh, kw = pool
    w_axis = h_axis + 1
    oh, ow = out.shape[h_axis], out.shape[w_axis]
    lead = (slice(None),) * h_axis
    innermost = xp.shape[-1] if h_axis == 1 else kw
    if innermost >= 16:
        x6 = _tile_view(xp, h_axis, pool, (oh, ow))
        expand = (h_axis + 1, h_axis + 3)
        hit6 = np.equal(x6, np.expand_dims(out, expand))
        if np.count_nonzero(hit6) != out.size:
            _keep_first_hits([hit6[lead + (slice(None), i, slice(None), j)]
                              for i in range(kh) for j in range(kw)])
        dx6 = np.empty(x6.shape, dtype=dout.dtype)
        np.multiply(hit6, np.expand_dims(dout, expand), out=dx6)
        return dx6.reshape(xp.shape)
    out_rep = np.repeat(out, kw, axis=w_axis) if kw > 1 else out
    dout_rep = np.repeat(dout, kw, axis=w_axis) if kw > 1 else dout
    rows = [lead + (_offsets(i, kh, oh),) for i in range(kh)]
    hits = [np.equal(xp[r], out_rep) for r in rows]
    if sum(np.count_nonzero(hit) for hit in hits) != out.size:
        cols = [(slice(None),) * w_axis + (slice(j, None, kw),) for j in range(kw)]
        _keep_first_hits([hit[c] for hit in hits for c in cols])
    dxp = np.empty(xp.shape, dtype=dout.dtype)
    for r, hit in zip(rows, hits, strict=True):
        np.multiply(hit, dout_rep, out=dxp[r])
    return dxp


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
    cache : PoolCache
        For :func:`pool2d_backward`.

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
    for side, pad in zip(("top", "bottom", "left", "right"), pads, strict=True):
        window = pool[0] if side in ("top", "bottom") else pool[1]
        if pad >= window:
            raise ValueError(
                f"padding on the {side} ({pad}) must be smaller than the pool window ({window}) "
                f"so that every window holds a real pixel; got padding={padding!r}, pool_size={pool_size!r}"
            )
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
            out = _max_over_offsets(xp_used, h_axis, pool, strides, (out_h, out_w))
            cache = PoolCache(x.shape, out.shape, x.dtype, mode, data_format, pool, strides, pads,
                              xp=xp_used, out=out)
            return out, cache
        m1 = _window_reduce(xp_used, w_axis, kw, sw, out_w, np.maximum)
        out = _window_reduce(m1, h_axis, kh, sh, out_h, np.maximum)
        cache = PoolCache(x.shape, out.shape, x.dtype, mode, data_format, pool, strides, pads,
                          xp=xp_used, m1=m1, out=out)
        return out, cache
    xp = _pad(x, pads, h_axis, 0.0)
    xp = xp[_index(h_axis, slice(0, (out_h - 1) * sh + kh))]
    xp = xp[_index(w_axis, slice(0, (out_w - 1) * sw + kw))]
    s1 = _window_reduce(xp, w_axis, kw, sw, out_w, np.add)
    total = _window_reduce(s1, h_axis, kh, sh, out_h, np.add)
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
    if not isinstance(cache, PoolCache):
        raise TypeError(f"cache must be the PoolCache returned by pool2d, got {type(cache).__name__}")
    dout = check_float_array(dout, "dout", 4)
    if dout.shape != cache.out_shape:
        raise ValueError(f"dout must have the forward output's shape {cache.out_shape}, got {dout.shape}")
    if dout.dtype != cache.dtype:
        raise TypeError(f"dout must have the forward input's dtype {cache.dtype}, got {dout.dtype}")
    h_axis, w_axis = _spatial_axes(cache.data_format)
    kh, kw = cache.pool
    sh, sw = cache.stride
    padded_h = cache.x_shape[h_axis] + cache.pads[0] + cache.pads[1]
    padded_w = cache.x_shape[w_axis] + cache.pads[2] + cache.pads[3]
    if cache.mode == "max":
        assert cache.xp is not None and cache.out is not None
        if cache.m1 is None:
            dxp_used = _tiled_max_backward(dout, cache.xp, cache.out, h_axis, cache.pool)
        else:
            dm1 = _route_first_max(dout, cache.m1, cache.out, h_axis, kh, sh)
            dxp_used = _route_first_max(dm1, cache.xp, cache.m1, w_axis, kw, sw)
    else:
        g = dout / cache.count if isinstance(cache.count, np.ndarray) else dout * dout.dtype.type(
            1.0 / cache.count)
        used_h = (dout.shape[h_axis] - 1) * sh + kh
        used_w = (dout.shape[w_axis] - 1) * sw + kw
        d1 = _window_scatter(g, h_axis, used_h, kh, sh)
        dxp_used = _window_scatter(d1, w_axis, used_w, kw, sw)
    if dxp_used.shape[h_axis] != padded_h or dxp_used.shape[w_axis] != padded_w:
        shape = list(dxp_used.shape)
        shape[h_axis], shape[w_axis] = padded_h, padded_w
        dxp = np.zeros(shape, dtype=dout.dtype)
        dxp[_index(h_axis, slice(0, dxp_used.shape[h_axis]))][
            _index(w_axis, slice(0, dxp_used.shape[w_axis]))] = dxp_used
    else:
        dxp = dxp_used
    dx = _unpad(dxp, cache.pads, cache.x_shape, h_axis)
    return np.ascontiguousarray(dx)

