"""Convolutional Model: Step by Step (Deep Learning Specialization, course 4, week 1).

The notebook's convolution and pooling layers, forward and backward, written as the
readable loops of the assignment: one output element per loop iteration. They are
exact (float64) and slow; they serve as the reference for the fast kernels of
:mod:`deepstep.nn.functional`.

Layout is NHWC, as in the notebook:

- ``A_prev``: ``(m, n_H_prev, n_W_prev, n_C_prev)``, a batch of ``m`` images;
- ``W``: ``(f, f, n_C_prev, n_C)``, ``n_C`` square filters of side ``f``;
- ``b``: ``(1, 1, 1, n_C)``, one bias per filter;
- ``Z`` / ``A``: ``(m, n_H, n_W, n_C)``.

The output size of a window of side ``f`` sliding with ``stride`` over an input of
side ``n`` padded by ``pad`` on each side is

.. math:: n_{out} = \\left\\lfloor \\frac{n + 2\\,pad - f}{stride} \\right\\rfloor + 1 ,

computed with floor division; a window that does not fit (``n_out < 1``) raises
``ValueError``. Layer outputs and gradients are float64 arrays (the notebook's
``np.zeros``), whatever the real dtype of the inputs; ``zero_pad`` keeps the dtype of ``X``.

Differences from the notebook's reference solution (defects fixed, behaviour kept):

- ``pad = 0`` works everywhere (the unpadding uses ``X[pad:pad + n]``, not
  ``X[pad:-pad]``, which is empty for ``pad = 0``);
- the bias is read with ``b.reshape(()).item()``: ``float(b)`` of a ``(1, 1, 1)``
  array raises on NumPy 2;
- output sizes use ``//`` (``int()`` truncates towards zero);
- every argument is validated, with errors that name it.

Max-pool backward keeps the notebook's behaviour with tied maxima: *every* tied
maximum of a window receives the window's full gradient (see :func:`pool_backward`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._limits import check_elements, max_elements
from .._validation import check_array, check_choice, check_int, check_keys, check_nonempty, check_real
from ._checks import unpack_cache, window_output_size

__all__ = [
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "conv_backward",
    "pool_forward",
    "create_mask_from_window",
    "distribute_value",
    "pool_backward",
]

POOL_MODES = ("max", "average")

_NHWC_PREV = "(m, n_H_prev, n_W_prev, n_C_prev)"
_NHWC_OUT = "(m, n_H, n_W, n_C)"


# --------------------------------------------------------------------------- validation


def _check_batch(A_prev: Any, name: str = "A_prev") -> np.ndarray:
    A_prev = check_array(A_prev, name, 4, _NHWC_PREV)
    check_nonempty(A_prev, name, _NHWC_PREV)
    return A_prev


def _check_conv_hparameters(hparameters: Any) -> tuple[int, int]:
    check_keys(hparameters, "hparameters", ("stride", "pad"))
    stride = check_int(hparameters["stride"], "hparameters['stride']", 1, max_elements())
    pad = check_int(hparameters["pad"], "hparameters['pad']", 0, max_elements())
    return stride, pad


def _check_pool_operands(A_prev: Any, hparameters: Any, mode: Any) -> tuple[np.ndarray, int, int, int, int]:
    """Validate pooling's arguments; return A_prev, f, stride, n_H, n_W."""
    A_prev = _check_batch(A_prev)
    check_keys(hparameters, "hparameters", ("f", "stride"))
    f = check_int(hparameters["f"], "hparameters['f']", 1, max_elements())
    stride = check_int(hparameters["stride"], "hparameters['stride']", 1, max_elements())
    check_choice(mode, "mode", POOL_MODES)
    n_H = window_output_size(A_prev.shape[1], f, stride, 0, "height", "hparameters['f']")
    n_W = window_output_size(A_prev.shape[2], f, stride, 0, "width", "hparameters['f']")
    return A_prev, f, stride, n_H, n_W


def _check_conv_operands(
    A_prev: Any, W: Any, b: Any, hparameters: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    """Validate conv_forward's arguments; return them with stride, pad, n_H, n_W."""
    A_prev = _check_batch(A_prev)
    W = check_array(W, "W", 4, "(f, f, n_C_prev, n_C)")
    check_nonempty(W, "W", "(f, f, n_C_prev, n_C)")
    if W.shape[0] != W.shape[1]:
        raise ValueError(
            f"W must hold square filters (f, f, n_C_prev, n_C), got shape {W.shape} "
            f"({W.shape[0]} x {W.shape[1]} window)"
        )
    if W.shape[2] != A_prev.shape[3]:
        raise ValueError(
            f"W's n_C_prev (axis 2) must equal A_prev's channels {A_prev.shape[3]}, "
            f"got {W.shape[2]} (W shape {W.shape}, A_prev shape {A_prev.shape})"
        )
    n_C = W.shape[3]
    b = check_array(b, "b", 4, "(1, 1, 1, n_C)")
    if b.shape != (1, 1, 1, n_C):
        raise ValueError(f"b must have shape (1, 1, 1, n_C) = {(1, 1, 1, n_C)}, got {b.shape}")
    stride, pad = _check_conv_hparameters(hparameters)
    f = W.shape[0]
    n_H = window_output_size(A_prev.shape[1], f, stride, pad, "height", "W")
    n_W = window_output_size(A_prev.shape[2], f, stride, pad, "width", "W")
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    check_elements((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev),
                   f"hparameters['pad'] = {pad}: the padded A_prev", np.float64)
    check_elements((m, n_H, n_W, n_C), "the output Z (hparameters['pad'] and 'stride')", np.float64)
    return A_prev, W, b, stride, pad, n_H, n_W


def _check_gradient_shape(grad: Any, name: str, expected: tuple[int, ...]) -> np.ndarray:
    grad = check_array(grad, name, 4, _NHWC_OUT)
    if grad.shape != expected:
        raise ValueError(
            f"{name} must have the forward output's shape {_NHWC_OUT} = {expected}, got {grad.shape}"
        )
    return grad


# --------------------------------------------------------------------------- convolution


def zero_pad(X: np.ndarray, pad: int) -> np.ndarray:
    """Pad every image of a batch with ``pad`` zeros on each side of its height and width.

    Parameters
    ----------
    X : ndarray, shape (m, n_H, n_W, n_C)
        A batch of ``m`` images (any real dtype).
    pad : int
        Number of zeros added above, below, left and right of each image (>= 0).

    Raises
    ------
    ValueError
        If ``pad`` is negative, or the padded array would exceed the size budget
        (:mod:`deepstep._limits`; ``pad=10**5`` on a 2-image batch asks for 8e10 elements).

    Returns
    -------
    X_pad : ndarray, shape (m, n_H + 2 pad, n_W + 2 pad, n_C)
        ``X_pad[:, pad:pad + n_H, pad:pad + n_W, :] == X`` and zeros elsewhere; same dtype as ``X``.
    """
    X = check_array(X, "X", 4, "(m, n_H, n_W, n_C)")
    pad = check_int(pad, "pad", 0, max_elements())
    m, n_H, n_W, n_C = X.shape
    check_elements((m, n_H + 2 * pad, n_W + 2 * pad, n_C), f"pad = {pad}: the padded X", X.dtype)
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)


def _convolve_window(a_slice_prev: np.ndarray, W: np.ndarray, bias: float) -> float:
    # Element-wise product, summed over the whole (f, f, n_C_prev) volume, plus the bias.
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    return Z + bias


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """Apply one filter to one window of the input: one output value of the convolution.

    .. math:: Z = \\sum_{p, q, k} a_{p, q, k}\\, W_{p, q, k} + b

    Parameters
    ----------
    a_slice_prev : ndarray, shape (f, f, n_C_prev)
        The window of the (padded) previous activation.
    W : ndarray, shape (f, f, n_C_prev)
        One filter (the same shape as ``a_slice_prev``).
    b : ndarray, shape (1, 1, 1)
        The filter's bias (any array or number holding exactly one value is accepted).

    Returns
    -------
    Z : numpy.float64
        A scalar (not a ``(1, 1, 1)`` array).
    """
    a_slice_prev = check_array(a_slice_prev, "a_slice_prev", 3, "(f, f, n_C_prev)")
    W = check_array(W, "W", 3, "(f, f, n_C_prev)")
    if W.shape != a_slice_prev.shape:
        raise ValueError(f"W must have the shape of a_slice_prev {a_slice_prev.shape}, got {W.shape}")
    b = check_array(b, "b")
    if b.size != 1:
        raise ValueError(f"b must hold exactly one value, shape (1, 1, 1), got shape {b.shape}")
    return np.float64(_convolve_window(a_slice_prev, W, b.reshape(()).item()))


def conv_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: Mapping[str, Any]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, Mapping[str, Any]]]:
    """Forward pass of a convolution layer (cross-correlation, as in every DL framework).

    .. math::

        Z_{i, h, w, c} = \\sum_{p=0}^{f-1} \\sum_{q=0}^{f-1} \\sum_{k=0}^{n_{C,prev}-1}
            A^{pad}_{i,\\, h s + p,\\, w s + q,\\, k}\\, W_{p, q, k, c} + b_{0, 0, 0, c}

    where ``A_pad = zero_pad(A_prev, pad)`` and ``s`` is the stride.

    Parameters
    ----------
    A_prev : ndarray, shape (m, n_H_prev, n_W_prev, n_C_prev)
        The previous layer's activations.
    W : ndarray, shape (f, f, n_C_prev, n_C)
        ``n_C`` square filters.
    b : ndarray, shape (1, 1, 1, n_C)
        One bias per filter.
    hparameters : dict
        ``{"stride": int >= 1, "pad": int >= 0}``.

    Returns
    -------
    Z : ndarray of float64, shape (m, n_H, n_W, n_C)
        ``n_H = (n_H_prev + 2 pad - f) // stride + 1`` and likewise ``n_W``.
    cache : tuple
        ``(A_prev, W, b, hparameters)``, for :func:`conv_backward`.

    Raises
    ------
    TypeError, ValueError
        Wrong rank, shape or dtype, non-square ``W``, channel mismatch, bad ``b`` shape,
        missing or invalid hyper-parameters, or a filter that does not fit the padded input.
    """
    A_prev, W, b, stride, pad, n_H, n_W = _check_conv_operands(A_prev, W, b, hparameters)
    m = A_prev.shape[0]
    f, n_C = W.shape[0], W.shape[3]

    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):  # each example
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):  # each output row
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):  # each output column
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):  # each filter
                    Z[i, h, w, c] = _convolve_window(a_slice_prev, W[:, :, :, c], b[0, 0, 0, c].item())

    cache = (A_prev, W, b, hparameters)
    return Z, cache


def conv_backward(dZ: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a convolution layer.

    With ``s`` the stride and the sums over every output position ``(i, h, w)``:

    .. math::

        dA^{pad}_{i,\\, h s + p,\\, w s + q,\\, k} \\mathrel{+}= W_{p, q, k, c}\\, dZ_{i, h, w, c}

        dW_{p, q, k, c} = \\sum_{i, h, w} A^{pad}_{i,\\, h s + p,\\, w s + q,\\, k}\\, dZ_{i, h, w, c}

        db_{0, 0, 0, c} = \\sum_{i, h, w} dZ_{i, h, w, c}

    and ``dA_prev = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]`` (gradients that
    fall on the padding are dropped). Input rows or columns that no window covers (when
    ``(n_H_prev + 2 pad - f)`` is not a multiple of the stride) get a zero gradient.

    Parameters
    ----------
    dZ : ndarray, shape (m, n_H, n_W, n_C)
        Gradient of the cost with respect to the output ``Z`` of :func:`conv_forward`.
    cache : tuple
        ``(A_prev, W, b, hparameters)`` returned by :func:`conv_forward`.

    Returns
    -------
    dA_prev : ndarray of float64, shape (m, n_H_prev, n_W_prev, n_C_prev)
    dW : ndarray of float64, shape (f, f, n_C_prev, n_C)
    db : ndarray of float64, shape (1, 1, 1, n_C)
    """
    A_prev, W, b, hparameters = unpack_cache(cache, ("A_prev", "W", "b", "hparameters"), "conv_forward")
    A_prev, W, b, stride, pad, n_H, n_W = _check_conv_operands(A_prev, W, b, hparameters)
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    dZ = _check_gradient_shape(dZ, "dZ", (m, n_H, n_W, n_C))

    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros((f, f, n_C_prev, n_C))
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):  # each example
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]  # a view: writes go into dA_prev_pad
        for h in range(n_H):  # each output row (not each input row)
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):  # each output column
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):  # each filter
                    dz = dZ[i, h, w, c]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dz
                    dW[:, :, :, c] += a_slice * dz
                    db[:, :, :, c] += dz
        # Drop the padding; pad:pad + n (not pad:-pad) also works for pad == 0.
        dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db


# --------------------------------------------------------------------------- pooling


def pool_forward(
    A_prev: np.ndarray, hparameters: Mapping[str, Any], mode: str = "max"
) -> tuple[np.ndarray, tuple[np.ndarray, Mapping[str, Any]]]:
    """Forward pass of a max or average pooling layer (no padding, channel by channel).

    .. math::

        A_{i, h, w, c} = \\max_{0 \\le p, q < f} A^{prev}_{i,\\, h s + p,\\, w s + q,\\, c}
        \\quad\\text{or}\\quad
        \\frac{1}{f^2} \\sum_{p, q} A^{prev}_{i,\\, h s + p,\\, w s + q,\\, c}

    Parameters
    ----------
    A_prev : ndarray, shape (m, n_H_prev, n_W_prev, n_C_prev)
    hparameters : dict
        ``{"f": int >= 1, "stride": int >= 1}``: window side and stride (windows overlap
        when ``stride < f``).
    mode : {"max", "average"}

    Returns
    -------
    A : ndarray of float64, shape (m, n_H, n_W, n_C_prev)
        ``n_H = (n_H_prev - f) // stride + 1`` and likewise ``n_W``.
    cache : tuple
        ``(A_prev, hparameters)``, for :func:`pool_backward`.
    """
    A_prev, f, stride, n_H, n_W = _check_pool_operands(A_prev, hparameters, mode)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape

    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    else:
                        A[i, h, w, c] = np.mean(a_prev_slice)

    cache = (A_prev, hparameters)
    return A, cache


def _mask_of_maximum(x: np.ndarray) -> np.ndarray:
    return x == np.max(x)


def create_mask_from_window(x: np.ndarray) -> np.ndarray:
    """Boolean mask of the maximum of a window: ``mask = (x == max(x))``.

    Every entry equal to the maximum is ``True``: with tied maxima the mask has several
    ``True`` entries (the notebook's behaviour, kept on purpose). A window holding NaN
    has an all-``False`` mask.

    Parameters
    ----------
    x : ndarray, shape (f, f)
        One pooling window (any non-empty 2-D real array).

    Returns
    -------
    mask : ndarray of bool, the shape of ``x``
    """
    x = check_array(x, "x", 2, "(f, f)")
    if x.size == 0:
        raise ValueError(f"x must be a non-empty window (f, f), got shape {x.shape}")
    return _mask_of_maximum(x)


def _distribute(dz: float, shape: tuple[int, int]) -> np.ndarray:
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    return np.full(shape, average, dtype=np.float64)


def distribute_value(dz: float, shape: tuple[int, int]) -> np.ndarray:
    """Spread a gradient evenly over a window (average pooling's backward).

    Parameters
    ----------
    dz : float
        The gradient of one output of average pooling.
    shape : (int, int)
        The window's shape ``(n_H, n_W)``, each >= 1.

    Returns
    -------
    a : ndarray of float64, shape ``shape``
        Every entry is ``dz / (n_H * n_W)``.
    """
    if isinstance(dz, np.ndarray) and dz.ndim == 0:
        dz = dz.item()
    dz = check_real(dz, "dz")
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise ValueError(f"shape must be a pair (n_H, n_W), got {shape!r}")
    n_H = check_int(shape[0], "shape[0]", 1)
    n_W = check_int(shape[1], "shape[1]", 1)
    return _distribute(dz, (n_H, n_W))


def pool_backward(dA: np.ndarray, cache: tuple, mode: str = "max") -> np.ndarray:
    """Backward pass of a pooling layer; windows that overlap add up their gradients.

    For each window ``(i, h, w, c)`` with corners ``h s .. h s + f`` and ``w s .. w s + f``:

    - ``"max"``: ``dA_prev[window] += (window == max(window)) * dA[i, h, w, c]``. **Tied
      maxima**: every entry equal to the window's maximum receives the *full* gradient
      ``dA[i, h, w, c]`` (the notebook's ``create_mask_from_window``); the gradient is then
      counted once per tied entry. Frameworks (PyTorch, CS231n's
      :func:`deepstep.course.cs231n.max_pool_backward_naive`) send it to one argmax only.
      Without ties both agree with the true gradient.
    - ``"average"``: ``dA_prev[window] += dA[i, h, w, c] / f**2`` (``distribute_value``).

    Parameters
    ----------
    dA : ndarray, shape (m, n_H, n_W, n_C)
        Gradient of the cost with respect to the output of :func:`pool_forward`.
    cache : tuple
        ``(A_prev, hparameters)`` returned by :func:`pool_forward`.
    mode : {"max", "average"}
        Must be the mode of the forward pass.

    Returns
    -------
    dA_prev : ndarray of float64, shape (m, n_H_prev, n_W_prev, n_C)
    """
    A_prev, hparameters = unpack_cache(cache, ("A_prev", "hparameters"), "pool_forward")
    A_prev, f, stride, n_H, n_W = _check_pool_operands(A_prev, hparameters, mode)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    dA = _check_gradient_shape(dA, "dA", (m, n_H, n_W, n_C))

    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C))
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = _mask_of_maximum(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    else:
                        da = dA[i, h, w, c]
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += _distribute(da, (f, f))
    return dA_prev
