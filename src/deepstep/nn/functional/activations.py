"""Element-wise activations and softmax, each ``f(x) -> (out, cache)`` with ``f_backward(dout, cache)``.

Every function keeps the input dtype (float32 or float64) and never warns on
overflow: ``sigmoid`` of ``+-1e4`` is exactly 1 and 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import brief_repr, check_float_array, check_int, check_real, dtype_name
from . import _registry

__all__ = [
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
    "softmax",
    "softmax_backward",
    "stable_sigmoid",
]


def _check_dout(dout: Any, ref: np.ndarray, what: str) -> np.ndarray:
    dout = check_float_array(dout, "dout")
    if dout.shape != ref.shape:
        raise ValueError(f"dout must have the shape of the forward {what} {ref.shape}, got {dout.shape}")
    if dout.dtype != ref.dtype:
        raise TypeError(f"dout must have the forward input's dtype {ref.dtype}, got {dout.dtype}")
    return dout


def _check_cache(cache: Any, op: str) -> np.ndarray:
    if not isinstance(cache, np.ndarray) or cache.dtype not in (np.float32, np.float64):
        raise TypeError(f"cache must be the array returned as cache by {op}, got {type(cache).__name__}")
    return cache


def relu(x: np.ndarray, overwrite_x: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``max(x, 0)``. Returns ``(out, cache)`` where ``cache`` is ``x``; any shape.

    With ``overwrite_x=True`` the result is written into ``x`` itself (no new array; for
    callers that own ``x``, such as a layer applying its fused activation to its own
    output). The cache is then the overwritten ``x``, i.e. ``max(x, 0)``, which is positive
    exactly where ``x`` was, so :func:`relu_backward` is unchanged.
    """
    x = check_float_array(x, "x")
    if not isinstance(overwrite_x, bool):
        raise TypeError(f"overwrite_x must be a bool, got {brief_repr(overwrite_x)}")
    return _registry.choose("relu", _problem(x)).forward(x, overwrite_x), x


def _problem(x: np.ndarray) -> dict[str, Any]:
    return {"dtype": dtype_name(x.dtype), "size": x.size, "contiguous": x.flags.c_contiguous}


def _numpy_relu(x: np.ndarray, overwrite_x: bool) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0), out=x if overwrite_x else None)


def _numpy_relu_backward(dout: np.ndarray, x: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    return np.multiply(dout, x > 0, out=out, dtype=dout.dtype)


def relu_backward(dout: np.ndarray, cache: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``dx = dout * (x > 0)`` (the gradient at ``x == 0`` is 0, as in PyTorch).

    ``out``, optional: an array of the shape and dtype of ``dout`` to write ``dx`` into
    (returned), e.g. a buffer that a layer reuses from step to step instead of a fresh
    array whose pages the OS must hand out again each time.

    Evaluated as a product with the boolean mask rather than ``np.where(x > 0, dout, 0)``:
    same result for finite ``dout`` and ~6x faster (``np.where`` branches on every element,
    and a random mask defeats branch prediction: 9.3 ms vs 1.4 ms for 2M float32 numbers).
    A non-finite ``dout`` where ``x <= 0`` gives NaN there (``0 * inf``), not 0.
    """
    x = _check_cache(cache, "relu")
    dout = _check_dout(dout, x, "input")
    if out is not None and not (isinstance(out, np.ndarray) and out.shape == dout.shape
                                and out.dtype == dout.dtype):
        got = f"{out.dtype} array of shape {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(f"out must be a {dout.dtype} array of shape {dout.shape} (like dout), got {got}")
    problem = _problem(x)
    problem["contiguous"] = problem["contiguous"] and dout.flags.c_contiguous
    return _registry.choose("relu", problem).backward(dout, x, out)


def leaky_relu(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """``x`` where ``x > 0`` else ``alpha * x``; ``alpha`` a finite real >= 0.

    Returns ``(out, cache)`` where ``cache`` is ``(x, alpha)``.
    """
    x = check_float_array(x, "x")
    alpha = check_real(alpha, "alpha", 0.0, float(np.finfo(x.dtype).max))
    a = x.dtype.type(alpha)
    return np.where(x > 0, x, x * a), (x, alpha)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """``dx = dout`` where ``x > 0`` else ``alpha * dout`` (``alpha`` at ``x == 0``, as PyTorch)."""
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError("cache must be the (x, alpha) tuple returned by leaky_relu")
    x = _check_cache(cache[0], "leaky_relu")
    dout = _check_dout(dout, x, "input")
    return np.where(x > 0, dout, dout * x.dtype.type(cache[1]))


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: ``exp(-|x|)`` never overflows.

    For ``x >= 0`` it is ``1 / (1 + e)``, otherwise ``e / (1 + e)``, with ``e = exp(-|x|)``.
    The dtype of ``x`` (float32 or float64) is kept.
    """
    e = np.abs(x)
    np.negative(e, out=e)
    with np.errstate(under="ignore"):  # exp(-|x|) underflows to 0 for large |x|: harmless
        np.exp(e, out=e)
        r = e + x.dtype.type(1)
        np.reciprocal(r, out=r)  # 1 / (1 + e)
        e *= r  # e / (1 + e)
    return np.where(x >= 0, r, e)


def sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic function ``1 / (1 + exp(-x))``, numerically stable (see :func:`stable_sigmoid`).

    Returns ``(out, cache)`` where ``cache`` is ``out``; any shape.
    """
    x = check_float_array(x, "x")
    out = stable_sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dx = dout * s * (1 - s)`` with ``s`` the forward output."""
    s = _check_cache(cache, "sigmoid")
    dout = _check_dout(dout, s, "output")
    return dout * s * (s.dtype.type(1) - s)


def tanh(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hyperbolic tangent. Returns ``(out, cache)`` where ``cache`` is ``out``; any shape."""
    x = check_float_array(x, "x")
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dx = dout * (1 - t ** 2)`` with ``t`` the forward output.

    Computed as ``(1 - t) * (1 + t)``, which keeps full relative precision where
    ``|t|`` is close to 1 (``1 - t`` is then exact).
    """
    t = _check_cache(cache, "tanh")
    dout = _check_dout(dout, t, "output")
    one = t.dtype.type(1)
    return dout * ((one - t) * (one + t))


def _check_axis(axis: Any, ndim: int) -> int:
    axis = check_int(axis, "axis")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in [{-ndim}, {ndim}) for a {ndim}-D x, got {axis}")
    return axis % ndim


def softmax(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, tuple[np.ndarray, int]]:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (the max subtraction avoids overflow).

    Parameters
    ----------
    x : ndarray, at least 1-D, float32 or float64
    axis : int
        Axis of the classes, in ``[-x.ndim, x.ndim)``.

    Returns
    -------
    out : ndarray, shape and dtype of ``x``; sums to 1 along ``axis``
    cache : (out, axis)
    """
    x = check_float_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have at least 1 dimension for softmax, got a 0-D array")
    axis = _check_axis(axis, x.ndim)
    out = x - x.max(axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)
    return out, (out, axis)


def softmax_backward(dout: np.ndarray, cache: tuple[np.ndarray, int]) -> np.ndarray:
    """``dx = s * (dout - sum(dout * s, axis))`` with ``s`` the forward output."""
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError("cache must be the (out, axis) tuple returned by softmax")
    s, axis = cache
    s = _check_cache(s, "softmax")
    dout = _check_dout(dout, s, "output")
    return s * (dout - (dout * s).sum(axis=axis, keepdims=True))


_registry.register("relu", _registry.Implementation(
    "numpy", lambda problem: True, _numpy_relu, _numpy_relu_backward, np.ndarray))
