"""Hand-written Numba kernels (NHWC): padding copies and pooling.

Each kernel is parallel over independent samples or output rows (``prange``), and each output
element is computed by one thread in a fixed loop order, so results do not depend on the thread
count. The register-blocked convolution kernels are generated (:mod:`._codegen`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, nogil=True)
def pad_copy(src, dst, top, left, mask):  # pragma: no cover - compiled
    """``dst[n, y, x, c] = src[n, y - top, x - left, c]`` where that exists and ``c < C``, else 0.

    ``top``/``left`` may be negative (a crop). With ``mask`` of ``src``'s shape (size > 0), the
    copy is ``src * (mask > 0)`` (the ReLU backward fused into the copy). Rows are copied as
    whole contiguous runs where the channel counts match.
    """
    n, h, w, c = src.shape
    _, hd, wd, cd = dst.shape
    s = src.reshape(-1)
    d = dst.reshape(-1)
    m = mask.reshape(-1)
    masked = m.size > 0
    x_lo = max(left, 0)
    x_hi = min(left + w, wd)
    for t in prange(n * hd):
        b = t // hd
        sy = t - b * hd - top
        drow = t * wd * cd
        if sy < 0 or sy >= h or x_lo >= x_hi:
            d[drow:drow + wd * cd] = 0.0
            continue
        d[drow:drow + x_lo * cd] = 0.0
        d[drow + x_hi * cd:drow + wd * cd] = 0.0
        srow = (b * h + sy) * w * c
        if cd == c and not masked:
            d[drow + x_lo * cd:drow + x_hi * cd] = s[srow + (x_lo - left) * c:srow + (x_hi - left) * c]
            continue
        for x in range(x_lo, x_hi):
            do = drow + x * cd
            so = srow + (x - left) * c
            if masked:
                for q in range(c):
                    d[do + q] = s[so + q] if m[so + q] > 0 else 0.0
            else:
                for q in range(c):
                    d[do + q] = s[so + q]
            for q in range(c, cd):
                d[do + q] = 0.0


@njit(parallel=True, cache=True, nogil=True)
def max_pool_forward(x, kh, kw, sh, sw, top, left, out):  # pragma: no cover - compiled
    """``out[n, oy, ox, c]`` = max of the window's real pixels (padding is never read).

    The channel loop runs on flat unsigned indices so that it vectorizes. No argmax is stored:
    the backward pass finds each window's first maximum again (cheaper than a second output).
    """
    n, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    xf = x.reshape(-1)
    of = out.reshape(-1)
    cu = np.uint64(c)
    for t in prange(n * oh):
        b = t // oh
        oy = t - b * oh
        y0 = oy * sh - top
        ylo, yhi = max(y0, 0), min(y0 + kh, h)
        for ox in range(ow):
            x0 = ox * sw - left
            xlo, xhi = max(x0, 0), min(x0 + kw, w)
            oi = np.uint64((t * ow + ox) * c)
            xi = np.uint64(((b * h + ylo) * w + xlo) * c)
            for q in range(cu):
                of[oi + q] = xf[xi + q]
            for y in range(ylo, yhi):
                for xx in range(xlo, xhi):
                    xi = np.uint64(((b * h + y) * w + xx) * c)
                    for q in range(cu):
                        v = xf[xi + q]
                        m = of[oi + q]
                        of[oi + q] = v if (v > m or v != v) else m  # NaN wins, as np.maximum


@njit(parallel=True, cache=True, nogil=True)
def max_pool_backward(dout, x, out, kh, kw, sh, sw, top, left, dx):  # pragma: no cover - compiled
    """``dx[first maximum of each window] += dout`` (row-major window order, as PyTorch).

    Per sample in a fixed order (``dx`` zeroed here); ``done`` marks the channels whose window
    maximum was already found.
    """
    n, oh, ow, c = dout.shape
    _, h, w, _ = dx.shape
    df = dout.reshape(-1)
    xf = x.reshape(-1)
    of = out.reshape(-1)
    gf = dx.reshape(-1)
    cu = np.uint64(c)
    for b in prange(n):
        done = np.empty(c, dtype=np.uint8)
        base = np.uint64(b * h * w * c)
        for q in range(np.uint64(h * w * c)):
            gf[base + q] = 0.0
        for oy in range(oh):
            y0 = oy * sh - top
            ylo, yhi = max(y0, 0), min(y0 + kh, h)
            for ox in range(ow):
                x0 = ox * sw - left
                xlo, xhi = max(x0, 0), min(x0 + kw, w)
                oi = np.uint64(((b * oh + oy) * ow + ox) * c)
                done[:] = 0
                for y in range(ylo, yhi):
                    for xx in range(xlo, xhi):
                        xi = np.uint64(((b * h + y) * w + xx) * c)
                        for q in range(cu):  # branch-free, so that it vectorizes
                            hit = np.uint8(xf[xi + q] == of[oi + q]) & (np.uint8(1) - done[q])
                            done[q] |= hit
                            gf[xi + q] += df[oi + q] if hit else 0.0


@njit(parallel=True, cache=True, nogil=True)
def avg_pool_forward(x, kh, kw, sh, sw, top, left, out):  # pragma: no cover - compiled
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


@njit(parallel=True, cache=True, nogil=True)
def avg_pool_backward(dout, kh, kw, sh, sw, top, left, dx):  # pragma: no cover - compiled
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
