"""Building your Deep Neural Network: Step by Step (Deep Learning Specialization, course 1, week 4).

A fully connected network ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID`` for binary
classification, written as the notebook's small functions. Examples are columns:

* ``X`` or ``A^[0]``: ``(n_x, m)``; ``A^[l]``, ``Z^[l]``: ``(n_l, m)``;
* ``W^[l]``: ``(n_l, n_{l-1})``; ``b^[l]``: ``(n_l, 1)``;
* parameters: ``{"W1", "b1", ..., "WL", "bL"}``; gradients: ``{"dA0", ..., "dA{L-1}",
  "dW1", "db1", ..., "dWL", "dbL"}``.

Every function computes the notebook's formula, bit for bit, on every input where the
notebook's own arithmetic is finite, including inputs a network would not produce (the
staff tests pass ``AL = np.random.randn(1, 2)`` to :func:`L_model_backward` and real-valued
``Y`` to the models). Differences from the notebook (defects fixed):

* :func:`sigmoid` never warns about overflow and reaches its limits exactly
  (``sigmoid(-1e4) == 0.0``, ``sigmoid(1e4) == 1.0``), in float32 as in float64, while
  giving bit-for-bit the notebook's ``1 / (1 + exp(-Z))`` everywhere else.
* :func:`compute_cost` and :func:`L_model_backward` guard ``log(0)`` and division by 0:
  only the entries where the notebook's formula is not finite (an ``AL`` of exactly 0 or
  1) are recomputed with ``AL`` clipped to ``[eps, 1 - eps]`` (:func:`clip_probabilities`);
  every other entry is the notebook's value, unchanged.
* Every public function validates what it needs to run (ranks, matching shapes of the
  arrays it combines, dict keys, real dtypes, at least one example) and raises
  ``ValueError`` or ``TypeError`` naming the argument, instead of failing with a
  broadcast error or ``ZeroDivisionError``; :func:`compute_cost` also requires ``AL``
  in ``[0, 1]``, where its logarithms are defined (the notebook returns nan).
* The update functions return a new dict and never modify their arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_real
from ._checks import (
    as_labels,
    as_real_array,
    as_real_matrix,
    check_examples,
    check_finite,
    check_gradients,
    check_parameter_arrays,
    check_parameters,
    check_unit_interval,
)

__all__ = [
    "sigmoid",
    "relu",
    "sigmoid_backward",
    "relu_backward",
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "clip_probabilities",
    "cross_entropy_dAL",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
    "predict",
]

ACTIVATIONS = ("sigmoid", "relu")

LinearCache = tuple[np.ndarray, np.ndarray, np.ndarray]
LayerCache = tuple[LinearCache, np.ndarray]


# ----------------------------------------------------------------------------- activations
def sigmoid(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sigmoid activation ``A = 1 / (1 + exp(-Z))``.

    ``exp(-Z)`` overflows to ``inf`` for very negative ``Z`` (and underflows to 0 for very
    positive ``Z``); both floating-point warnings are silenced because ``1 / (1 + inf)``
    and ``1 / (1 + 0)`` are exactly the limits 0 and 1. For every other ``Z`` the result
    is bit-for-bit the notebook's.

    Parameters
    ----------
    Z : ndarray of any shape
        Pre-activation. Integer input is promoted to float64; float32 stays float32.

    Returns
    -------
    A : ndarray, shape of ``Z``
        ``sigmoid(Z)``, in ``[0, 1]``.
    cache : ndarray
        ``Z``, kept for :func:`sigmoid_backward`.
    """
    Z = as_real_array(Z, "Z")
    with np.errstate(over="ignore", under="ignore"):
        A = 1 / (1 + np.exp(-Z))
    return A, Z


def relu(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ReLU activation ``A = max(0, Z)``.

    Parameters
    ----------
    Z : ndarray of any shape
        Pre-activation.

    Returns
    -------
    A : ndarray, shape of ``Z``
    cache : ndarray
        ``Z``, kept for :func:`relu_backward`.
    """
    Z = as_real_array(Z, "Z")
    A = np.maximum(0, Z)
    return A, Z


def _check_activation_backward(dA: Any, cache: Any) -> tuple[np.ndarray, np.ndarray]:
    dA = as_real_array(dA, "dA")
    Z = as_real_array(cache, "cache (Z)")
    if dA.shape != Z.shape:
        raise ValueError(f"dA must have the shape of the cached Z {Z.shape}, got {dA.shape}")
    return dA, Z


def sigmoid_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of :func:`sigmoid`: ``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``.

    Parameters
    ----------
    dA : ndarray
        Gradient of the cost with respect to ``A``, shape of ``Z``.
    cache : ndarray
        ``Z`` as returned by :func:`sigmoid`.

    Returns
    -------
    dZ : ndarray, shape of ``Z``
    """
    dA, Z = _check_activation_backward(dA, cache)
    s, _ = sigmoid(Z)
    return dA * s * (1 - s)


def relu_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of :func:`relu`: ``dZ = dA`` where ``Z > 0`` and ``0`` where ``Z <= 0``.

    Parameters
    ----------
    dA : ndarray
        Gradient of the cost with respect to ``A``, shape of ``Z``.
    cache : ndarray
        ``Z`` as returned by :func:`relu`.

    Returns
    -------
    dZ : ndarray, shape of ``Z``
    """
    dA, Z = _check_activation_backward(dA, cache)
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


# ----------------------------------------------------------------------------- initialization
def initialize_parameters(n_x: int, n_h: int, n_y: int) -> dict[str, np.ndarray]:
    """Parameters of a two-layer network ``LINEAR -> RELU -> LINEAR -> SIGMOID``.

    Seeds NumPy's global generator with ``np.random.seed(1)`` (as the notebook does) and
    draws ``W1 = randn(n_h, n_x) * 0.01`` then ``W2 = randn(n_y, n_h) * 0.01``; biases are
    zero.

    Parameters
    ----------
    n_x, n_h, n_y : int
        Sizes of the input, hidden and output layers (each >= 1).

    Returns
    -------
    parameters : dict
        ``W1`` (n_h, n_x), ``b1`` (n_h, 1), ``W2`` (n_y, n_h), ``b2`` (n_y, 1).
    """
    n_x = check_int(n_x, "n_x", 1)
    n_h = check_int(n_h, "n_h", 1)
    n_y = check_int(n_y, "n_y", 1)
    np.random.seed(1)  # noqa: NPY002 - the notebook's global seed, for its published numbers
    W1 = np.random.randn(n_h, n_x) * 0.01  # noqa: NPY002
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01  # noqa: NPY002
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def check_layer_dims(layer_dims: Any, name: str = "layer_dims") -> list[int]:
    """Validate a list of layer sizes ``[n_0, n_1, ..., n_L]``: at least 2 ints, each >= 1."""
    if isinstance(layer_dims, str | bytes) or not isinstance(layer_dims, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of layer sizes, got {type(layer_dims).__name__}")
    dims = [check_int(n, f"{name}[{i}]", 1) for i, n in enumerate(layer_dims)]
    if len(dims) < 2:
        raise ValueError(f"{name} must have at least 2 entries (input and output sizes), got {len(dims)}")
    return dims


def initialize_parameters_deep(layer_dims: Sequence[int]) -> dict[str, np.ndarray]:
    """Parameters of an L-layer network, ``W_l = randn(n_l, n_{l-1}) * 0.01``, ``b_l = 0``.

    Seeds NumPy's global generator with ``np.random.seed(3)`` (as the notebook does) and
    draws the weights in the order ``W1, W2, ..., WL``.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``: the input size then every layer's size (each >= 1,
        at least 2 entries).

    Returns
    -------
    parameters : dict
        ``W_l`` (n_l, n_{l-1}) and ``b_l`` (n_l, 1) for ``l = 1..L``.
    """
    dims = check_layer_dims(layer_dims)
    np.random.seed(3)  # noqa: NPY002 - the notebook's global seed, for its published numbers
    parameters = {}
    for layer in range(1, len(dims)):
        parameters[f"W{layer}"] = np.random.randn(dims[layer], dims[layer - 1]) * 0.01  # noqa: NPY002
        parameters[f"b{layer}"] = np.zeros((dims[layer], 1))
    return parameters


# ----------------------------------------------------------------------------- forward
def _check_linear_inputs(A: Any, W: Any, b: Any, a_name: str = "A"):
    A = as_real_matrix(A, a_name, "(n_{l-1}, m)")
    W = as_real_matrix(W, "W", "(n_l, n_{l-1})")
    b = as_real_matrix(b, "b", "(n_l, 1)")
    if W.shape[1] != A.shape[0]:
        raise ValueError(
            f"W must have as many columns as {a_name} has rows ({A.shape[0]}), "
            f"got W of shape {W.shape} and {a_name} of shape {A.shape}"
        )
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"b must have shape {(W.shape[0], 1)} (W has {W.shape[0]} rows), got {b.shape}")
    return A, W, b


def linear_forward(A: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, LinearCache]:
    """Linear part of a layer: ``Z = W A + b``.

    Parameters
    ----------
    A : ndarray, shape (n_{l-1}, m)
        Activations of the previous layer (or the input ``X``).
    W : ndarray, shape (n_l, n_{l-1})
    b : ndarray, shape (n_l, 1)

    Returns
    -------
    Z : ndarray, shape (n_l, m)
    cache : tuple
        ``(A, W, b)`` for :func:`linear_backward`.
    """
    A, W, b = _check_linear_inputs(A, W, b)
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def linear_activation_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray,
                              activation: str) -> tuple[np.ndarray, LayerCache]:
    """One layer ``A = g(W A_prev + b)`` with ``g`` the sigmoid or the ReLU.

    Parameters
    ----------
    A_prev : ndarray, shape (n_{l-1}, m)
    W : ndarray, shape (n_l, n_{l-1})
    b : ndarray, shape (n_l, 1)
    activation : {"sigmoid", "relu"}

    Returns
    -------
    A : ndarray, shape (n_l, m)
    cache : tuple
        ``(linear_cache, activation_cache)`` = ``((A_prev, W, b), Z)``.
    """
    check_choice(activation, "activation", ACTIVATIONS)
    A_prev, W, b = _check_linear_inputs(A_prev, W, b, "A_prev")
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    else:
        A, activation_cache = relu(Z)
    return A, (linear_cache, activation_cache)


def L_model_forward(X: np.ndarray, parameters: Mapping[str, np.ndarray]
                    ) -> tuple[np.ndarray, list[LayerCache]]:
    """Forward pass of ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

    Parameters
    ----------
    X : ndarray, shape (n_x, m)
        Input, one example per column.
    parameters : dict
        ``W_l`` (n_l, n_{l-1}) and ``b_l`` (n_l, 1) for ``l = 1..L``, ``n_0 = n_x``.

    Returns
    -------
    AL : ndarray, shape (n_L, m)
        The sigmoid output (``n_L = 1`` for binary classification).
    caches : list of L tuples
        ``caches[l - 1]`` is layer ``l``'s cache from :func:`linear_activation_forward`.
    """
    X = as_real_matrix(X, "X", "(n_x, m)")
    L, params = check_parameters(parameters, "parameters", n_x=X.shape[0])
    caches = []
    A = X
    for layer in range(1, L):
        A, cache = linear_activation_forward(A, params[f"W{layer}"], params[f"b{layer}"], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, params[f"W{L}"], params[f"b{L}"], "sigmoid")
    caches.append(cache)
    return AL, caches


# ----------------------------------------------------------------------------- cost
def clip_probabilities(AL: np.ndarray) -> np.ndarray:
    """Clip probabilities to ``[eps, 1 - eps]`` with ``eps = np.finfo(AL.dtype).epsneg``.

    ``epsneg`` is ``2**-53`` in float64 and ``2**-24`` in float32, so ``1 - eps`` is the
    largest float below 1: an ``AL`` of exactly 1 becomes that float and every ``AL < 1``
    is unchanged at the top. At the bottom only ``AL < eps`` (about ``1.1e-16`` in
    float64) changes, which keeps the clip symmetric: the sigmoid cannot get closer to 1
    than ``eps`` without reaching 1, and no longer gets closer to 0 either. The cost of a
    maximally wrong example is then ``-log(eps)`` (about 36.7 in float64, 16.6 in
    float32) instead of ``inf``, and ``Y / AL``, ``(1 - Y) / (1 - AL)`` stay finite.
    Values in the normal range are returned bit-for-bit. :func:`compute_cost` and
    :func:`L_model_backward` apply it only to the entries where the notebook's own formula
    is not finite.
    """
    eps = np.finfo(AL.dtype).epsneg
    return np.clip(AL, eps, 1 - eps)


def _check_predictions(AL: Any, Y: Any, probabilities: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """``AL`` as a ``(1, m)`` real matrix (in ``[0, 1]`` if ``probabilities``), ``Y`` like it, and ``m``."""
    AL = as_real_matrix(AL, "AL", "(1, m)")
    if AL.shape[0] != 1:
        raise ValueError(f"AL must have shape (1, m) (one prediction per example), got {AL.shape}")
    m = check_examples(AL, "AL")
    if probabilities:
        check_unit_interval(AL, "AL", "probabilities")
    else:
        check_finite(AL, "AL")
    Y = as_labels(Y, "Y", AL.shape, AL)
    return AL, Y, m


def _cross_entropy_terms(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``Y log(AL) + (1 - Y) log(1 - AL)``, with ``log(0)`` guarded where it occurs.

    Entries where that formula is not finite (``AL`` exactly 0 or 1: ``log(0) = -inf``, or
    ``0 * -inf = nan`` for a correct label) are recomputed with ``AL`` clipped by
    :func:`clip_probabilities`; every other entry is the notebook's value, bit for bit.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = Y * np.log(AL) + (1 - Y) * np.log(1 - AL)
    bad = ~np.isfinite(terms)
    if np.any(bad):
        A, Yb = clip_probabilities(AL[bad]), Y[bad]
        terms[bad] = Yb * np.log(A) + (1 - Yb) * np.log(1 - A)
    return terms


def cross_entropy_dAL(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``dAL = -(Y / AL - (1 - Y) / (1 - AL))``, with division by 0 guarded where it occurs.

    The notebook's formula, on any real ``AL`` and ``Y`` of the same shape. Entries where it
    is not finite (``AL`` exactly 0 or 1, or so close that the quotient overflows) are
    recomputed with ``AL`` clipped by :func:`clip_probabilities`; every other entry is the
    notebook's value, bit for bit.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    bad = ~np.isfinite(dAL)
    if np.any(bad):
        A, Yb = clip_probabilities(AL[bad]), Y[bad]
        dAL[bad] = -(np.divide(Yb, A) - np.divide(1 - Yb, 1 - A))
    return dAL


def compute_cost(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Cross-entropy cost ``J = -1/m * sum(Y log(AL) + (1 - Y) log(1 - AL))``.

    The notebook's value wherever its logarithms are finite; an ``AL`` of exactly 0 or 1 is
    clipped by :func:`clip_probabilities` in the terms where ``log(0)`` would occur, so the
    cost stays finite.

    Parameters
    ----------
    AL : ndarray, shape (1, m)
        Predicted probabilities, in ``[0, 1]``; ``m >= 1``.
    Y : ndarray, shape (1, m)
        Targets: labels 0 or 1 (bool, integer or float), or any finite reals as in the
        staff tests.

    Returns
    -------
    cost : ndarray of shape ()
        ``np.squeeze`` of the ``(1,)`` sum, a 0-d array as the notebook returns
        (``float(cost)`` gives the Python number).
    """
    AL, Y, m = _check_predictions(AL, Y, probabilities=True)
    cost = (-1 / m) * np.sum(_cross_entropy_terms(AL, Y), axis=1)
    return np.squeeze(cost)


# ----------------------------------------------------------------------------- backward
def _check_linear_cache(cache: Any, name: str = "cache") -> LinearCache:
    if not isinstance(cache, tuple | list) or len(cache) != 3:
        raise TypeError(f"{name} must be the tuple (A_prev, W, b) from linear_forward, "
                        f"got {type(cache).__name__}"
                        + (f" of length {len(cache)}" if isinstance(cache, tuple | list) else ""))
    A_prev, W, b = _check_linear_inputs(*cache, a_name="A_prev")
    return A_prev, W, b


def linear_backward(dZ: np.ndarray, cache: LinearCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`linear_forward` (``Z = W A_prev + b``) over ``m`` examples.

    ``dW = dZ A_prev^T / m``, ``db = sum over columns of dZ / m`` (shape ``(n_l, 1)``),
    ``dA_prev = W^T dZ``.

    Parameters
    ----------
    dZ : ndarray, shape (n_l, m)
        Gradient of the cost with respect to ``Z``.
    cache : tuple
        ``(A_prev, W, b)`` from :func:`linear_forward`.

    Returns
    -------
    dA_prev : ndarray, shape (n_{l-1}, m)
    dW : ndarray, shape (n_l, n_{l-1})
    db : ndarray, shape (n_l, 1)
    """
    return _linear_backward(dZ, cache, need_dA_prev=True)  # type: ignore[return-value]


def _linear_backward(dZ: Any, cache: Any, need_dA_prev: bool
                     ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """:func:`linear_backward`; with ``need_dA_prev=False`` skip ``W^T dZ`` and return None.

    Training loops do not use the gradient with respect to the input ``X``; for the cat
    images (``n_x = 12288``) skipping it saves a third of each iteration's work.
    """
    A_prev, W, b = _check_linear_cache(cache)
    dZ = as_real_matrix(dZ, "dZ", "(n_l, m)")
    want = (W.shape[0], A_prev.shape[1])
    if dZ.shape != want:
        raise ValueError(f"dZ must have shape {want} (n_l of W, m of A_prev), got {dZ.shape}")
    m = check_examples(A_prev, "cache's A_prev")
    dW = (1 / m) * np.dot(dZ, A_prev.T)
    db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ) if need_dA_prev else None
    return dA_prev, dW, db


def linear_activation_backward(dA: np.ndarray, cache: LayerCache,
                               activation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`linear_activation_forward`.

    ``dZ = dA * g'(Z)`` (by :func:`sigmoid_backward` or :func:`relu_backward`), then
    :func:`linear_backward`.

    Parameters
    ----------
    dA : ndarray, shape (n_l, m)
        Gradient of the cost with respect to the layer's output ``A``.
    cache : tuple
        ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
    activation : {"sigmoid", "relu"}
        The activation used in the forward pass.

    Returns
    -------
    dA_prev : ndarray, shape (n_{l-1}, m)
    dW : ndarray, shape (n_l, n_{l-1})
    db : ndarray, shape (n_l, 1)
    """
    return _linear_activation_backward(dA, cache, activation, need_dA_prev=True)  # type: ignore[return-value]


def _linear_activation_backward(dA: Any, cache: Any, activation: str, need_dA_prev: bool
                                ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """:func:`linear_activation_backward`, optionally without ``dA_prev`` (see :func:`_linear_backward`)."""
    check_choice(activation, "activation", ACTIVATIONS)
    if not isinstance(cache, tuple | list) or len(cache) != 2:
        raise TypeError("cache must be the tuple (linear_cache, activation_cache) from "
                        f"linear_activation_forward, got {type(cache).__name__}"
                        + (f" of length {len(cache)}" if isinstance(cache, tuple | list) else ""))
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    else:
        dZ = sigmoid_backward(dA, activation_cache)
    return _linear_backward(dZ, linear_cache, need_dA_prev)


def L_model_backward(AL: np.ndarray, Y: np.ndarray, caches: Sequence[LayerCache]) -> dict[str, np.ndarray]:
    """Backward pass of :func:`L_model_forward` for the cross-entropy cost.

    Starts from ``dAL = -(Y / AL - (1 - Y) / (1 - AL))`` (:func:`cross_entropy_dAL`: the
    notebook's value, guarded only where ``AL`` is exactly 0 or 1), goes through the sigmoid
    layer ``L`` and then the ReLU layers ``L-1, ..., 1``.

    Parameters
    ----------
    AL : ndarray, shape (1, m)
        Output of :func:`L_model_forward`; any finite reals are accepted (the staff test
        uses ``np.random.randn(1, 2)``), ``m >= 1``.
    Y : ndarray, shape (1, m)
        Targets (labels 0 or 1, or any finite reals).
    caches : list of L tuples
        The caches from :func:`L_model_forward`.

    Returns
    -------
    grads : dict
        ``grads["dA" + str(l)]`` for ``l = 0..L-1`` (the gradient with respect to
        ``A^[l]``; ``dA0`` is with respect to ``X``), ``grads["dW" + str(l)]`` and
        ``grads["db" + str(l)]`` for ``l = 1..L``.
    """
    return _L_model_backward(AL, Y, caches, need_dA0=True)


def _L_model_backward(AL: Any, Y: Any, caches: Any, need_dA0: bool) -> dict[str, np.ndarray]:
    """:func:`L_model_backward`; with ``need_dA0=False`` the key ``"dA0"`` is left out."""
    AL, Y, _ = _check_predictions(AL, Y, probabilities=False)
    if not isinstance(caches, Sequence) or isinstance(caches, str | bytes) or len(caches) == 0:
        raise TypeError(f"caches must be the non-empty list from L_model_forward, got {caches!r:.60}")
    L = len(caches)
    dAL = cross_entropy_dAL(AL, Y)
    grads = {}
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = _linear_activation_backward(
        dAL, caches[L - 1], "sigmoid", need_dA_prev=need_dA0 or L > 1)
    for layer in reversed(range(L - 1)):
        dA_prev, dW, db = _linear_activation_backward(
            grads[f"dA{layer + 1}"], caches[layer], "relu", need_dA_prev=need_dA0 or layer > 0)
        grads[f"dA{layer}"] = dA_prev
        grads[f"dW{layer + 1}"] = dW
        grads[f"db{layer + 1}"] = db
    if not need_dA0:
        del grads["dA0"]
    return grads


# ----------------------------------------------------------------------------- update, predict
def update_parameters(parameters: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                      learning_rate: float) -> dict[str, np.ndarray]:
    """One gradient-descent step: ``W_l -= learning_rate * dW_l``, ``b_l -= learning_rate * db_l``.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    grads : dict
        ``dW1, db1, ..., dWL, dbL`` of the same shapes (other keys are ignored).
    learning_rate : float
        Step size, > 0.

    Returns
    -------
    parameters : dict
        A new dict with the updated arrays; the arguments are not modified.
    """
    L, params = check_parameter_arrays(parameters)
    grads = check_gradients(grads, params, L)
    learning_rate = check_real(learning_rate, "learning_rate", 0.0, inclusive_min=False)
    updated = {}
    for layer in range(1, L + 1):
        updated[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
        updated[f"b{layer}"] = params[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return updated


def predict(X: np.ndarray, y: np.ndarray, parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """Predict 0/1 labels with :func:`L_model_forward` and print the accuracy.

    An example is labelled 1 when its probability is ``> 0.5`` (as in the notebook).
    Prints ``"Accuracy: " + str(mean(p == y))`` (a Python float, e.g. ``Accuracy: 0.8``).

    Parameters
    ----------
    X : ndarray, shape (n_x, m)
    y : ndarray, shape (1, m)
        True labels (finite reals), used only for the printed accuracy.
    parameters : dict
        Trained ``W1, b1, ..., WL, bL`` with ``n_L = 1``.

    Returns
    -------
    p : ndarray of float64, shape (1, m)
        The predictions, 0.0 or 1.0.
    """
    X = as_real_matrix(X, "X", "(n_x, m)")
    probas, _ = L_model_forward(X, parameters)
    if probas.shape[0] != 1:
        raise ValueError(f"parameters must end with a single output unit, got {probas.shape[0]} outputs")
    y = as_labels(y, "y", probas.shape, probas)
    p = (probas > 0.5).astype(np.float64)
    print("Accuracy: " + str(float(np.mean(p == y))))
    return p
