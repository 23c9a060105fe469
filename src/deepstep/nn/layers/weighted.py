"""The part Conv2D and Dense share: a kernel, an optional bias and a fused activation."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._limits import check_elements
from ._init import initializer_config, resolve_initializer
from .activations import ReLU, get_activation
from .base import Layer

__all__ = ["KernelLayer"]


class KernelLayer(Layer):
    """Base of layers computing ``activation(op(x, kernel) + bias)``.

    Subclasses call :meth:`_build_weights` from ``_build`` and wrap their kernel's forward
    and backward between :meth:`_activate` / :meth:`_deactivate`; the gradients go through
    :meth:`_accumulate`. ``input_grad`` is False on a model's first layer with weights during
    training, so that its input gradient is not computed.
    """

    def __init__(self, activation: str | None, use_bias: bool, kernel_initializer: Any,
                 bias_initializer: Any, name: str | None) -> None:
        super().__init__(name)
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
        self.input_grad = True

    def _build_weights(self, kernel_shape: tuple[int, ...], units: int, fan_in: int, fan_out: int,
                       output_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        """Create ``kernel`` (``kernel_shape``) and ``bias`` (``(units,)``), and build the activation.

        The kernel's shape is checked against the size budget first (:mod:`deepstep._limits`):
        ``Dense(10**12)`` after 72 features raises a ``ValueError`` naming the layer, not a MemoryError.
        """
        check_elements(kernel_shape, f"{self._label()}: kernel", self.dtype)
        self.kernel = self.add_parameter(self._kernel_init(kernel_shape, fan_in, fan_out, rng, self.dtype),
                                         "kernel")
        if self.use_bias:
            bias = self._bias_init((units,), fan_in, fan_out, rng, self.dtype)
            self.bias = self.add_parameter(bias, "bias")
        if self.activation is not None:
            self.activation.name = f"{self.name}.{self.activation.kind}"
            self.activation.build(output_shape, dtype=self.dtype)
            if isinstance(self.activation, ReLU):  # it may overwrite this layer's own fresh output
                self.activation.overwrite_input = True

    @property
    def _bias_value(self) -> np.ndarray | None:
        return self.bias.value if self.use_bias else None

    def _activate(self, out: np.ndarray, cache: Any, training: bool) -> tuple[np.ndarray, Any]:
        """Apply the fused activation: returns ``(output, (op cache, activation cache))``.

        A fused ReLU overwrites ``out`` in place: ``out`` is this call's fresh result of the
        op, read by nobody else, so this is safe wherever the layer sits in a graph.
        """
        if self.activation is None:
            return out, (cache, None)
        act_out, act_cache = self.activation._forward(out, training)
        return act_out, (cache, act_cache)

    def _deactivate(self, dout: np.ndarray, cache: Any) -> tuple[np.ndarray, Any]:
        """Undo :meth:`_activate`: ``(gradient w.r.t. the op's output, op cache)``."""
        op_cache, act_cache = cache
        if self.activation is None:
            return dout, op_cache
        return self.activation._backward(dout, act_cache), op_cache

    def _accumulate(self, dw: np.ndarray, db: np.ndarray | None) -> None:
        self.kernel.grad += dw
        if self.use_bias:
            self.bias.grad += db

    def _weights_config(self) -> dict[str, Any]:
        return {"activation": self.activation_name, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer}
