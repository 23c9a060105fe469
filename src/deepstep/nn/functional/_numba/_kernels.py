"""Hand-written Numba kernels (NHWC): padding copies, pooling and ReLU.

Each kernel is parallel over independent samples or output rows (``prange``), and each output
element is computed by one thread in a fixed loop order, so results do not depend on the thread
count; each also has a serial twin (``name_serial``, :mod:`._twins`). The register-blocked
convolution kernels are generated (:mod:`.._numba_codegen`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._twins import twins


@njit(cache=True, nogil=True, inline="always")
def _copy_run(d, do, s, so, m, length, masked):  # pragma: no cover - compiled
    """``d[do + q] = s[so + q]`` (times ``m[so + q] > 0`` when ``masked``) for ``q < length``, unsigned.

    Inlined into the caller's IR (as ``_norm_kernels._add_values``, which as a plain call made the
    batch-norm forward 0.29 -> 0.53 ms on 32x32x32x16 float32)."""
    if masked:
        for q in range(length):
            d[do + q] = s[so + q] if m[so + q] > 0 else 0.0
    else:
        for q in range(length):
            d[do + q] = s[so + q]


def _pad_copy(src, dst, top, left, mask, zeros_kept):  # pragma: no cover - compiled
    """``dst[n, y, x, c] = src[n, y - top, x - left, c]`` where that exists and ``c < C``, else 0.

    ``top``/``left`` may be negative (a crop). With ``mask`` of ``src``'s shape (size > 0), the
    copy is ``src * (mask > 0)`` (the ReLU backward fused into the copy). With ``zeros_kept``,
    ``dst`` already holds the zeros (a frame reused for the same layout) and only ``src`` is copied.
    Where the channel counts match, each row's run of pixels is one flat loop on unsigned indices
    with a select, which vectorizes (measured, 1 thread: the masked copy of 128x28x28x8 float32 took
    3.0 ms as a loop per pixel with signed indices, 0.5 ms as this flat loop; 64x64x64x8 6.4 -> 1.0 ms).
    """
    n, h, w, c = src.shape
    _, hd, wd, cd = dst.shape
    s = src.reshape(-1)
    d = dst.reshape(-1)
    m = mask.reshape(-1)
    masked = m.size > 0
    x_lo = max(left, 0)
    x_hi = max(min(left + w, wd), x_lo)
    cu, cdu = np.uint64(c), np.uint64(cd)
    for t in prange(n * hd):
        b = t // hd
        sy = t - b * hd - top
        drow = np.uint64(t * wd * cd)
        if sy < 0 or sy >= h or x_lo >= x_hi:
            if not zeros_kept:
                for q in range(np.uint64(wd * cd)):
                    d[drow + q] = 0.0
            continue
        if not zeros_kept:
            for q in range(np.uint64(x_lo * cd)):
                d[drow + q] = 0.0
            for q in range(np.uint64(x_hi * cd), np.uint64(wd * cd)):
                d[drow + q] = 0.0
        srow = np.uint64(((b * h + sy) * w + x_lo - left) * c)
        dst0 = drow + np.uint64(x_lo * cd)
        if cd == c:
            _copy_run(d, dst0, s, srow, m, np.uint64((x_hi - x_lo) * c), masked)
            continue
        for xx in range(np.uint64(x_hi - x_lo)):
            do = dst0 + xx * cdu
            _copy_run(d, do, s, srow + xx * cu, m, cu, masked)
            if not zeros_kept:
                for q in range(cu, cdu):
                    d[do + q] = 0.0


def _max_pool_backward(dout, arg, kh, kw, sh, sw, top, left, dx):  # pragma: no cover - compiled
    """``dx[first maximum of each window] += dout`` (``arg``, in ``dx``'s dtype, from the generated
    ``max_pool_forward_l8``).

    One sample per task, its windows in a fixed order, so the sums do not depend on the thread
    count. Windows that tile the input exactly (stride = window, no padding, no remainder: the
    usual 2x2 / stride 2) write every ``dx`` element once, ``dout`` or 0, without a zeroing pass;
    otherwise ``dx`` is zeroed and each window adds its ``dout`` at its maximum.
    """
    n, oh, ow, c = dout.shape
    _, h, w, _ = dx.shape
    df = dout.reshape(-1)
    af = arg.reshape(-1)
    gf = dx.reshape(-1)
    cu = np.uint64(c)
    tiled = sh == kh and sw == kw and top == 0 and left == 0 and oh * kh == h and ow * kw == w
    for b in prange(n):
        if tiled:
            for oy in range(oh):
                for i in range(kh):
                    y = oy * kh + i
                    for ox in range(ow):
                        oi = np.uint64(((b * oh + oy) * ow + ox) * c)
                        for j in range(kw):
                            xi = np.uint64(((b * h + y) * w + ox * kw + j) * c)
                            k = dx.dtype.type(i * kw + j)
                            for q in range(cu):
                                gf[xi + q] = df[oi + q] if af[oi + q] == k else 0.0
            continue
        base = np.uint64(b * h * w * c)
        for q in range(np.uint64(h * w * c)):
            gf[base + q] = 0.0
        for oy in range(oh):
            y0 = oy * sh - top
            for ox in range(ow):
                x0 = ox * sw - left
                oi = np.uint64(((b * oh + oy) * ow + ox) * c)
                for q in range(cu):
                    if af[oi + q] >= 0:
                        a = np.int64(af[oi + q])
                        y = y0 + a // kw
                        xx = x0 + a - (a // kw) * kw
                        gf[np.uint64(((b * h + y) * w + xx) * c) + q] += df[oi + q]


def _avg_pool_forward(x, kh, kw, sh, sw, top, left, out):  # pragma: no cover - compiled
    """``out`` = mean of the window's real pixels (padding excluded from the count)."""
    n, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    for t in prange(n * oh):
        b = t // oh
        oy = t - b * oh
        y0 = oy * sh - top
        ylo, yhi = max(y0, 0), min(y0 + kh, h)
        for ox in range(ow):
            x0 = ox * sw - left
            xlo, xhi = max(x0, 0), min(x0 + kw, w)
            for q in range(c):
                out[b, oy, ox, q] = 0.0
            for y in range(ylo, yhi):
                for xx in range(xlo, xhi):
                    for q in range(c):
                        out[b, oy, ox, q] += x[b, y, xx, q]
            inv = 1.0 / ((yhi - ylo) * (xhi - xlo))
            for q in range(c):
                out[b, oy, ox, q] = out[b, oy, ox, q] * inv


def _avg_pool_backward(dout, kh, kw, sh, sw, top, left, dx):  # pragma: no cover - compiled
    """``dx[pixel] += dout / count`` for every real pixel of every window (``dx`` zeroed here)."""
    n, oh, ow, c = dout.shape
    _, h, w, _ = dx.shape
    for b in prange(n):
        for y in range(h):
            for xx in range(w):
                for q in range(c):
                    dx[b, y, xx, q] = 0.0
        for oy in range(oh):
            y0 = oy * sh - top
            ylo, yhi = max(y0, 0), min(y0 + kh, h)
            for ox in range(ow):
                x0 = ox * sw - left
                xlo, xhi = max(x0, 0), min(x0 + kw, w)
                inv = 1.0 / ((yhi - ylo) * (xhi - xlo))
                for y in range(ylo, yhi):
                    for xx in range(xlo, xhi):
                        for q in range(c):
                            dx[b, y, xx, q] += dout[b, oy, ox, q] * inv


RELU_CHUNKS = 16  # fixed pieces of the flat array, one prange task each


def _relu_forward(x, out):  # pragma: no cover - compiled
    """``out = max(x, 0)`` elementwise on flat arrays, as ``np.maximum(x, 0)``: NaN stays NaN, and -0.0
    becomes 0.0 (``np.maximum`` returns its second operand when they compare equal)."""
    n = np.uint64(x.size)
    step = (n + np.uint64(RELU_CHUNKS - 1)) // np.uint64(RELU_CHUNKS)
    zero = x.dtype.type(0)
    for t in prange(RELU_CHUNKS):
        lo = np.uint64(t) * step
        for i in range(lo, min(lo + step, n)):
            v = x[i]
            out[i] = v if (v > zero or v != v) else zero


def _relu_backward(dout, x, dx):  # pragma: no cover - compiled
    """``dx = dout * (x > 0)`` elementwise on flat arrays, as the NumPy reference (``0 * inf`` is NaN)."""
    n = np.uint64(x.size)
    step = (n + np.uint64(RELU_CHUNKS - 1)) // np.uint64(RELU_CHUNKS)
    zero, one = dout.dtype.type(0), dout.dtype.type(1)
    for t in prange(RELU_CHUNKS):
        lo = np.uint64(t) * step
        for i in range(lo, min(lo + step, n)):
            dx[i] = dout[i] * (one if x[i] > zero else zero)


pad_copy, pad_copy_serial = twins(_pad_copy, "pad_copy")
relu_forward, relu_forward_serial = twins(_relu_forward, "relu_forward")
relu_backward, relu_backward_serial = twins(_relu_backward, "relu_backward")
max_pool_backward, max_pool_backward_serial = twins(_max_pool_backward, "max_pool_backward")
avg_pool_forward, avg_pool_forward_serial = twins(_avg_pool_forward, "avg_pool_forward")
avg_pool_backward, avg_pool_backward_serial = twins(_avg_pool_backward, "avg_pool_backward")


# Layout changes for NCHW callers of the NHWC kernels. Each pixel's channels are taken 8 at a time
# (one contiguous run on the NHWC side, 8 rows on the NCHW side), written out for the SLP pass.
# Measured (float32, 128 x 784 x 32, 1 thread, median of 21): 1.85 ms, against 3.5 ms for a loop over
# 16-pixel tiles and 3.4 ms for NumPy's copy of the transposed view.


@njit(cache=True, nogil=True, inline="always")
def _transpose_sample(s, d, base, hwu, cu, to_planes):  # pragma: no cover - compiled
    """One sample: ``d[q*hw + p] = s[p*c + q]`` (``to_planes``) or ``d[p*c + q] = s[q*hw + p]``."""
    u1, u2, u3, u4 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    u5, u6, u7, u8 = np.uint64(5), np.uint64(6), np.uint64(7), np.uint64(8)
    whole = cu - cu % u8
    for q0 in range(np.uint64(0), whole, u8):
        for p in range(hwu):
            pix = base + p * cu + q0
            pln = base + q0 * hwu + p
            if to_planes:
                v0, v1, v2, v3 = s[pix], s[pix + u1], s[pix + u2], s[pix + u3]
                v4, v5, v6, v7 = s[pix + u4], s[pix + u5], s[pix + u6], s[pix + u7]
                d[pln], d[pln + hwu], d[pln + u2 * hwu], d[pln + u3 * hwu] = v0, v1, v2, v3
                d[pln + u4 * hwu], d[pln + u5 * hwu], d[pln + u6 * hwu], d[pln + u7 * hwu] = v4, v5, v6, v7
            else:
                v0, v1, v2, v3 = s[pln], s[pln + hwu], s[pln + u2 * hwu], s[pln + u3 * hwu]
                v4, v5, v6, v7 = s[pln + u4 * hwu], s[pln + u5 * hwu], s[pln + u6 * hwu], s[pln + u7 * hwu]
                d[pix], d[pix + u1], d[pix + u2], d[pix + u3] = v0, v1, v2, v3
                d[pix + u4], d[pix + u5], d[pix + u6], d[pix + u7] = v4, v5, v6, v7
    for q in range(whole, cu):
        for p in range(hwu):
            if to_planes:
                d[base + q * hwu + p] = s[base + p * cu + q]
            else:
                d[base + p * cu + q] = s[base + q * hwu + p]


def _relayout(s, d, n, hw, c, to_planes):  # pragma: no cover - compiled
    """``n`` samples of flat contiguous ``s`` into ``d``: NHWC -> NCHW (``to_planes``) or NCHW -> NHWC."""
    hwu, cu = np.uint64(hw), np.uint64(c)
    for b in prange(n):
        _transpose_sample(s, d, np.uint64(b) * hwu * cu, hwu, cu, to_planes)


relayout, relayout_serial = twins(_relayout, "relayout")
