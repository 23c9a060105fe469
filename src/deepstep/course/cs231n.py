"""CS231n assignment 2: the naive convolution and max-pooling layers (NCHW).

Readable loops, one output element per iteration, exact in float64: the reference for
the fast kernels of :mod:`deepstep.nn.functional` in the channels-first layout.

- ``x``: ``(N, C, H, W)``, a batch of ``N`` images with ``C`` channels;
- ``w``: ``(F, C, HH, WW)``, ``F`` filters (rectangular windows allowed);
- ``b``: ``(F,)``.

Output sizes use floor division,

.. math:: H' = \\left\\lfloor \\frac{H + 2\\,pad - HH}{stride} \\right\\rfloor + 1 ,

and a window that does not fit (``H' < 1``) raises ``ValueError``. Outputs and
gradients are float64 arrays, whatever the real dtype of the inputs.

Max-pool backward routes each window's gradient to ONE input: the first maximum of the
window in row-major order (PyTorch's semantics), unlike
:func:`deepstep.course.cnn.pool_backward`, which gives it to every tied maximum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import check_array, check_int, check_keys, check_nonempty
from ._checks import unpack_cache, window_output_size

__all__ = [
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
]

_NCHW = "(N, C, H, W)"
_FILTERS = "(F, C, HH, WW)"


# --------------------------------------------------------------------------- validation


def _check_images(x: Any) -> np.ndarray:
    return check_nonempty(check_array(x, "x", 4, _NCHW), "x", _NCHW)


def _check_conv_operands(
    x: Any, w: Any, b: Any, conv_param: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    """Validate conv_forward_naive's arguments; return them with stride, pad, H', W'."""
    x = _check_images(x)
    w = check_nonempty(check_array(w, "w", 4, _FILTERS), "w", _FILTERS)
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w's C (axis 1) must equal x's channels {x.shape[1]}, got {w.shape[1]} "
            f"(w shape {w.shape}, x shape {x.shape})"
        )
    F = w.shape[0]
    b = check_array(b, "b", 1, "(F,)")
    if b.shape != (F,):
        raise ValueError(f"b must have shape (F,) = {(F,)}, one bias per filter of w, got {b.shape}")
    check_keys(conv_param, "conv_param", ("stride", "pad"))
    stride = check_int(conv_param["stride"], "conv_param['stride']", 1)
    pad = check_int(conv_param["pad"], "conv_param['pad']", 0)
    H_out = window_output_size(x.shape[2], w.shape[2], stride, pad, "height", "w")
    W_out = window_output_size(x.shape[3], w.shape[3], stride, pad, "width", "w")
    return x, w, b, stride, pad, H_out, W_out


def _check_pool_operands(x: Any, pool_param: Any) -> tuple[np.ndarray, int, int, int, int, int]:
    """Validate max pooling's arguments; return x, pool height, width, stride, H', W'."""
    x = _check_images(x)
    check_keys(pool_param, "pool_param", ("pool_height", "pool_width", "stride"))
    pool_height = check_int(pool_param["pool_height"], "pool_param['pool_height']", 1)
    pool_width = check_int(pool_param["pool_width"], "pool_param['pool_width']", 1)
    stride = check_int(pool_param["stride"], "pool_param['stride']", 1)
    H_out = window_output_size(x.shape[2], pool_height, stride, 0, "height", "pool_param['pool_height']")
    W_out = window_output_size(x.shape[3], pool_width, stride, 0, "width", "pool_param['pool_width']")
    return x, pool_height, pool_width, stride, H_out, W_out


def _check_dout(dout: Any, expected: tuple[int, ...]) -> np.ndarray:
    dout = check_array(dout, "dout", 4, "(N, F, H', W')")
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    return dout


# --------------------------------------------------------------------------- convolution


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: Mapping[str, Any]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, Mapping[str, Any]]]:
    """Naive forward pass of a convolution layer (cross-correlation).

    .. math::

        out_{n, f, i, j} = \\sum_{c=0}^{C-1} \\sum_{p=0}^{HH-1} \\sum_{q=0}^{WW-1}
            x^{pad}_{n,\\, c,\\, i s + p,\\, j s + q}\\, w_{f, c, p, q} + b_f

    where ``x_pad`` is ``x`` with ``pad`` zeros on each side of H and W, and ``s`` the stride.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        ``{"stride": int >= 1, "pad": int >= 0}`` (same padding on all four sides).

    Returns
    -------
    out : ndarray of float64, shape (N, F, H', W')
        ``H' = (H + 2 pad - HH) // stride + 1``, ``W' = (W + 2 pad - WW) // stride + 1``.
    cache : tuple
        ``(x, w, b, conv_param)``.
    """
    x, w, b, stride, pad, H_out, W_out = _check_conv_operands(x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    window = x_pad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive backward pass of a convolution layer.

    .. math::

        dx^{pad}_{n,\\, c,\\, i s + p,\\, j s + q} \\mathrel{+}= w_{f, c, p, q}\\, dout_{n, f, i, j}

        dw_{f, c, p, q} = \\sum_{n, i, j} x^{pad}_{n,\\, c,\\, i s + p,\\, j s + q}\\, dout_{n, f, i, j}

        db_f = \\sum_{n, i, j} dout_{n, f, i, j}

    and ``dx = dx_pad[:, :, pad:pad + H, pad:pad + W]``.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Upstream gradient.
    cache : tuple
        ``(x, w, b, conv_param)`` from :func:`conv_forward_naive`.

    Returns
    -------
    dx : ndarray of float64, shape (N, C, H, W)
    dw : ndarray of float64, shape (F, C, HH, WW)
    db : ndarray of float64, shape (F,)
    """
    x, w, b, conv_param = unpack_cache(cache, ("x", "w", "b", "conv_param"), "conv_forward_naive")
    x, w, b, stride, pad, H_out, W_out = _check_conv_operands(x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dout = _check_dout(dout, (N, F, H_out, W_out))

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    g = dout[n, f, i, j]
                    dx_pad[n, :, top:top + HH, left:left + WW] += w[f] * g
                    dw[f] += x_pad[n, :, top:top + HH, left:left + WW] * g
                    db[f] += g
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy()
    return dx, dw, db


# --------------------------------------------------------------------------- max pooling


def max_pool_forward_naive(
    x: np.ndarray, pool_param: Mapping[str, Any]
) -> tuple[np.ndarray, tuple[np.ndarray, Mapping[str, Any]]]:
    """Naive forward pass of a max-pooling layer (no padding, channel by channel).

    .. math:: out_{n, c, i, j} = \\max_{0 \\le p < PH,\\ 0 \\le q < PW} x_{n,\\, c,\\, i s + p,\\, j s + q}

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``{"pool_height": PH >= 1, "pool_width": PW >= 1, "stride": s >= 1}``; windows
        overlap when ``s`` is smaller than the window.

    Returns
    -------
    out : ndarray of float64, shape (N, C, H', W')
        ``H' = (H - PH) // s + 1``, ``W' = (W - PW) // s + 1``.
    cache : tuple
        ``(x, pool_param)``.
    """
    x, pool_height, pool_width, stride, H_out, W_out = _check_pool_operands(x, pool_param)
    N, C, H, W = x.shape

    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    out[n, c, i, j] = np.max(x[n, c, top:top + pool_height, left:left + pool_width])
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Naive backward pass of a max-pooling layer.

    Each window's gradient ``dout[n, c, i, j]`` goes to ONE input: the window's first
    maximum in row-major order (``np.argmax`` of the flattened window), as PyTorch does.
    With tied maxima the others get nothing, so the result is a valid subgradient.
    Overlapping windows (``stride`` smaller than the window) add up (``+=``) on the
    inputs they share.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
    cache : tuple
        ``(x, pool_param)`` from :func:`max_pool_forward_naive`.

    Returns
    -------
    dx : ndarray of float64, shape (N, C, H, W)
    """
    x, pool_param = unpack_cache(cache, ("x", "pool_param"), "max_pool_forward_naive")
    x, pool_height, pool_width, stride, H_out, W_out = _check_pool_operands(x, pool_param)
    N, C, H, W = x.shape
    dout = _check_dout(dout, (N, C, H_out, W_out))

    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    window = x[n, c, top:top + pool_height, left:left + pool_width]
                    p, q = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    dx[n, c, top + p, left + q] += dout[n, c, i, j]
    return dx
