"""Validation helpers shared by the course modules (cnn, cs231n, dnn, app, optim).

Convolutional modules: :func:`window_output_size` and :func:`unpack_cache`.

Fully connected modules, in those notebooks' conventions: examples are columns, ``X``
is ``(n_x, m)``, a layer's weights are ``W_l`` of shape ``(n_l, n_{l-1})`` and its bias
``b_l`` is ``(n_l, 1)``; parameters live in a dict ``{"W1", "b1", ..., "WL", "bL"}``
and gradients in ``{"dW1", "db1", ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import check_array, check_keys, conv_output_size

_PARAMETER_KEY = re.compile(r"^[Wb]([1-9][0-9]*)$")


def as_real_array(x: Any, name: str, ndim: int | None = None, shape_names: str | None = None) -> np.ndarray:
    """Return ``x`` as a real ndarray (of rank ``ndim`` if given); integer input is promoted to float64."""
    arr = check_array(x, name, ndim=ndim, shape_names=shape_names)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def as_real_matrix(x: Any, name: str, shape_names: str | None = None) -> np.ndarray:
    """Return ``x`` as a 2-D real ndarray; integer input is promoted to float64."""
    return as_real_array(x, name, 2, shape_names)


def window_output_size(in_size: int, window: int, stride: int, pad: int, axis: str, window_name: str) -> int:
    """``(in_size + 2 pad - window) // stride + 1``; the error names the window's argument."""
    try:
        return conv_output_size(in_size, window, stride, 2 * pad, axis)
    except ValueError as exc:
        raise ValueError(f"{window_name}: {exc}") from None


def unpack_cache(cache: Any, names: tuple[str, ...], producer: str) -> tuple[Any, ...]:
    """Return ``cache`` as a tuple of ``len(names)`` items, or raise ``TypeError`` naming its producer."""
    if not isinstance(cache, tuple | list) or len(cache) != len(names):
        got = type(cache).__name__
        if isinstance(cache, tuple | list):
            got += f" of length {len(cache)}"
        raise TypeError(f"cache must be the tuple ({', '.join(names)}) returned by {producer}, got {got}")
    return tuple(cache)


def as_labels(Y: Any, name: str, shape: tuple[int, ...], like: np.ndarray) -> np.ndarray:
    """Return targets ``Y`` (bool, integer or float) of exactly ``shape`` in the dtype of ``like``.

    The notebooks' formulas run on any real targets, and their staff tests use real-valued
    ones (``Y = np.random.randn(1, m)``), so only finiteness is required, not ``{0, 1}``.
    """
    arr = Y if isinstance(Y, np.ndarray) else np.asarray(Y)
    if arr.dtype != np.bool_:
        arr = check_array(arr, name)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the shape of the predictions), got {arr.shape}")
    arr = arr.astype(like.dtype, copy=False)
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless every value of ``arr`` is finite."""
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} must be finite, got a value {bad}")


def check_unit_interval(arr: np.ndarray, name: str, what: str) -> None:
    """Raise ``ValueError`` unless every value of ``arr`` lies in ``[0, 1]`` (NaN fails)."""
    inside = (arr >= 0) & (arr <= 1)
    if not np.all(inside):
        bad = arr[~inside].flat[0]
        raise ValueError(f"{name} must hold {what} in [0, 1], got a value {bad}")


def check_examples(arr: np.ndarray, name: str) -> int:
    """The number of examples ``m = arr.shape[1]``; ``ValueError`` naming ``name`` if it is 0."""
    m = arr.shape[1]
    if m == 0:
        raise ValueError(f"{name} must hold at least one example (m >= 1 columns), got shape {arr.shape}")
    return m


def num_layers(parameters: Any, name: str = "parameters") -> int:
    """Number of layers ``L`` of a parameters dict holding ``W1, b1, ..., WL, bL``.

    Raises
    ------
    TypeError
        If ``parameters`` is not a mapping.
    ValueError
        If it holds no ``"W1"``, or if any of ``W1..WL``, ``b1..bL`` is missing, where ``L``
        is the largest index of a ``W_l`` *or* ``b_l`` key (so a dict with ``b3`` but no
        ``W3`` is an error naming ``'W3'``, not a silently shallower network).
    """
    if not isinstance(parameters, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(parameters).__name__}")
    indices = sorted(int(m.group(1)) for key in parameters if isinstance(key, str)
                     and (m := _PARAMETER_KEY.match(key)))
    if not indices:
        raise ValueError(f"{name} must hold 'W1', 'b1', ...; got keys {sorted(map(str, parameters))}")
    L = indices[-1]
    check_keys(parameters, name, [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")])
    return L


def check_parameters(parameters: Any, name: str = "parameters",
                     n_x: int | None = None) -> tuple[int, dict[str, np.ndarray]]:
    """Validate ``{"W1", "b1", ..., "WL", "bL"}`` and return ``(L, arrays)``.

    Every ``W_l`` must be a 2-D real array ``(n_l, n_{l-1})``, every ``b_l`` a real
    ``(n_l, 1)`` array and consecutive layers must chain (``W_l.shape[1] ==
    W_{l-1}.shape[0]``); when ``n_x`` is given ``W1.shape[1]`` must equal it.
    """
    L = num_layers(parameters, name)
    arrays: dict[str, np.ndarray] = {}
    n_prev = n_x
    for layer in range(1, L + 1):
        W = as_real_matrix(parameters[f"W{layer}"], f"{name}['W{layer}']", "(n_l, n_{l-1})")
        b = as_real_matrix(parameters[f"b{layer}"], f"{name}['b{layer}']", "(n_l, 1)")
        if n_prev is not None and W.shape[1] != n_prev:
            what = "X has" if layer == 1 else f"{name}['W{layer - 1}'] has"
            raise ValueError(
                f"{name}['W{layer}'] must have {n_prev} columns ({what} {n_prev} rows), "
                f"got shape {W.shape}"
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"{name}['b{layer}'] must have shape {(W.shape[0], 1)}, got {b.shape}")
        arrays[f"W{layer}"], arrays[f"b{layer}"] = W, b
        n_prev = W.shape[0]
    return L, arrays


def check_parameter_arrays(parameters: Any, name: str = "parameters"
                           ) -> tuple[int, dict[str, np.ndarray]]:
    """Validate ``{"W1", "b1", ..., "WL", "bL"}`` for an element-wise update; return ``(L, arrays)``.

    Update rules (gradient descent, momentum, Adam) combine each parameter only with its own
    gradient and moments, so only the keys and real dtypes are checked here: the shapes need
    not chain as a network (the course's old Adam test case has ``W1`` (2, 3), ``W2`` (3, 3)).
    """
    L = num_layers(parameters, name)
    arrays = {key: as_real_array(parameters[key], f"{name}[{key!r}]")
              for layer in range(1, L + 1) for key in (f"W{layer}", f"b{layer}")}
    return L, arrays


def check_gradients(grads: Any, parameters: Mapping[str, np.ndarray], L: int,
                    name: str = "grads") -> dict[str, np.ndarray]:
    """Validate ``{"dW1", "db1", ..., "dWL", "dbL"}`` against the parameters' shapes."""
    check_keys(grads, name, [f"d{p}{l}" for l in range(1, L + 1) for p in ("W", "b")])
    out = {}
    for layer in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            g = as_real_array(grads[key], f"{name}[{key!r}]")
            want = parameters[f"{p}{layer}"].shape
            if g.shape != want:
                raise ValueError(f"{name}[{key!r}] must have shape {want} (like {p}{layer}), got {g.shape}")
            out[key] = g
    return out
