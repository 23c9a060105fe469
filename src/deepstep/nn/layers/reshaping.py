"""GlobalAveragePooling2D and ZeroPadding2D (both in the course's ResNet50)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int
from .base import Layer, check_data_format_name

__all__ = ["GlobalAveragePooling2D", "ZeroPadding2D"]


def _spatial_axes(data_format: str) -> tuple[int, int]:
    return (1, 2) if data_format == "channels_last" else (2, 3)


def _check_4d(layer: Layer, shape: tuple[int, ...]) -> None:
    if len(shape) != 3:
        raise ValueError(f"layer {layer.name or layer.kind!r} ({type(layer).__name__}) expects 4-D input "
                         f"(batch, H, W, C) or (batch, C, H, W), got input_shape {tuple(shape)}")


class GlobalAveragePooling2D(Layer):
    """Mean over the spatial axes: ``(N, H, W, C) -> (N, C)`` (channels_first: ``(N, C, H, W)``).

    ``out[n, c] = sum_{i, j} x[n, i, j, c] / (H W)``; ``dx[n, i, j, c] = dout[n, c] / (H W)``.
    """

    kind = "global_average_pooling2d"

    def __init__(self, data_format: str = "channels_last", name: str | None = None) -> None:
        super().__init__(name)
        self.data_format = check_data_format_name(data_format)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        _check_4d(self, tuple(input_shape))
        return (input_shape[2],) if self.data_format == "channels_last" else (input_shape[0],)

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        return x.mean(axis=_spatial_axes(self.data_format), dtype=x.dtype), x.shape

    def _backward(self, dout: np.ndarray, cache: tuple[int, ...]) -> np.ndarray:
        h, w = (cache[1], cache[2]) if self.data_format == "channels_last" else (cache[2], cache[3])
        g = dout * dout.dtype.type(1.0 / (h * w))
        g = g[:, None, None, :] if self.data_format == "channels_last" else g[:, :, None, None]
        return np.broadcast_to(g, cache).copy()

    def _config(self) -> dict[str, Any]:
        return {"data_format": self.data_format}


def _as_padding(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """int, (ph, pw) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    def one(v: Any, what: str) -> tuple[int, int]:
        if isinstance(v, tuple | list):
            if len(v) != 2:
                raise ValueError(f"padding {what} must be an int or a pair, got {v!r}")
            return (check_int(v[0], "padding", 0), check_int(v[1], "padding", 0))
        p = check_int(v, "padding", 0)
        return (p, p)

    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise ValueError(f"padding must be an int, (ph, pw) or ((top, bottom), (left, right)); got "
                             f"{padding!r}")
        return one(padding[0], "rows"), one(padding[1], "columns")
    p = one(padding, "")
    return p, p


class ZeroPadding2D(Layer):
    """Pad the spatial axes with zeros.

    ``padding``: an int, ``(ph, pw)`` or ``((top, bottom), (left, right))``.
    """

    kind = "zero_padding2d"

    def __init__(self, padding: Any = 1, data_format: str = "channels_last", name: str | None = None) -> None:
        super().__init__(name)
        self.padding = _as_padding(padding)
        self.data_format = check_data_format_name(data_format)

    def _pads(self) -> list[tuple[int, int]]:
        (t, b), (l_, r) = self.padding
        if self.data_format == "channels_last":
            return [(0, 0), (t, b), (l_, r), (0, 0)]
        return [(0, 0), (0, 0), (t, b), (l_, r)]

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        _check_4d(self, tuple(input_shape))
        pads = self._pads()[1:]
        return tuple(d + a + b for d, (a, b) in zip(input_shape, pads, strict=True))

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, None]:
        return np.pad(x, self._pads()), None

    def _backward(self, dout: np.ndarray, cache: None) -> np.ndarray:
        index = tuple(slice(a, n - b) for (a, b), n in zip(self._pads(), dout.shape, strict=True))
        return dout[index]

    def _config(self) -> dict[str, Any]:
        return {"padding": [list(self.padding[0]), list(self.padding[1])], "data_format": self.data_format}
