"""MaxPooling2D and AveragePooling2D (maths in deepstep.nn.functional.pool2d)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional._params import as_pair, resolve_padding
from .base import Layer, check_data_format_name, kernel_data_format
from .conv import check_padding_name

__all__ = ["MaxPooling2D", "AveragePooling2D"]


class _Pooling2D(Layer):
    mode = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str = "channels_last", name: str | None = None) -> None:
        super().__init__(name)
        self.pool_size = as_pair(pool_size, "pool_size", 1)
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides", 1)
        self.padding = check_padding_name(padding)
        self.data_format = check_data_format_name(data_format)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) != 3:
            layout = "(H, W, C)" if self.data_format == "channels_last" else "(C, H, W)"
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects 4-D input "
                             f"(batch, *{layout}), got input_shape {shape} "
                             f"({len(shape) + 1}-D with the batch axis)")
        hw = shape[:2] if self.data_format == "channels_last" else shape[1:]
        try:
            _, (oh, ow) = resolve_padding(self.padding, hw, self.pool_size, self.strides)
        except ValueError as exc:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}, pool_size={self.pool_size}, "
                             f"padding={self.padding!r}) does not fit input_shape {shape}: {exc}") from exc
        if self.data_format == "channels_last":
            return (oh, ow, shape[2])
        return (shape[0], oh, ow)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        return F.pool2d(x, self.pool_size, stride=self.strides, padding=self.padding, mode=self.mode,
                        data_format=kernel_data_format(self.data_format))

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return F.pool2d_backward(dout, cache)

    def _config(self) -> dict[str, Any]:
        return {"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Maximum over each ``pool_size`` window, moved by ``strides`` (default: ``pool_size``).

    With ``padding="same"`` the padded cells never win (they act as ``-inf``).
    """

    kind = "max_pooling2d"
    mode = "max"


class AveragePooling2D(_Pooling2D):
    """Mean over each ``pool_size`` window, moved by ``strides`` (default: ``pool_size``)."""

    kind = "average_pooling2d"
    mode = "average"
