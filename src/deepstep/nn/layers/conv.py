"""Conv2D: a 2-D convolution layer (maths in deepstep.nn.functional.conv2d)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_choice, check_int
from .. import functional as F
from ..functional._params import as_pair, resolve_padding
from .base import check_data_format_name, kernel_data_format
from .weighted import KernelLayer

__all__ = ["Conv2D"]


def check_padding_name(padding: Any) -> str:
    """Keras padding: "valid" or "same" (case-insensitive)."""
    if not isinstance(padding, str):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}")
    return check_choice(padding.lower(), "padding", ("valid", "same"))


class Conv2D(KernelLayer):
    """2-D convolution (cross-correlation, as in every deep-learning framework).

    ``out[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p*dh, j*sw + q*dw, c] * W[p, q, c, f]``

    Parameters
    ----------
    filters : int
        Number of output channels (>= 1).
    kernel_size : int or (int, int)
        Window ``(kh, kw)``.
    strides : int or (int, int)
        Step ``(sh, sw)`` (>= 1).
    padding : "valid" or "same"
        ``"same"`` pads as TensorFlow does, so that ``out = ceil(in / stride)``.
    dilation_rate : int or (int, int)
        Spacing ``(dh, dw)`` between the pixels a window reads (>= 1; 1 is an ordinary convolution).
        A window spans ``d * (k - 1) + 1`` pixels per axis. Unlike Keras, strides > 1 may be
        combined with dilation > 1 (as in PyTorch).
    activation : str, optional
        "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear" or None.
    use_bias : bool
    kernel_initializer, bias_initializer : str or callable
        Names from :mod:`deepstep.init`; fan-in ``kh*kw*Cin`` and fan-out ``kh*kw*filters``
        are computed from the input shape at build time.
    data_format : "channels_last" or "channels_first"
        Inputs ``(N, H, W, C)`` or ``(N, C, H, W)``. The kernel is always stored in
        Keras layout ``(kh, kw, Cin, filters)`` (``layer.kernel``); for channels_first it
        is transposed to ``(filters, Cin, kh, kw)`` for the NCHW kernel.
    name : str, optional
    """

    kind = "conv2d"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 activation: str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 data_format: str = "channels_last", name: str | None = None, dilation_rate: Any = 1) -> None:
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, name)
        self.filters = check_int(filters, "filters", 1)
        self.kernel_size = as_pair(kernel_size, "kernel_size", 1)
        self.strides = as_pair(strides, "strides", 1)
        self.padding = check_padding_name(padding)
        self.data_format = check_data_format_name(data_format)
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate", 1)

    @property
    def _span(self) -> tuple[int, int]:
        """Extent of one dilated window, ``d * (k - 1) + 1`` per axis."""
        (kh, kw), (dh, dw) = self.kernel_size, self.dilation_rate
        return (dh * (kh - 1) + 1, dw * (kw - 1) + 1)

    def _split(self, shape: tuple[int, ...]) -> tuple[tuple[int, int], int]:
        if len(shape) != 3:
            layout = "(H, W, C)" if self.data_format == "channels_last" else "(C, H, W)"
            raise ValueError(f"layer {self.name!r} (Conv2D) expects 4-D input (batch, *{layout}), "
                             f"got input_shape {shape} ({len(shape) + 1}-D with the batch axis)")
        if self.data_format == "channels_last":
            return (shape[0], shape[1]), shape[2]
        return (shape[1], shape[2]), shape[0]

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        hw, _ = self._split(tuple(input_shape))
        try:
            _, (oh, ow) = resolve_padding(self.padding, hw, self._span, self.strides)
        except ValueError as exc:
            raise ValueError(f"layer {self.name!r} (Conv2D, kernel_size={self.kernel_size}, "
                             f"dilation_rate={self.dilation_rate}, "
                             f"padding={self.padding!r}) does not fit input_shape {tuple(input_shape)}: {exc}"
                             ) from exc
        if self.data_format == "channels_last":
            return (oh, ow, self.filters)
        return (self.filters, oh, ow)

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        _, cin = self._split(input_shape)
        kh, kw = self.kernel_size
        self._build_weights((kh, kw, cin, self.filters), self.filters, kh * kw * cin, kh * kw * self.filters,
                            self.compute_output_shape(input_shape), rng)

    def _weights_for_kernel(self) -> np.ndarray:
        if self.data_format == "channels_last":
            return self.kernel.value
        return self.kernel.value.transpose(3, 2, 0, 1)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        fused = self.activation_name == "relu"  # ReLU runs inside the kernel (and its mask in the backward)
        out, cache = F.conv2d(
            x, self._weights_for_kernel(), self._bias_value, stride=self.strides, padding=self.padding,
            data_format=kernel_data_format(self.data_format), need_dx=self.input_grad,
            dilation=self.dilation_rate, activation="relu" if fused else None)
        return (out, cache) if fused else self._activate(out, cache, training)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray | None:
        if self.activation_name != "relu":
            dout, cache = self._deactivate(dout, cache)
        dx, dw, db = F.conv2d_backward(dout, cache)
        if self.data_format == "channels_first":
            dw = dw.transpose(2, 3, 1, 0)
        self._accumulate(dw, db)
        return dx

    def _config(self) -> dict[str, Any]:
        return {
            "filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "dilation_rate": list(self.dilation_rate), **self._weights_config(),
            "data_format": self.data_format,
        }
