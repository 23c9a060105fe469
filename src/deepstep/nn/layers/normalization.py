"""BatchNormalization (maths in deepstep.nn.functional.normalization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int, check_real
from ..functional.normalization import batch_norm, batch_norm_backward
from .base import Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) per feature or per channel.

    Training: normalize with the batch's mean and variance (over every axis except
    ``axis``) and update the running statistics,
    ``running = momentum * running + (1 - momentum) * batch`` (the running variance uses
    the unbiased batch variance ``var * M / (M - 1)``). Inference: normalize with the
    running statistics.

    Parameters
    ----------
    momentum : float
        In ``[0, 1)``; default 0.99 (Keras). The moving statistics remember about
        ``1 / (1 - momentum)`` steps and keep ``momentum ** T`` of their start after ``T``
        steps, so 0.99 suits runs of thousands of steps. For short runs choose a momentum whose
        memory is at most a tenth of the steps, ``1 - 10 / T`` (0.9 to 0.96 for a few hundred
        steps): with 0.99, 280 steps left a small residual net at chance in inference mode
        although it scored 0.98 in training mode. ``deepstep train`` warns when the moving
        statistics lag the data (:func:`deepstep.train.diagnostics.batch_norm_warnings`).
    epsilon : float
        Added to the variance (> 0); default 1e-3.
    axis : int
        The channel axis, batch axis included in the numbering: ``-1`` for channels_last
        inputs ``(N, H, W, C)`` and 2-D ``(N, D)``, ``1`` for channels_first ``(N, C, H, W)``.
    name : str, optional

    Parameters created: ``gamma`` (ones) and ``beta`` (zeros), trainable; ``moving_mean``
    (zeros) and ``moving_variance`` (ones), non-trainable (saved with the model).
    """

    kind = "batch_normalization"

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, axis: int = -1,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0, inclusive_max=False)
        self.epsilon = check_real(epsilon, "epsilon", 0.0, inclusive_min=False)
        self.axis = check_int(axis, "axis")
        if self.axis == 0:
            raise ValueError("axis must name a channel axis, not the batch axis 0; got 0")
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _channels(self, input_shape: tuple[int, ...]) -> int:
        ndim = len(input_shape) + 1
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"layer {self.name!r} (BatchNormalization) axis={self.axis} is not a channel "
                             f"axis of input_shape {tuple(input_shape)} ({ndim}-D with the batch axis)")
        return input_shape[self.axis % ndim - 1]

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        self._channels(input_shape)
        return tuple(input_shape)

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        c = self._channels(input_shape)
        self.gamma = self.add_parameter(np.ones(c), "gamma")
        self.beta = self.add_parameter(np.zeros(c), "beta")
        self.moving_mean = self.add_parameter(np.zeros(c), "moving_mean", trainable=False)
        self.moving_variance = self.add_parameter(np.ones(c), "moving_variance", trainable=False)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        if not training:
            return batch_norm(x, self.gamma.value, self.beta.value, self.axis, self.epsilon,
                              self.moving_mean.value, self.moving_variance.value)
        out, cache = batch_norm(x, self.gamma.value, self.beta.value, self.axis, self.epsilon)
        m = cache["count"]
        unbiased = cache["batch_var"] * (m / (m - 1) if m > 1 else 1.0)
        mom = self.dtype.type(self.momentum)
        self.moving_mean.value *= mom
        self.moving_mean.value += (1 - mom) * cache["batch_mean"]
        self.moving_variance.value *= mom
        self.moving_variance.value += (1 - mom) * unbiased.astype(self.dtype)
        return out, cache

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dgamma, dbeta = batch_norm_backward(dout, cache)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def _config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "epsilon": self.epsilon, "axis": self.axis}
