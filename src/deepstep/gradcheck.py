"""Numerical gradient checking with centred differences.

The analytic backward of every op, layer and model in deepstep is compared with

.. math:: \\frac{\\partial L}{\\partial x_i} \\approx
          \\frac{L(x + h e_i) - L(x - h e_i)}{2h},

evaluated in float64 (in float32 the truncation and round-off errors swamp the
comparison). ``rel_error`` and ``eval_numerical_gradient_array`` follow CS231n;
``gradient_check_n`` follows the Deep Learning Specialization's "Gradient Checking"
notebook, for a parameters dict ``{"W1", "b1", ...}``. :func:`check_model` checks every
parameter of a whole model (what ``deepstep gradcheck`` runs), leaving out entries that sit
on a kink of the loss (a ReLU at zero, a max-pool tie), where centred differences are wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    "ParameterCheck",
    "check_model",
    "to_float64",
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


@dataclass(frozen=True)
class ParameterCheck:
    """The outcome of :func:`check_model` for one parameter.

    Attributes
    ----------
    layer, parameter : str
        The layer's name and the parameter's name within it.
    shape : tuple of int
    checked : int
        Entries compared (sampled, kinks left out).
    rel_error : float
        ``||analytic - numeric|| / (||analytic|| + ||numeric||)`` over the checked entries
        (0 when both are 0 or nothing was checked).
    kinks : tuple of int
        Flat indices of the sampled entries left out because the loss has a kink within ``h``
        of them (their one-sided slopes ``(L(w+h) - L(w)) / h`` and ``(L(w) - L(w-h)) / h`` differ).
    """

    layer: str
    parameter: str
    shape: tuple[int, ...]
    checked: int
    rel_error: float
    kinks: tuple[int, ...] = ()

    def passed(self, tolerance: float) -> bool:
        """True when ``rel_error <= tolerance`` (kinks do not count)."""
        return self.rel_error <= tolerance


def to_float64(model: Any) -> Any:
    """A float64 copy of a model (same architecture and weights, matched by name); itself if float64."""
    if str(getattr(model, "dtype", "float64")) == "float64":
        return model
    config = model.get_config()
    config["dtype"] = "float64"
    copy = type(model).from_config(config)
    copy.set_weights(model.get_weight_dict())
    return copy


def _default_loss(model: Any) -> Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]:
    from .nn.functional import binary_cross_entropy_with_logits, softmax_cross_entropy

    out = getattr(model, "output_shape", None)
    binary = out is not None and tuple(out)[-1] == 1
    return binary_cross_entropy_with_logits if binary else softmax_cross_entropy


def _is_smooth(values: Mapping[float, float], base: float, h: float, noise: float) -> bool:
    """True unless the loss has a kink within ``h`` of the entry.

    The one-sided slopes differ by ``d(h) = |s+(h) - s-(h)| = |L''| h + O(h^3)`` where the loss is
    smooth, so halving the step halves the gap: ``d(h) / d(h/2) = 2``. A kink within ``h/2`` keeps
    the gap (ratio near 1); one between ``h/2`` and ``h`` opens it only at ``h`` (ratio above 2).
    """
    def gap(step: float) -> float:
        return abs((values[step] - base) / step - (base - values[-step]) / step)

    full, half = gap(h), gap(h / 2)
    if full <= noise and half <= noise:
        return True
    return 1.5 * half - noise <= full <= 2.5 * half + noise


def check_model(model: Any, x: np.ndarray, y: np.ndarray,
                loss: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]] | None = None,
                entries: int = 12, h: float = 1e-5, rng: np.random.Generator | None = None
                ) -> list[ParameterCheck]:
    """Compare the analytic gradient of every trainable parameter with centred differences.

    The loss is ``loss(model.forward(x, training=False)[0], y)`` (default: mean softmax
    cross-entropy of logits, or binary cross-entropy for one logit), in inference mode.
    For each parameter, ``entries`` entries are sampled; at each, ``L(w + h)``, ``L(w)`` and
    ``L(w - h)`` give the centred difference; ``L(w +- h/2)`` as well tell a smooth loss, whose
    one-sided slopes differ by ``|L''| h`` (half as much at ``h/2``), from a kink within ``h``
    (a ReLU pre-activation at 0, a tie in a max-pool window), where they differ by a jump that
    does not shrink with the step. The centred difference averages two different derivatives at
    a kink, so such an entry is reported in :attr:`ParameterCheck.kinks` and left out of
    ``rel_error``. The test looks only at loss values, never at the analytic gradient, so a wrong
    backward cannot hide behind it.

    Parameters
    ----------
    model : deepstep.nn.Model (or Module-like)
        ``forward(x, training) -> (out, cache)``, ``backward(dout, cache)``, ``zero_grad`` and
        ``named_parameters``; use a float64 model
        (:func:`to_float64`), float32 round-off swamps the comparison.
    x : ndarray, shape (N, *input_shape)
    y : ndarray
        Labels as ``loss`` takes them.
    loss : callable, optional
        ``loss(outputs, y) -> (value, d value / d outputs)``.
    entries : int
        Entries sampled per parameter (all when the parameter has fewer).
    h : float
        The finite-difference step.
    rng : numpy Generator, optional
        Picks the entries (default ``np.random.default_rng(0)``).

    Returns
    -------
    list of ParameterCheck, one per trainable parameter, in the model's order.
    """
    entries = int(entries)
    if entries < 1:
        raise ValueError(f"entries must be >= 1, got {entries}")
    check_real(h, "h", 0.0, inclusive_min=False)
    rng = rng if rng is not None else np.random.default_rng(0)
    loss_fn = loss if loss is not None else _default_loss(model)

    def loss_value() -> float:
        return float(loss_fn(model.forward(x, training=False)[0], y)[0])

    model.zero_grad()
    out, cache = model.forward(x, training=False)
    _, dout = loss_fn(out, y)
    model.backward(dout, cache)
    base = loss_value()
    noise = 64 * np.finfo(np.float64).eps * max(abs(base), 1.0) / (h / 2)  # round-off of a one-sided slope
    results = []
    for full_name, param in model.named_parameters():
        if not getattr(param, "trainable", True):
            continue
        analytic = np.array(param.grad, dtype=np.float64).ravel()
        flat = param.value.reshape(-1)  # a view: perturbing it perturbs the weights
        if not np.shares_memory(flat, param.value):
            raise ValueError(f"parameter {full_name!r} is not contiguous; cannot perturb it in place")
        count = min(entries, flat.size)
        picked = np.sort(rng.choice(flat.size, size=count, replace=False))
        numeric = np.empty(count)
        smooth = np.ones(count, dtype=bool)
        for k, i in enumerate(picked):
            old = flat[i]
            values = {}
            try:
                for step in (h, -h, h / 2, -h / 2):
                    flat[i] = old + step
                    values[step] = loss_value()
            finally:
                flat[i] = old
            numeric[k] = (values[h] - values[-h]) / (2 * h)
            smooth[k] = _is_smooth(values, base, h, noise)
        a, n = analytic[picked][smooth], numeric[smooth]
        denominator = np.linalg.norm(a) + np.linalg.norm(n)
        error = 0.0 if denominator == 0 else float(np.linalg.norm(a - n) / denominator)
        layer, _, name = str(full_name).rpartition("/")
        results.append(ParameterCheck(layer or str(full_name), name, tuple(param.value.shape),
                                      int(smooth.sum()), error, tuple(int(i) for i in picked[~smooth])))
    return results
