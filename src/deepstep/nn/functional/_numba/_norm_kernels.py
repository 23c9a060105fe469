"""Hand-written Numba kernels for batch normalization over the last axis (rows of ``C`` channels).

``x`` is seen as ``M`` rows of ``C`` contiguous values (``(N, C)``, or ``(N, H, W, C)`` with
``M = N * H * W``), passed flat. Per-channel sums are accumulated in float64 over a fixed number of
row chunks (:data:`CHUNKS`, whatever the thread count), and the chunks' partial sums are added in
chunk order, so the results are bitwise identical at any thread count. Each kernel is a small
``prange`` driver over the chunks calling serial bodies (cheaper to compile, as the convolutions).
Indices are unsigned (no negative-index checks, which block vectorization).

**Spans.** The inner loops run over spans of ``k`` whole rows (``L = k * C >= 64`` values), the
per-channel vectors tiled to length ``L``, so that they are long enough to vectorize whatever ``C``
(a loop over one row of ``C = 8`` was not: resnet_small's 15 batch normalizations, 2.1 M values,
took 4.0 ms in the two sum passes and 4.2 ms in the normalization, ~1-2 ns a value, 1 thread).
Rows left over at the end of a chunk go by whole rows. The sums keep one float64 accumulator per span
position, folded into the channels (span rows in order) at the end of the chunk.

**Serial twins** (:mod:`._twins`). Each driver is compiled twice: with ``parallel=True`` and without
(``prange`` then runs as ``range``, the same chunks in the same order, so the same bits). One thread
runs the serial one: a parallel region costs ~35 us on the workqueue layer even on one thread, and
a training step of resnet_small starts 75 of them (15 batch normalizations, 3 forward + 2 backward
each; measured (128, 64) float32: ``moments`` 76 us, ``normalize`` 39 us, for ~5 us of arithmetic).

Every elementwise expression is the NumPy reference's (:mod:`..normalization`), in the same order and
dtype and without FMA contraction, so given the same statistics the outputs are the same bits; the
statistics themselves differ from the reference only in the order of the float64 additions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._twins import twins

# Row chunks of every reduction: fixed, so that the sums do not depend on the thread count; 8 keeps
# 2 (or 4, 8) threads busy.
CHUNKS = 8


@njit(cache=True, nogil=True)
def _chunk_rows(k, m):  # pragma: no cover - compiled
    return k * m // CHUNKS, (k + 1) * m // CHUNKS


def span_rows(c: int) -> int:
    """Rows per span: the fewest whose ``k * c`` values reach 64 (see the module docstring)."""
    return max(1, -(-64 // c))


@njit(cache=True, nogil=True)
def _tile(v, length, out):  # pragma: no cover - compiled
    c = v.size
    for q in range(length):
        out[q] = v[q % c]


@njit(cache=True, nogil=True)
def _fold(acc, c, span, out):  # pragma: no cover - compiled
    """``out[j] = sum over span rows t (in order) of acc[t * c + j]``."""
    for j in range(c):
        s = 0.0
        for t in range(span):
            s += acc[t * c + j]
        out[j] = s


@njit(cache=True, nogil=True, inline="always")
def _add_values(x, base, length, mean_t, centred, acc):  # pragma: no cover - compiled
    """``acc[q] += x[base + q]`` (``centred``: ``(x - mean) ** 2``, in x's dtype) for ``q < length``.

    Inlined into the caller's IR: as a plain call it made the forward of 32x32x32x16 float32 0.29 ->
    0.53 ms (1 thread); inlined, 0.31 ms, as the loops written out twice."""
    if centred:
        for q in range(length):
            d = x[base + q] - mean_t[q]
            acc[q] += d * d
    else:
        for q in range(length):
            acc[q] += x[base + q]


@njit(cache=True, nogil=True)
def _sum_rows(x, r0, r1, c, span, mean_t, centred, acc):  # pragma: no cover - compiled
    """``acc[q] += x[...]`` over rows r0..r1 by spans (``centred``: ``(x - mean) ** 2``, in x's dtype)."""
    length = np.uint64(span * c)
    r = r0
    while r + span <= r1:
        _add_values(x, np.uint64(r * c), length, mean_t, centred, acc)
        r += span
    # the rows left: whole rows, so the positions keep their channels
    _add_values(x, np.uint64(r * c), np.uint64((r1 - r) * c), mean_t, centred, acc)


def _moments(x, m, c, span, mean, var, mean_t, acc, partial):  # pragma: no cover - compiled
    """Batch ``mean`` and biased ``var`` (x's dtype) of the flat ``(m, c)`` rows ``x``; two passes.

    Scratch: ``mean_t`` (x's dtype) of ``span * c``; float64 ``acc`` ``(CHUNKS, span * c)`` and
    ``partial`` ``(CHUNKS, c)``. As the reference: the mean is the float64 sum / m rounded to x's
    dtype; the variance the float64 sum of ``(x - mean) ** 2`` (each square in x's dtype) / m, rounded.
    """
    for centred in (False, True):
        for k in prange(CHUNKS):
            r0, r1 = _chunk_rows(k, m)
            a = acc[k]
            a[:] = 0.0
            _sum_rows(x, r0, r1, c, span, mean_t, centred, a)
            _fold(a, c, span, partial[k])
        for j in range(c):
            s = 0.0
            for k in range(CHUNKS):
                s += partial[k, j]
            if centred:
                var[j] = s / m
            else:
                mean[j] = s / m
        _tile(mean, span * c, mean_t)


@njit(cache=True, nogil=True)
def _normalize_rows(x, r0, r1, c, span, mean, inv_std, gamma, beta, xhat, out):  # pragma: no cover - compiled
    r = r0
    while r < r1:
        n = np.uint64(min(span, r1 - r) * c)  # a span, or the rows left
        base = np.uint64(r * c)
        for q in range(n):
            h = (x[base + q] - mean[q]) * inv_std[q]
            xhat[base + q] = h
            out[base + q] = h * gamma[q] + beta[q]
        r += span


def _normalize(x, m, c, span, mean, inv_std, gamma, beta, xhat, out):  # pragma: no cover - compiled
    """``xhat = (x - mean) * inv_std``, ``out = xhat * gamma + beta``; the vectors tiled to ``span * c``."""
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        _normalize_rows(x, r0, r1, c, span, mean, inv_std, gamma, beta, xhat, out)


@njit(cache=True, nogil=True)
def _grad_sum_rows(dout, xhat, r0, r1, c, span, acc_b, acc_g):  # pragma: no cover - compiled
    r = r0
    while r < r1:
        n = np.uint64(min(span, r1 - r) * c)
        base = np.uint64(r * c)
        for q in range(n):
            d = dout[base + q]
            acc_b[q] += d
            acc_g[q] += d * xhat[base + q]
        r += span


@njit(cache=True, nogil=True)
def _grad_rows(dout, xhat, r0, r1, c, span, coef, mf, dbeta, dgamma, training, dx):  # pragma: no cover
    r = r0
    while r < r1:
        n = np.uint64(min(span, r1 - r) * c)
        base = np.uint64(r * c)
        if training:
            for q in range(n):
                dx[base + q] = coef[q] * (mf * dout[base + q] - dbeta[q] - xhat[base + q] * dgamma[q])
        else:
            for q in range(n):
                dx[base + q] = dout[base + q] * coef[q]
        r += span


def _backward(dout, xhat, m, c, span, coef, mf, training, dbeta, dgamma, dx, acc, partial, dbeta_t,
             dgamma_t):  # pragma: no cover - compiled
    """``dbeta = sum(dout)``, ``dgamma = sum(dout * xhat)`` (float64 sums, rounded to the dtype), then ``dx``.

    Training: ``dx = coef * (mf * dout - dbeta - xhat * dgamma)`` with ``coef = gamma * inv_std / m``
    and ``mf = m`` in the dtype; inference: ``dx = dout * coef`` with ``coef = gamma * inv_std``.
    ``coef`` is tiled to ``span * c``. Scratch: float64 ``acc`` ``(CHUNKS, 2, span * c)`` and
    ``partial`` ``(CHUNKS, 2, c)``; ``dbeta_t``, ``dgamma_t`` (the dtype) of ``span * c``.
    """
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        a = acc[k]
        a[:] = 0.0
        _grad_sum_rows(dout, xhat, r0, r1, c, span, a[0], a[1])
        _fold(a[0], c, span, partial[k, 0])
        _fold(a[1], c, span, partial[k, 1])
    for j in range(c):
        sb = 0.0
        sg = 0.0
        for k in range(CHUNKS):
            sb += partial[k, 0, j]
            sg += partial[k, 1, j]
        dbeta[j] = sb
        dgamma[j] = sg
    _tile(dbeta, span * c, dbeta_t)
    _tile(dgamma, span * c, dgamma_t)
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        _grad_rows(dout, xhat, r0, r1, c, span, coef, mf, dbeta_t, dgamma_t, training, dx)


moments, moments_serial = twins(_moments, "moments")
normalize, normalize_serial = twins(_normalize, "normalize")
backward, backward_serial = twins(_backward, "backward")
