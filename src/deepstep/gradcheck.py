"""Numerical gradient checking with centred differences.

The analytic backward of every op, layer and model in deepstep is compared with

.. math:: \\frac{\\partial L}{\\partial x_i} \\approx
          \\frac{L(x + h e_i) - L(x - h e_i)}{2h},

evaluated in float64 (in float32 the truncation and round-off errors swamp the
comparison). ``rel_error`` and ``eval_numerical_gradient_array`` follow CS231n;
``gradient_check_n`` follows the Deep Learning Specialization's "Gradient Checking"
notebook, for a parameters dict ``{"W1", "b1", ...}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._validation import check_array, check_real

__all__ = [
    "rel_error",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "numerical_gradients",
    "dictionary_to_vector",
    "vector_to_dictionary",
    "gradients_to_vector",
    "gradient_check_n",
]


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Maximum relative error ``max |x - y| / max(1e-8, |x| + |y|)`` (CS231n).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` have different shapes.
    """
    x = check_array(x, "x")
    y = check_array(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _check_x_and_h(x: np.ndarray, h: float) -> None:
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a floating numpy array (it is perturbed in place)")
    check_real(h, "h", 0.0, inclusive_min=False)


def _centred_differences(x: np.ndarray, h: float, evaluate: Callable[[np.ndarray], Any],
                         combine: Callable[[Any, Any], float]) -> np.ndarray:
    """``grad[i] = combine(evaluate(x + h e_i), evaluate(x - h e_i)) / (2h)`` for every entry of ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored even if ``evaluate`` raises.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            plus = evaluate(x)
            x[ix] = old - h
            minus = evaluate(x)
        finally:
            x[ix] = old
        grad[ix] = combine(plus, minus) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                            h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x`` (perturbed in place, restored).

    Returns an array of ``x.shape`` with ``(f(x + h e_i) - f(x - h e_i)) / (2h)``.
    """
    _check_x_and_h(x, h)
    return _centred_differences(x, h, lambda v: float(f(v)), lambda plus, minus: plus - minus)


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                                  df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * df)`` with respect to ``x`` (CS231n).

    ``f`` returns an array (for instance a layer's output) and ``df`` is the upstream
    gradient of that output; the result approximates the backward pass' ``dx``:
    ``sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)``.
    """
    _check_x_and_h(x, h)
    df = check_array(df, "df")

    def evaluate(v: np.ndarray) -> np.ndarray:
        out = np.array(f(v), dtype=np.float64, copy=True)
        if out.shape != df.shape:
            raise ValueError(f"df must have the shape of f(x) {out.shape}, got {df.shape}")
        return out

    return _centred_differences(x, h, evaluate, lambda plus, minus: float(np.sum((plus - minus) * df)))


def numerical_gradients(f: Callable[[], np.ndarray], arrays: Sequence[np.ndarray],
                        df: np.ndarray | None = None, h: float = 1e-5) -> list[np.ndarray]:
    """Numerical gradients of ``sum(f() * df)`` (or of scalar ``f()``) for several inputs.

    ``f`` takes no argument and reads the arrays in ``arrays``, which are perturbed in
    place one element at a time. This checks every input of an op (x, w, b, ...) with
    one closure.
    """
    grads = []
    for arr in arrays:
        if df is None:
            grads.append(eval_numerical_gradient(lambda _: f(), arr, h))
        else:
            grads.append(eval_numerical_gradient_array(lambda _: f(), arr, df, h))
    return grads


def _layer_count(mapping: Mapping[str, np.ndarray], prefix: str) -> int:
    count = 0
    while f"{prefix}{count + 1}" in mapping:
        count += 1
    return count


def dictionary_to_vector(parameters: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Flatten ``{"W1", "b1", ..., "WL", "bL"}`` into one column vector (n, 1).

    Returns the vector and the key of every row, in the order W1, b1, W2, b2, ...
    """
    L = _layer_count(parameters, "W")
    if L == 0:
        raise ValueError("parameters must hold 'W1', 'b1', ...; no 'W1' found")
    chunks, keys = [], []
    for layer in range(1, L + 1):
        for name in (f"W{layer}", f"b{layer}"):
            if name not in parameters:
                raise ValueError(f"parameters is missing key {name!r}")
            value = check_array(parameters[name], f"parameters[{name!r}]")
            chunks.append(value.reshape(-1, 1).astype(np.float64))
            keys.extend([name] * value.size)
    return np.concatenate(chunks, axis=0), keys


def vector_to_dictionary(theta: np.ndarray, like: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inverse of :func:`dictionary_to_vector`, shaped like the parameters dict ``like``."""
    theta = check_array(theta, "theta").reshape(-1)
    names = [f"{p}{layer}" for layer in range(1, _layer_count(like, "W") + 1) for p in ("W", "b")]
    if not names:
        raise ValueError("like must hold 'W1', 'b1', ...; no 'W1' found")
    missing = [name for name in names if name not in like]
    if missing:
        raise ValueError(f"like is missing key(s) {', '.join(repr(k) for k in missing)}")
    need = sum(int(np.prod(np.shape(like[name]))) for name in names)
    if need != theta.size:
        raise ValueError(f"theta has {theta.size} entries, the parameters need {need}")
    out, start = {}, 0
    for name in names:
        shape = np.shape(like[name])
        size = int(np.prod(shape))
        out[name] = theta[start:start + size].reshape(shape)
        start += size
    return out


def gradients_to_vector(gradients: Mapping[str, np.ndarray],
                        parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flatten ``{"dW1", "db1", ...}`` in the order of :func:`dictionary_to_vector`."""
    chunks = []
    for layer in range(1, _layer_count(parameters, "W") + 1):
        for name in (f"dW{layer}", f"db{layer}"):
            if name not in gradients:
                raise ValueError(f"gradients is missing key {name!r}")
            grad = check_array(gradients[name], f"gradients[{name!r}]")
            want = np.shape(parameters[name[1:]])
            if grad.shape != want:
                raise ValueError(f"gradients[{name!r}] must have shape {want}, got {grad.shape}")
            chunks.append(grad.reshape(-1, 1).astype(np.float64))
    return np.concatenate(chunks, axis=0)


def gradient_check_n(parameters: Mapping[str, np.ndarray], gradients: Mapping[str, np.ndarray],
                     cost_function: Callable[[dict[str, np.ndarray]], float],
                     epsilon: float = 1e-7, print_msg: bool = False) -> float:
    """Compare backprop's gradients with centred differences of the cost (course notebook).

    Parameters
    ----------
    parameters : dict
        ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``.
    gradients : dict
        Backprop's ``{"dW1", "db1", ...}`` (other keys such as ``"dA1"`` are ignored).
    cost_function : callable
        ``cost_function(parameters_dict) -> float``, the cost at those parameters.
    epsilon : float
        The perturbation ``h`` of the centred difference.

    Returns
    -------
    difference : float
        ``||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2)``; below about
        ``2e-7`` the backward pass is almost certainly right.
    """
    check_real(epsilon, "epsilon", 0.0, inclusive_min=False)
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients, parameters)
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus = theta.copy()
        plus[i, 0] += epsilon
        minus = theta.copy()
        minus[i, 0] -= epsilon
        j_plus = float(cost_function(vector_to_dictionary(plus, parameters)))
        j_minus = float(cost_function(vector_to_dictionary(minus, parameters)))
        approx[i, 0] = (j_plus - j_minus) / (2 * epsilon)
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    difference = float(np.linalg.norm(grad - approx) / denominator) if denominator > 0 else 0.0
    if print_msg:
        verdict = "There is a mistake in the backward propagation!" if difference > 2e-7 else \
            "Your backward propagation works perfectly fine!"
        print(f"{verdict} difference = {difference}")
    return difference
