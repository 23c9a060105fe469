"""Hand-written Numba kernels for batch normalization over the last axis (rows of ``C`` channels).

``x`` is seen as ``M`` rows of ``C`` contiguous values (``(N, C)``, or ``(N, H, W, C)`` with
``M = N * H * W``), passed flat. Per-channel sums are accumulated in float64 over a fixed number of
row chunks (:data:`CHUNKS`, whatever the thread count), and the chunks' partial sums are added in
chunk order, so the results are bitwise identical at any thread count. Each kernel is a small
``prange`` driver over the chunks calling serial bodies (cheaper to compile, as the convolutions).
Indices are unsigned (no negative-index checks, which block vectorization).

Every elementwise expression is the NumPy reference's (:mod:`..normalization`), in the same order and
dtype and without FMA contraction, so given the same statistics the outputs are the same bits; the
statistics themselves differ from the reference only in the order of the float64 additions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Row chunks of every reduction: fixed, so that the sums do not depend on the thread count; 8 keeps
# 2 (or 4, 8) threads busy.
CHUNKS = 8


@njit(cache=True, nogil=True)
def _chunk_rows(k, m):  # pragma: no cover - compiled
    return k * m // CHUNKS, (k + 1) * m // CHUNKS


@njit(cache=True, nogil=True)
def _sum_rows(x, r0, r1, c, mean, centred, acc):  # pragma: no cover - compiled
    """``acc[j] += x[r, j]`` for rows r0..r1 (``centred``: ``(x[r, j] - mean[j]) ** 2``, in x's dtype)."""
    cu = np.uint64(c)
    for r in range(r0, r1):
        base = np.uint64(r) * cu
        if centred:
            for j in range(cu):
                d = x[base + j] - mean[j]
                acc[j] += d * d
        else:
            for j in range(cu):
                acc[j] += x[base + j]


@njit(parallel=True, cache=True, nogil=True)
def moments(x, m, c, mean, var, partial):  # pragma: no cover - compiled
    """Batch ``mean`` and biased ``var`` (x's dtype) of the flat ``(m, c)`` rows ``x``; two passes.

    ``partial`` is float64 scratch of shape ``(CHUNKS, c)``. As the reference: the mean is the float64
    sum / m rounded to x's dtype; the variance the float64 sum of ``(x - mean) ** 2`` (each square in
    x's dtype) / m, rounded.
    """
    for centred in (False, True):
        for k in prange(CHUNKS):
            r0, r1 = _chunk_rows(k, m)
            acc = partial[k]
            acc[:] = 0.0
            _sum_rows(x, r0, r1, c, mean, centred, acc)
        for j in range(c):
            s = 0.0
            for k in range(CHUNKS):
                s += partial[k, j]
            if centred:
                var[j] = s / m
            else:
                mean[j] = s / m


@njit(cache=True, nogil=True)
def _normalize_rows(x, r0, r1, c, mean, inv_std, gamma, beta, xhat, out):  # pragma: no cover - compiled
    cu = np.uint64(c)
    for r in range(r0, r1):
        base = np.uint64(r) * cu
        for j in range(cu):
            h = (x[base + j] - mean[j]) * inv_std[j]
            xhat[base + j] = h
            out[base + j] = h * gamma[j] + beta[j]


@njit(parallel=True, cache=True, nogil=True)
def normalize(x, m, c, mean, inv_std, gamma, beta, xhat, out):  # pragma: no cover - compiled
    """``xhat = (x - mean) * inv_std``, ``out = xhat * gamma + beta`` (flat ``(m, c)`` rows)."""
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        _normalize_rows(x, r0, r1, c, mean, inv_std, gamma, beta, xhat, out)


@njit(cache=True, nogil=True)
def _grad_sum_rows(dout, xhat, r0, r1, c, acc_b, acc_g):  # pragma: no cover - compiled
    cu = np.uint64(c)
    for r in range(r0, r1):
        base = np.uint64(r) * cu
        for j in range(cu):
            d = dout[base + j]
            acc_b[j] += d
            acc_g[j] += d * xhat[base + j]


@njit(cache=True, nogil=True)
def _grad_rows(dout, xhat, r0, r1, c, coef, mf, dbeta, dgamma, training, dx):  # pragma: no cover - compiled
    cu = np.uint64(c)
    for r in range(r0, r1):
        base = np.uint64(r) * cu
        if training:
            for j in range(cu):
                dx[base + j] = coef[j] * (mf * dout[base + j] - dbeta[j] - xhat[base + j] * dgamma[j])
        else:
            for j in range(cu):
                dx[base + j] = dout[base + j] * coef[j]


@njit(parallel=True, cache=True, nogil=True)
def backward(dout, xhat, m, c, coef, mf, training, dbeta, dgamma, dx, partial):  # pragma: no cover - compiled
    """``dbeta = sum(dout)``, ``dgamma = sum(dout * xhat)`` (float64 sums, rounded to the dtype), then ``dx``.

    Training: ``dx = coef * (mf * dout - dbeta - xhat * dgamma)`` with ``coef = gamma * inv_std / m``
    and ``mf = m`` in the dtype; inference: ``dx = dout * coef`` with ``coef = gamma * inv_std``.
    ``partial`` is float64 scratch of shape ``(CHUNKS, 2, c)``.
    """
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        acc = partial[k]
        acc[:] = 0.0
        _grad_sum_rows(dout, xhat, r0, r1, c, acc[0], acc[1])
    for j in range(c):
        sb = 0.0
        sg = 0.0
        for k in range(CHUNKS):
            sb += partial[k, 0, j]
            sg += partial[k, 1, j]
        dbeta[j] = sb
        dgamma[j] = sg
    for k in prange(CHUNKS):
        r0, r1 = _chunk_rows(k, m)
        _grad_rows(dout, xhat, r0, r1, c, coef, mf, dbeta, dgamma, training, dx)
