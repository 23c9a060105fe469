"""Optimization Methods (Deep Learning Specialization, course 2, week 2).

Update rules for a parameters dict ``{"W1", "b1", ..., "WL", "bL"}`` and its gradients
``{"dW1", "db1", ...}`` (examples are columns, ``W_l`` is ``(n_l, n_{l-1})``):

* gradient descent: ``W_l -= lr * dW_l``;
* momentum: ``v = beta v + (1 - beta) dW``, ``W -= lr * v``;
* Adam: ``v = beta1 v + (1 - beta1) dW``, ``s = beta2 s + (1 - beta2) dW**2``,
  ``v_hat = v / (1 - beta1**t)``, ``s_hat = s / (1 - beta2**t)``,
  ``W -= lr * v_hat / (sqrt(s_hat) + epsilon)``;

plus shuffled mini-batches and the two learning-rate decay schedules. Unlike the notebook,
every function returns new dicts and leaves its arguments unmodified.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import check_int, check_real
from ._checks import as_real_array, check_gradients, check_parameter_arrays
from .dnn import update_parameters

__all__ = [
    "update_parameters_with_gd",
    "random_mini_batches",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_adam",
    "update_parameters_with_adam",
    "update_lr",
    "schedule_lr_decay",
]

Params = dict[str, np.ndarray]


def _check_state(state: Any, name: str, parameters: Mapping[str, np.ndarray], L: int) -> Params:
    """Validate a moment dict ``{"dW1", "db1", ...}`` shaped like the parameters."""
    return check_gradients(state, parameters, L, name)


def update_parameters_with_gd(parameters: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                              learning_rate: float) -> Params:
    """One gradient-descent step ``W_l = W_l - lr * dW_l``, ``b_l = b_l - lr * db_l``.

    Parameters
    ----------
    parameters : dict
        ``W_l`` (n_l, n_{l-1}), ``b_l`` (n_l, 1) for ``l = 1..L``.
    grads : dict
        ``dW_l``, ``db_l`` of the same shapes.
    learning_rate : float
        > 0.

    Returns
    -------
    parameters : dict
        New dict with the updated arrays.
    """
    return update_parameters(parameters, grads, learning_rate)  # the same step as course 1's


def random_mini_batches(X: np.ndarray, Y: np.ndarray, mini_batch_size: int = 64,
                        seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffle the columns of ``(X, Y)`` together and cut them into mini-batches.

    Calls ``np.random.seed(seed)`` and draws one ``np.random.permutation(m)`` (as the
    notebook does), then returns ``floor(m / mini_batch_size)`` complete batches and, if
    ``m`` is not a multiple of ``mini_batch_size``, a last batch of ``m % mini_batch_size``
    examples.

    Parameters
    ----------
    X : ndarray, shape (n_x, m)
        Inputs, one example per column.
    Y : ndarray, shape (n_y, m)
        Labels (any dtype, bool included), one column per example.
    mini_batch_size : int
        >= 1.
    seed : int
        >= 0, seed of NumPy's global generator.

    Returns
    -------
    mini_batches : list of (mini_batch_X, mini_batch_Y)
        ``mini_batch_X`` (n_x, size), ``mini_batch_Y`` (n_y, size).
    """
    X = as_real_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_x, m), got shape {X.shape}")
    Y = Y if isinstance(Y, np.ndarray) else np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"Y must be a 2-D array (n_y, m), got shape {Y.shape}")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of columns (examples), got {X.shape[1]} and {Y.shape[1]}"
        )
    mini_batch_size = check_int(mini_batch_size, "mini_batch_size", 1)
    seed = check_int(seed, "seed", 0)
    m = X.shape[1]
    np.random.seed(seed)  # noqa: NPY002 - the notebook's global seed, for its published numbers
    permutation = np.random.permutation(m)  # noqa: NPY002
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    mini_batches = []
    num_complete = math.floor(m / mini_batch_size)
    for k in range(num_complete):
        start, stop = k * mini_batch_size, (k + 1) * mini_batch_size
        mini_batches.append((shuffled_X[:, start:stop], shuffled_Y[:, start:stop]))
    if m % mini_batch_size != 0:
        start = num_complete * mini_batch_size
        mini_batches.append((shuffled_X[:, start:], shuffled_Y[:, start:]))
    return mini_batches


def _zeros_like_parameters(parameters: Any) -> Params:
    L, params = check_parameter_arrays(parameters)
    out = {}
    for layer in range(1, L + 1):
        out[f"dW{layer}"] = np.zeros_like(params[f"W{layer}"])
        out[f"db{layer}"] = np.zeros_like(params[f"b{layer}"])
    return out


def initialize_velocity(parameters: Mapping[str, np.ndarray]) -> Params:
    """Momentum's velocity: ``v["dW_l"]``, ``v["db_l"]`` zeros shaped like ``W_l``, ``b_l``."""
    return _zeros_like_parameters(parameters)


def update_parameters_with_momentum(parameters: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                                    v: Mapping[str, np.ndarray], beta: float,
                                    learning_rate: float) -> tuple[Params, Params]:
    """One momentum step.

    ``v_dW = beta * v_dW + (1 - beta) * dW``, ``W = W - learning_rate * v_dW`` (and the
    same for ``b``).

    Parameters
    ----------
    parameters : dict
        ``W_l``, ``b_l``.
    grads : dict
        ``dW_l``, ``db_l``.
    v : dict
        Velocity ``dW_l``, ``db_l`` (from :func:`initialize_velocity` or the last step).
    beta : float
        Momentum, in ``[0, 1)``.
    learning_rate : float
        > 0.

    Returns
    -------
    parameters, v : dict, dict
        New dicts with the updated parameters and velocity.
    """
    L, params = check_parameter_arrays(parameters)
    grads = check_gradients(grads, params, L)
    v = _check_state(v, "v", params, L)
    beta = check_real(beta, "beta", 0.0, 1.0, inclusive_max=False)
    learning_rate = check_real(learning_rate, "learning_rate", 0.0, inclusive_min=False)
    new_params, new_v = {}, {}
    for layer in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            new_v[key] = beta * v[key] + (1 - beta) * grads[key]
            new_params[f"{p}{layer}"] = params[f"{p}{layer}"] - learning_rate * new_v[key]
    return new_params, new_v


def initialize_adam(parameters: Mapping[str, np.ndarray]) -> tuple[Params, Params]:
    """Adam's moments ``v`` (first) and ``s`` (second): zeros keyed ``dW_l``, ``db_l``."""
    return _zeros_like_parameters(parameters), _zeros_like_parameters(parameters)


def update_parameters_with_adam(parameters: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                                v: Mapping[str, np.ndarray], s: Mapping[str, np.ndarray], t: int,
                                learning_rate: float = 0.01, beta1: float = 0.9, beta2: float = 0.999,
                                epsilon: float = 1e-8
                                ) -> tuple[Params, Params, Params, Params, Params]:
    """One Adam step (Kingma & Ba), as in the notebook.

    For each ``W`` (and likewise ``b``) with gradient ``dW``::

        v = beta1 * v + (1 - beta1) * dW            v_corrected = v / (1 - beta1**t)
        s = beta2 * s + (1 - beta2) * dW**2         s_corrected = s / (1 - beta2**t)
        W = W - learning_rate * v_corrected / (sqrt(s_corrected) + epsilon)

    Parameters
    ----------
    parameters, grads : dict
        ``W_l``, ``b_l`` and ``dW_l``, ``db_l``.
    v, s : dict
        First and second moments keyed ``dW_l``, ``db_l`` (from :func:`initialize_adam`).
    t : int
        Step number, >= 1 (the bias correction divides by ``1 - beta**t``).
    learning_rate : float
        > 0.
    beta1, beta2 : float
        Decay rates of the moments, in ``[0, 1)``.
    epsilon : float
        > 0, keeps the division finite.

    Returns
    -------
    parameters, v, s, v_corrected, s_corrected : dict
        New dicts; the last two are the bias-corrected moments of this step.
    """
    L, params = check_parameter_arrays(parameters)
    grads = check_gradients(grads, params, L)
    v = _check_state(v, "v", params, L)
    s = _check_state(s, "s", params, L)
    t = check_int(t, "t", 1)
    learning_rate = check_real(learning_rate, "learning_rate", 0.0, inclusive_min=False)
    beta1 = check_real(beta1, "beta1", 0.0, 1.0, inclusive_max=False)
    beta2 = check_real(beta2, "beta2", 0.0, 1.0, inclusive_max=False)
    epsilon = check_real(epsilon, "epsilon", 0.0, inclusive_min=False)
    new_params: Params = {}
    new_v: Params = {}
    new_s: Params = {}
    v_corrected: Params = {}
    s_corrected: Params = {}
    for layer in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            new_v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = new_v[key] / (1 - beta1**t)
            new_s[key] = beta2 * s[key] + (1 - beta2) * np.square(grads[key])
            s_corrected[key] = new_s[key] / (1 - beta2**t)
            new_params[f"{p}{layer}"] = params[f"{p}{layer}"] - learning_rate * v_corrected[key] / (
                np.sqrt(s_corrected[key]) + epsilon)
    return new_params, new_v, new_s, v_corrected, s_corrected


def update_lr(learning_rate0: float, epoch_num: int, decay_rate: float) -> float:
    """Learning-rate decay ``lr = lr0 / (1 + decay_rate * epoch_num)``.

    Parameters
    ----------
    learning_rate0 : float
        Initial learning rate, > 0.
    epoch_num : int
        Epoch, >= 0.
    decay_rate : float
        >= 0.
    """
    return schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1)


def schedule_lr_decay(learning_rate0: float, epoch_num: int, decay_rate: float,
                      time_interval: int = 1000) -> float:
    """Staircase decay ``lr = lr0 / (1 + decay_rate * floor(epoch_num / time_interval))``.

    Parameters
    ----------
    learning_rate0 : float
        Initial learning rate, > 0.
    epoch_num : int
        Epoch, >= 0.
    decay_rate : float
        >= 0.
    time_interval : int
        Epochs between two decays, >= 1.
    """
    learning_rate0 = check_real(learning_rate0, "learning_rate0", 0.0, inclusive_min=False)
    epoch_num = check_int(epoch_num, "epoch_num", 0)
    decay_rate = check_real(decay_rate, "decay_rate", 0.0)
    time_interval = check_int(time_interval, "time_interval", 1)
    return learning_rate0 / (1 + decay_rate * (epoch_num // time_interval))
