"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax (maths in deepstep.nn.functional)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int, check_real
from .. import functional as F
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "ACTIVATIONS", "get_activation"]


class ReLU(Layer):
    """``max(0, x)`` elementwise."""

    kind = "relu"
    #: Set by a Conv2D/Dense layer that owns this ReLU as its fused activation: the layer's
    #: freshly computed output is then overwritten in place instead of copied, and the
    #: input gradient, which only that layer reads, goes into a buffer kept between steps.
    #: Both stay safe in any graph: the overwritten array is the op's own result, which no
    #: other node reads, and the buffer is consumed by the op's backward before the call
    #: returns (a layer shared by two nodes runs its backward calls one after the other).
    #: A standalone ReLU never writes into its input, which may have other consumers.
    overwrite_input = False
    _grad_buffer: np.ndarray | None = None

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.relu(x, overwrite_x=self.overwrite_input)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        buffer = None
        if self.overwrite_input:
            buffer = self._grad_buffer
            if buffer is None or buffer.shape != dout.shape or buffer.dtype != dout.dtype:
                buffer = self._grad_buffer = np.empty_like(dout)
        return F.relu_backward(dout, cache, out=buffer)


class LeakyReLU(Layer):
    """``x if x > 0 else alpha * x`` elementwise.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs, ``0 <= alpha < 1`` (default 0.01).
    """

    kind = "leaky_relu"

    def __init__(self, alpha: float = 0.01, name: str | None = None) -> None:
        super().__init__(name)
        self.alpha = check_real(alpha, "alpha", 0.0, 1.0, inclusive_max=False)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.leaky_relu(x, self.alpha)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.leaky_relu_backward(dout, cache)

    def _config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Sigmoid(Layer):
    """``1 / (1 + exp(-x))`` elementwise (numerically stable)."""

    kind = "sigmoid"

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.sigmoid(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.sigmoid_backward(dout, cache)


class Tanh(Layer):
    """``tanh(x)`` elementwise."""

    kind = "tanh"

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.tanh(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.tanh_backward(dout, cache)


class Softmax(Layer):
    """``exp(x_i) / sum_j exp(x_j)`` along ``axis`` (batch axis included in the numbering).

    Models end with logits and let the loss apply softmax; use this layer only where
    probabilities are needed inside a model.
    """

    kind = "softmax"

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        super().__init__(name)
        self.axis = check_int(axis, "axis")

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        ndim = len(input_shape) + 1
        if not -ndim <= self.axis < ndim or self.axis in (0, -ndim):
            raise ValueError(f"Softmax axis must name a non-batch axis of a {ndim}-D input, got {self.axis}")
        return tuple(input_shape)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.softmax(x, axis=self.axis)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.softmax_backward(dout, cache)

    def _config(self) -> dict[str, Any]:
        return {"axis": self.axis}


ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}


def get_activation(activation: str | None) -> Layer | None:
    """The activation layer named by the ``activation=`` argument of Conv2D/Dense.

    ``None`` or ``"linear"`` means no activation. Unknown names raise ``ValueError``
    listing the allowed ones.
    """
    if activation is None or activation == "linear":
        return None
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        allowed = ", ".join(repr(k) for k in ("linear", *ACTIVATIONS))
        raise ValueError(f"activation must be None or one of {allowed}; got {activation!r}")
    return ACTIVATIONS[activation]()


class Activation(Layer):
    """Keras' ``Activation(name)``: the activation layer named by ``activation`` ("relu", "tanh", ...)."""

    kind = "activation"

    def __init__(self, activation: str, name: str | None = None) -> None:
        super().__init__(name)
        inner = get_activation(activation)
        if inner is None:
            raise ValueError(f"activation must be one of {', '.join(repr(k) for k in ACTIVATIONS)}; "
                             f"got {activation!r}")
        self.activation_name = activation
        self.inner = inner

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.inner.compute_output_shape(input_shape)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return self.inner._forward(x, training)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return self.inner._backward(dout, cache)

    def _config(self) -> dict[str, Any]:
        return {"activation": self.activation_name}
