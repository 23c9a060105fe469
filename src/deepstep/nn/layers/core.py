"""Flatten, Dense and Dropout layers (maths in deepstep.nn.functional)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._limits import max_elements
from ..._validation import check_int, check_real
from .. import functional as F
from ..functional.dropout import dropout, dropout_backward
from .base import Layer
from .weighted import KernelLayer

__all__ = ["Flatten", "Dense", "Dropout"]


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)`` in C order (a view, no copy)."""

    kind = "flatten"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape)),)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        return x.reshape(x.shape[0], -1), x.shape

    def _backward(self, dout: np.ndarray, cache: tuple[int, ...]) -> np.ndarray:
        return dout.reshape(cache)


class Dense(KernelLayer):
    """Fully connected layer ``out = x @ W + b`` with ``W`` of shape ``(Din, units)``.

    Parameters
    ----------
    units : int
        Output features (>= 1, at most the size budget :func:`deepstep._limits.max_elements`).
    activation : str, optional
        "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear" or None.
    use_bias : bool
    kernel_initializer, bias_initializer : str or callable
        Names from :mod:`deepstep.init`; fan-in ``Din`` and fan-out ``units``.
    name : str, optional
    """

    kind = "dense"

    def __init__(self, units: int, activation: str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 name: str | None = None) -> None:
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, name)
        self.units = check_int(units, "units", 1, max_elements())

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(f"layer {self.name!r} (Dense) expects 2-D input (batch, features), got "
                             f"input_shape {tuple(input_shape)}; add a Flatten layer before it")
        return (self.units,)

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        din = input_shape[0]
        self._build_weights((din, self.units), self.units, din, self.units, (self.units,), rng)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        out, cache = F.dense(x, self.kernel.value, self._bias_value, need_dx=self.input_grad)
        return self._activate(out, cache, training)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray | None:
        dout, cache = self._deactivate(dout, cache)
        dx, dw, db = F.dense_backward(dout, cache)
        self._accumulate(dw, db)
        return dx

    def _config(self) -> dict[str, Any]:
        return {"units": self.units, **self._weights_config()}


class Dropout(Layer):
    """Inverted dropout during training; the identity at inference.

    Parameters
    ----------
    rate : float
        Fraction of inputs dropped, ``0 <= rate < 1``.
    name : str, optional

    The mask comes from ``layer.rng``, which the model sets to its seeded
    ``numpy.random.Generator`` before each training epoch.
    """

    kind = "dropout"

    def __init__(self, rate: float, name: str | None = None) -> None:
        super().__init__(name)
        self.rate = check_real(rate, "rate", 0.0, 1.0, inclusive_max=False)
        self.rng: np.random.Generator | None = None

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        if not training or self.rate == 0.0:
            return x, None
        if self.rng is None:
            self.rng = np.random.default_rng()
        return dropout(x, self.rate, self.rng)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        if cache is None:
            return dout
        return dropout_backward(dout, cache)

    def _config(self) -> dict[str, Any]:
        return {"rate": self.rate}
