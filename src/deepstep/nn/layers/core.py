"""Flatten, Dense and Dropout layers (maths in deepstep.nn.functional)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int, check_real
from .. import functional as F
from ..functional.dropout import dropout, dropout_backward
from ._init import initializer_config, resolve_initializer
from .activations import ReLU, get_activation
from .base import Layer

__all__ = ["Flatten", "Dense", "Dropout"]


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)`` in C order (a view, no copy)."""

    kind = "flatten"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape)),)

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._cache)


class Dense(Layer):
    """Fully connected layer ``out = x @ W + b`` with ``W`` of shape ``(Din, units)``.

    Parameters
    ----------
    units : int
        Output features (>= 1).
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
        super().__init__(name)
        self.units = check_int(units, "units", 1)
        self.activation_name = None if activation in (None, "linear") else activation
        self.activation = get_activation(activation)
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias must be a bool, got {use_bias!r}")
        self.use_bias = use_bias
        self._kernel_init = resolve_initializer(kernel_initializer, "kernel_initializer")
        self._bias_init = resolve_initializer(bias_initializer, "bias_initializer")
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.bias_initializer = initializer_config(bias_initializer)
        self.kernel = None
        self.bias = None
        #: False on a model's first layer with weights during training: the input gradient is not computed.
        self.input_grad = True

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(f"layer {self.name!r} (Dense) expects 2-D input (batch, features), got "
                             f"input_shape {tuple(input_shape)}; add a Flatten layer before it")
        return (self.units,)

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        din = input_shape[0]
        self.kernel = self.add_parameter(
            self._kernel_init((din, self.units), din, self.units, rng, self.dtype), "kernel")
        if self.use_bias:
            self.bias = self.add_parameter(
                self._bias_init((self.units,), din, self.units, rng, self.dtype), "bias")
        if self.activation is not None:
            self.activation.name = f"{self.name}.{self.activation.kind}"
            self.activation.build((self.units,), dtype=self.dtype)
            if isinstance(self.activation, ReLU):  # it may overwrite this layer's own fresh output
                self.activation.overwrite_input = True

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        out, self._cache = F.dense(x, self.kernel.value, self.bias.value if self.use_bias else None,
                                   need_dx=self.input_grad)
        if self.activation is not None:
            out = self.activation.forward(out, training)
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray | None:
        if self.activation is not None:
            dout = self.activation.backward(dout)
        dx, dw, db = F.dense_backward(dout, self._cache)
        self.kernel.grad += dw
        if self.use_bias:
            self.bias.grad += db
        return dx

    def _config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self.activation_name, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer}


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

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        if self.rng is None:
            self.rng = np.random.default_rng()
        out, self._cache = dropout(x, self.rate, self.rng)
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            return dout
        return dropout_backward(dout, self._cache)

    def _config(self) -> dict[str, Any]:
        return {"rate": self.rate}
