"""Gradient-descent optimizers: pure update functions and thin stateful classes.

Conventions (documented once, tested against the formulas and against ``torch.optim``):

* **SGD with momentum** uses the Keras form ``v <- momentum * v - lr * g;  w <- w + v``.
  PyTorch keeps ``b <- momentum * b + g;  w <- w - lr * b``; with a constant learning rate the two
  are the same iterates (``v = -lr * b``). They differ only when the learning rate changes between
  steps: here the velocity carries the old learning rate, in PyTorch it does not.
* **Nesterov** (Keras / Sutskever form): ``v <- momentum * v - lr * g;  w <- w + momentum * v - lr * g``,
  identical to PyTorch's ``nesterov=True`` with a constant learning rate.
* **RMSprop**: ``s <- rho * s + (1 - rho) * g**2;  w <- w - lr * g / (sqrt(s) + epsilon)``. This is
  PyTorch's placement of ``epsilon`` (outside the square root); Keras 3 adds it inside
  (``sqrt(s + epsilon)``), which differs only in the ``epsilon`` term.
* **Adam** (Kingma & Ba, Algorithm 1; the course's ``update_parameters_with_adam``; PyTorch):
  ``m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g**2;  m_hat = m / (1 - b1**t);
  v_hat = v / (1 - b2**t);  w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)``. Keras instead adds
  ``epsilon`` to ``sqrt(v)`` *before* the bias correction (the paper's "epsilon hat" variant), which
  equals ours with ``epsilon_keras = epsilon * sqrt(1 - b2**t)``; only the ``epsilon`` term differs.
* **AdamW** (Loshchilov & Hutter; PyTorch ``AdamW``; Keras ``AdamW``): decoupled weight decay
  ``w <- w - lr * weight_decay * w`` applied before the Adam step (the Adam step does not read ``w``).

Every update runs in the parameter's own dtype: hyper-parameters are cast to it, so float32 weights
are never upcast to float64. Optimizer state (velocities, moments) has the parameter's shape and dtype.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import brief_repr, check_int, check_real
from ._registry import construct, lookup, split_config

__all__ = [
    "sgd_update",
    "momentum_update",
    "nesterov_update",
    "rmsprop_update",
    "adam_update",
    "adamw_update",
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "OPTIMIZER_NAMES",
    "get_optimizer",
    "optimizer_from_config",
]


# ----------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------

def _check_learning_rate(value: Any) -> float:
    return check_real(value, "learning_rate", 0.0, inclusive_min=False)


def _check_unit_interval(value: Any, name: str) -> float:
    """A decay factor in [0, 1) (betas, rho, momentum)."""
    return check_real(value, name, 0.0, 1.0, inclusive_max=False)


def _check_epsilon(value: Any) -> float:
    return check_real(value, "epsilon", 0.0, inclusive_min=False)


def _check_weight_decay(value: Any) -> float:
    return check_real(value, "weight_decay", 0.0)


def _check_like(w: Any, others: Mapping[str, Any]) -> None:
    """``w`` must be a float ndarray and every array in ``others`` must share its shape and dtype."""
    if not isinstance(w, np.ndarray) or w.dtype not in (np.float32, np.float64):
        got = w.dtype if isinstance(w, np.ndarray) else type(w).__name__
        raise TypeError(f"w must be a float32 or float64 numpy.ndarray, got {got}")
    for name, arr in others.items():
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(arr).__name__}")
        if arr.shape != w.shape:
            raise ValueError(f"{name} must have the shape of w {w.shape}, got {arr.shape}")
        if arr.dtype != w.dtype:
            raise TypeError(f"{name} must have the dtype of w ({w.dtype}), got {arr.dtype}")


# ----------------------------------------------------------------------------------------------
# In-place update kernels: the single implementation of the maths. They assume validated inputs
# (same shape and dtype everywhere, hyper-parameters already checked) and overwrite w and the state
# arrays. The pure functions below copy, validate and call them; the optimizer classes call them on
# their parameters and state directly, which avoids most temporaries (see benchmarks/bench_optim.py).
# ----------------------------------------------------------------------------------------------

def _sgd_inplace(w: np.ndarray, g: np.ndarray, lr: float) -> None:
    w -= np.multiply(g, w.dtype.type(lr))


def _momentum_inplace(w: np.ndarray, g: np.ndarray, velocity: np.ndarray, lr: float, momentum: float,
                      nesterov: bool) -> None:
    dt = w.dtype.type
    lr_g = np.multiply(g, dt(lr))
    velocity *= dt(momentum)  # v <- momentum * v - lr * g
    velocity -= lr_g
    if nesterov:  # w <- w + momentum * v - lr * g
        look_ahead = np.multiply(velocity, dt(momentum))
        look_ahead -= lr_g
        w += look_ahead
    else:  # w <- w + v
        w += velocity


def _rmsprop_inplace(w: np.ndarray, g: np.ndarray, s: np.ndarray, lr: float, rho: float, eps: float) -> None:
    dt = w.dtype.type
    tmp = np.multiply(g, g)  # s <- rho * s + (1 - rho) * g**2
    tmp *= dt(1.0 - rho)
    s *= dt(rho)
    s += tmp
    np.sqrt(s, out=tmp)  # w <- w - (lr * g) / (sqrt(s) + eps)
    tmp += dt(eps)
    step = np.multiply(g, dt(lr))
    step /= tmp
    w -= step


def _adam_inplace(w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                  beta_1: float, beta_2: float, eps: float, weight_decay: float = 0.0) -> None:
    dt = w.dtype.type
    if weight_decay:  # decoupled decay (AdamW): w <- w * (1 - lr * wd); the Adam step does not read w
        w *= dt(1.0 - lr * weight_decay)
    tmp = np.multiply(g, dt(1.0 - beta_1))  # m <- b1 m + (1 - b1) g
    m *= dt(beta_1)
    m += tmp
    np.multiply(g, g, out=tmp)  # v <- b2 v + (1 - b2) g**2
    tmp *= dt(1.0 - beta_2)
    v *= dt(beta_2)
    v += tmp
    # Bias corrections in Python floats (double precision), then cast to the parameter dtype:
    # w <- w - (lr / (1 - b1**t)) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)
    np.sqrt(v, out=tmp)
    tmp /= dt(math.sqrt(1.0 - beta_2**t))
    tmp += dt(eps)
    step = np.multiply(m, dt(lr / (1.0 - beta_1**t)))
    step /= tmp
    w -= step


# ----------------------------------------------------------------------------------------------
# Pure update functions (return new arrays; the inputs are not modified)
# ----------------------------------------------------------------------------------------------

def sgd_update(w: np.ndarray, g: np.ndarray, learning_rate: float) -> np.ndarray:
    """Plain gradient descent: ``w - learning_rate * g``.

    Parameters
    ----------
    w, g : numpy.ndarray
        Parameter and its gradient, same shape and float dtype.
    learning_rate : float
        Step size, > 0.

    Returns
    -------
    numpy.ndarray
        The updated parameter (new array, dtype of ``w``).
    """
    _check_like(w, {"g": g})
    w_new = w.copy()
    _sgd_inplace(w_new, g, _check_learning_rate(learning_rate))
    return w_new


def _momentum_pure(w, g, velocity, learning_rate, momentum, nesterov):
    _check_like(w, {"g": g, "velocity": velocity})
    lr, mu = _check_learning_rate(learning_rate), _check_unit_interval(momentum, "momentum")
    w_new, v_new = w.copy(), velocity.copy()
    _momentum_inplace(w_new, g, v_new, lr, mu, nesterov)
    return w_new, v_new


def momentum_update(
    w: np.ndarray, g: np.ndarray, velocity: np.ndarray, learning_rate: float, momentum: float
) -> tuple[np.ndarray, np.ndarray]:
    """SGD with (heavy-ball) momentum, Keras form.

    ``v_new = momentum * v - learning_rate * g``; ``w_new = w + v_new``.

    Returns
    -------
    (w_new, v_new) : tuple of numpy.ndarray
    """
    return _momentum_pure(w, g, velocity, learning_rate, momentum, nesterov=False)


def nesterov_update(
    w: np.ndarray, g: np.ndarray, velocity: np.ndarray, learning_rate: float, momentum: float
) -> tuple[np.ndarray, np.ndarray]:
    """SGD with Nesterov momentum, Keras form.

    ``v_new = momentum * v - learning_rate * g``; ``w_new = w + momentum * v_new - learning_rate * g``.

    Returns
    -------
    (w_new, v_new) : tuple of numpy.ndarray
    """
    return _momentum_pure(w, g, velocity, learning_rate, momentum, nesterov=True)


def rmsprop_update(
    w: np.ndarray,
    g: np.ndarray,
    s: np.ndarray,
    learning_rate: float,
    rho: float = 0.9,
    epsilon: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray]:
    """RMSprop (PyTorch placement of ``epsilon``).

    ``s_new = rho * s + (1 - rho) * g**2``; ``w_new = w - learning_rate * g / (sqrt(s_new) + epsilon)``.

    Returns
    -------
    (w_new, s_new) : tuple of numpy.ndarray
    """
    _check_like(w, {"g": g, "s": s})
    lr, rho_ = _check_learning_rate(learning_rate), _check_unit_interval(rho, "rho")
    eps = _check_epsilon(epsilon)
    w_new, s_new = w.copy(), s.copy()
    _rmsprop_inplace(w_new, g, s_new, lr, rho_, eps)
    return w_new, s_new


def _adam_pure(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon, weight_decay):
    _check_like(w, {"g": g, "m": m, "v": v})
    lr = _check_learning_rate(learning_rate)
    b1 = _check_unit_interval(beta_1, "beta_1")
    b2 = _check_unit_interval(beta_2, "beta_2")
    eps = _check_epsilon(epsilon)
    wd = _check_weight_decay(weight_decay)
    t = check_int(t, "t", minimum=1)
    w_new, m_new, v_new = w.copy(), m.copy(), v.copy()
    _adam_inplace(w_new, g, m_new, v_new, t, lr, b1, b2, eps, wd)
    return w_new, m_new, v_new


def adam_update(
    w: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step with bias correction.

    ``m_new = beta_1 m + (1 - beta_1) g``; ``v_new = beta_2 v + (1 - beta_2) g**2``;
    ``w_new = w - learning_rate * (m_new / (1 - beta_1**t)) / (sqrt(v_new / (1 - beta_2**t)) + epsilon)``.

    Parameters
    ----------
    w, g, m, v : numpy.ndarray
        Parameter, gradient, first and second moment estimates (same shape and dtype).
    t : int
        The step number, counted from 1 (the first update uses ``t = 1``).

    Returns
    -------
    (w_new, m_new, v_new) : tuple of numpy.ndarray
    """
    return _adam_pure(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon, 0.0)


def adamw_update(
    w: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    learning_rate: float = 0.001,
    weight_decay: float = 0.004,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One AdamW step: decoupled weight decay, then Adam.

    ``w_decayed = w - learning_rate * weight_decay * w`` (= ``w * (1 - lr * wd)``, as in PyTorch), then
    the Adam update of :func:`adam_update` applied to ``w_decayed`` (the gradient ``g`` is *not*
    modified by the decay, unlike L2 regularisation).

    Returns
    -------
    (w_new, m_new, v_new) : tuple of numpy.ndarray
    """
    return _adam_pure(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon, weight_decay)


# ----------------------------------------------------------------------------------------------
# Stateful optimizers
# ----------------------------------------------------------------------------------------------

class Optimizer:
    """Base class: applies an update rule to each trainable parameter, in place.

    :meth:`step` takes ``(name, Parameter)`` pairs (what ``model.named_parameters()`` returns) or
    plain Parameters, which are then named by their position (``"0"``, ``"1"``, ...). State
    (velocities, moments) is kept per name: ``state_dict()`` holds ``"m/block2/conv_1/kernel"``
    and so on, so checkpoints do not depend on the order of the parameters. Parameters whose
    ``trainable`` flag is False are skipped (no state is created for them).

    Subclasses set ``name``, ``slot_names`` and implement ``_update(key, w, g, t)``, which updates
    ``w`` (the parameter's value) and the slot arrays ``self._slots[slot][key]`` in place with the
    same kernels as the pure functions.
    """

    name: str = "optimizer"
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.slot_names}

    # -- learning rate ------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current step size (a float > 0; schedules and callbacks may set it)."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _check_learning_rate(value)

    @property
    def iterations(self) -> int:
        """Number of completed calls to :meth:`step`."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = check_int(value, "iterations", minimum=0)

    # -- stepping -----------------------------------------------------------------------------
    def _named(self, params: Sequence[Any]) -> list[tuple[str, Any]]:
        """Validate ``params`` and return ``(name, Parameter)`` pairs; check the state fits them."""
        if isinstance(params, np.ndarray) or not isinstance(params, Sequence):
            raise TypeError(f"params must be a list of Parameter objects or (name, Parameter) pairs, "
                            f"got {type(params).__name__}")
        named = []
        for i, item in enumerate(params):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                key, p = item
            else:
                key, p = str(i), item
            value, grad = getattr(p, "value", None), getattr(p, "grad", None)
            label = f"params[{i}] ({getattr(p, 'name', '?')!r})"
            if not isinstance(value, np.ndarray) or value.dtype not in (np.float32, np.float64):
                raise TypeError(f"params[{i}] must be a Parameter with a float32/float64 ndarray value, "
                                f"got {type(p).__name__}")
            if not isinstance(grad, np.ndarray):
                raise TypeError(f"params[{i}].grad must be a numpy.ndarray, got {type(grad).__name__}")
            if grad.shape != value.shape:
                raise ValueError(f"{label}: grad shape {grad.shape} does not match value shape {value.shape}")
            if grad.dtype != value.dtype:
                raise TypeError(f"{label}: grad dtype {grad.dtype} does not match value dtype {value.dtype}")
            named.append((key, p))
        by_name = dict(named)
        if len(by_name) != len(named):
            raise ValueError("params name two parameters alike; every parameter needs its own name")
        # State made earlier (or loaded with load_state_dict) must fit the parameters of that name.
        for slot, states in self._slots.items():
            for key, arr in states.items():
                p = by_name.get(key)
                if p is None or arr.shape != p.value.shape or arr.dtype != p.value.dtype:
                    want = "no parameter" if p is None else f"{p.value.shape} {p.value.dtype}"
                    where = f"params[{key}]" if key.isdigit() else f"parameter {key!r}"
                    raise ValueError(
                        f"optimizer state {slot}/{key} has shape {arr.shape} {arr.dtype} but {where} "
                        f"has {want}: "
                        "params must have the same layout (names, shapes and dtypes) at every step; was the "
                        "state made for another model?")
        return named

    def step(self, params: Sequence[Any]) -> None:
        """Update every trainable parameter's ``value`` in place from its ``grad``.

        Parameters
        ----------
        params : sequence of (str, Parameter) or of Parameter
            ``trainable=False`` entries are skipped. Plain Parameters are named by position.

        Raises
        ------
        TypeError, ValueError
            If an entry is not a Parameter-like object, a gradient's shape/dtype differs from its
            value's, two entries share a name, or existing state does not fit the parameters.
        """
        named = self._named(params)
        t = self.iterations + 1
        for key, p in named:
            if not getattr(p, "trainable", True):
                continue
            for slot in self.slot_names:
                if key not in self._slots[slot]:
                    self._slots[slot][key] = np.zeros_like(p.value)
            self._update(key, p.value, p.grad, t)
        self.iterations = t

    def _update(self, key: str, w: np.ndarray, g: np.ndarray, t: int) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- serialisation --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat, npz-friendly copy of the state: ``"iterations"`` and ``"<slot>/<name>"`` arrays."""
        out: dict[str, np.ndarray] = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for slot in self.slot_names:
            for key, arr in self._slots[slot].items():
                out[f"{slot}/{key}"] = arr.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state made by :meth:`state_dict` (arrays are copied).

        The state is checked against the parameters (by name) at the next :meth:`step`.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict, got {type(state).__name__}")
        if "iterations" not in state:
            raise ValueError(
                f"state is missing required key 'iterations'; got keys {sorted(map(str, state))}"
            )
        iterations = np.asarray(state["iterations"])
        if iterations.shape != () or not np.issubdtype(iterations.dtype, np.integer) or int(iterations) < 0:
            raise ValueError(
                f"state['iterations'] must be a non-negative integer scalar, got {state['iterations']!r}"
            )
        slots: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.slot_names}
        for key, arr in state.items():
            if key == "iterations":
                continue
            slot, sep, name = str(key).partition("/")
            if not sep or slot not in slots or not name:
                allowed = ", ".join(f"'{s}/<name>'" for s in self.slot_names) or "none"
                raise ValueError(
                    f"unexpected key {key!r} in {self.name} state (expected 'iterations' and {allowed})"
                )
            if not isinstance(arr, np.ndarray) or arr.dtype not in (np.float32, np.float64):
                raise TypeError(f"state[{key!r}] must be a float32/float64 ndarray, got {type(arr).__name__}")
            slots[slot][name] = arr.copy()
        names = {slot: sorted(d) for slot, d in slots.items()}
        if len({tuple(v) for v in names.values()}) > 1:
            raise ValueError(f"{self.name} state must hold every slot for the same parameters, got names "
                             + ", ".join(f"{slot}: {v}" for slot, v in names.items()))
        self._slots = slots
        self.iterations = int(iterations)

    def get_config(self) -> dict[str, Any]:
        """JSON-able hyper-parameters, including ``"name"``; see :func:`optimizer_from_config`."""
        return {"name": self.name, "learning_rate": self.learning_rate}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum (Keras form, see module doc).

    Parameters
    ----------
    learning_rate : float
        > 0.
    momentum : float
        In [0, 1); 0 gives plain SGD.
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0``).
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = _check_unit_interval(momentum, "momentum")
        if not isinstance(nesterov, bool | np.bool_):
            raise TypeError(f"nesterov must be a bool, got {brief_repr(nesterov)}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True requires momentum > 0, got momentum=0.0")
        self.nesterov = bool(nesterov)
        self.slot_names = ("velocity",) if self.momentum > 0 else ()
        super().__init__(learning_rate)

    def _update(self, index, w, g, t):
        if self.momentum == 0.0:
            _sgd_inplace(w, g, self.learning_rate)
        else:
            _momentum_inplace(w, g, self._slots["velocity"][index], self.learning_rate, self.momentum,
                              self.nesterov)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: ``s <- rho s + (1 - rho) g**2;  w <- w - lr g / (sqrt(s) + epsilon)``."""

    name = "rmsprop"
    slot_names = ("s",)

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7) -> None:
        self.rho = _check_unit_interval(rho, "rho")
        self.epsilon = _check_epsilon(epsilon)
        super().__init__(learning_rate)

    def _update(self, index, w, g, t):
        _rmsprop_inplace(w, g, self._slots["s"][index], self.learning_rate, self.rho, self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with bias correction (see :func:`adam_update`)."""

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7) -> None:
        self.beta_1 = _check_unit_interval(beta_1, "beta_1")
        self.beta_2 = _check_unit_interval(beta_2, "beta_2")
        self.epsilon = _check_epsilon(epsilon)
        super().__init__(learning_rate)

    def _update(self, index, w, g, t):
        _adam_inplace(w, g, self._slots["m"][index], self._slots["v"][index], t, self.learning_rate,
                      self.beta_1, self.beta_2, self.epsilon, self._decoupled_weight_decay())

    def _decoupled_weight_decay(self) -> float:
        return 0.0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (see :func:`adamw_update`)."""

    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        self.weight_decay = _check_weight_decay(weight_decay)
        super().__init__(learning_rate, beta_1, beta_2, epsilon)

    def _decoupled_weight_decay(self) -> float:
        return self.weight_decay

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_decay": self.weight_decay}


_OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
OPTIMIZER_NAMES: tuple[str, ...] = tuple(_OPTIMIZERS)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.get_config` output."""
    name, kwargs = split_config(config)
    return construct(lookup(_OPTIMIZERS, name, "optimizer"), kwargs)


def get_optimizer(identifier: str | Optimizer | Mapping[str, Any], **kwargs: Any) -> Optimizer:
    """Return an optimizer from a name (``"sgd"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``; any case)
    plus keyword hyper-parameters, a config dict, or an :class:`Optimizer` (returned as is)."""
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise ValueError("keyword arguments are only allowed with an optimizer name, not an Optimizer")
        return identifier
    if isinstance(identifier, Mapping):
        if kwargs:
            raise ValueError("keyword arguments are only allowed with an optimizer name, not a config dict")
        return optimizer_from_config(identifier)
    return construct(lookup(_OPTIMIZERS, identifier, "optimizer"), kwargs)
