"""Merge layers of the functional API: Add, Multiply, Average, Concatenate (lists of inputs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int
from ..shapes import as_shape
from .base import Layer

__all__ = ["Add", "Multiply", "Average", "Concatenate"]


class _Merge(Layer):
    """Base of layers taking a list of at least two inputs ``[(batch, *shape_i), ...]``.

    No merge layer writes into its inputs or into ``dout``: a tensor feeding a merge may
    feed other layers too (a residual shortcut), and :class:`Add` hands the same ``dout`` to
    every input.
    """

    takes_list = True

    def _check_input_shape(self, input_shape: Any) -> list[tuple[int, ...]]:
        if not isinstance(input_shape, list | tuple) or len(input_shape) < 2 or not all(
                isinstance(s, list | tuple) for s in input_shape):
            raise ValueError(f"{self._label()} takes a list of at least 2 inputs, got input_shape "
                             f"{input_shape!r}")
        return [as_shape(s) for s in input_shape]

    def compute_output_shape(self, input_shape: Any) -> tuple[int, ...]:
        shapes = self._check_input_shape(input_shape)
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"layer {self.name or self.kind!r} ({type(self).__name__}) needs inputs of one "
                             f"shape, got {', '.join(str((None, *s)) for s in shapes)}")
        return shapes[0]

    def _prepare(self, x: Any) -> list[np.ndarray]:
        if not isinstance(x, list | tuple) or len(x) < 2:
            raise TypeError(f"{self._label()} takes a list of at least 2 arrays, got {type(x).__name__}")
        for i, xi in enumerate(x):
            if not isinstance(xi, np.ndarray) or xi.ndim < 2:
                raise TypeError(f"{self._label()}: input {i} must be a numpy.ndarray with a batch axis")
        if not self.built:
            self.build([xi.shape[1:] for xi in x], dtype=x[0].dtype if x[0].dtype in (np.float32, np.float64)
                       else None)
        if len(x) != len(self.input_shape):
            raise ValueError(f"{self._label()} was built for {len(self.input_shape)} inputs, got {len(x)}")
        for i, (xi, shape) in enumerate(zip(x, self.input_shape, strict=True)):
            self._check_array(xi, shape, f"input {i}")
        if any(xi.shape[0] != x[0].shape[0] for xi in x):
            raise ValueError(f"{self._label()}: inputs have different batch sizes "
                             f"{[xi.shape[0] for xi in x]}")
        return list(x)


class Add(_Merge):
    """Elementwise sum of its inputs (the residual connection ``relu(f(x) + x)``)."""

    kind = "add"

    def _forward(self, x: list[np.ndarray], training: bool) -> tuple[np.ndarray, int]:
        out = np.add(x[0], x[1])
        for xi in x[2:]:
            out += xi
        return out, len(x)

    def _backward(self, dout: np.ndarray, cache: int) -> list[np.ndarray]:
        return [dout] * cache  # the same (read-only by convention) gradient for every input


class Multiply(_Merge):
    """Elementwise product of its inputs."""

    kind = "multiply"

    def _forward(self, x: list[np.ndarray], training: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        out = np.multiply(x[0], x[1])
        for xi in x[2:]:
            out *= xi
        return out, x

    def _backward(self, dout: np.ndarray, cache: list[np.ndarray]) -> list[np.ndarray]:
        grads = []
        for i in range(len(cache)):
            g = dout.copy()
            for j, xj in enumerate(cache):
                if j != i:
                    g *= xj
            grads.append(g)
        return grads


class Average(_Merge):
    """Elementwise mean of its inputs."""

    kind = "average"

    def _forward(self, x: list[np.ndarray], training: bool) -> tuple[np.ndarray, int]:
        out = np.add(x[0], x[1])
        for xi in x[2:]:
            out += xi
        out *= out.dtype.type(1.0 / len(x))
        return out, len(x)

    def _backward(self, dout: np.ndarray, cache: int) -> list[np.ndarray]:
        g = dout * dout.dtype.type(1.0 / cache)
        return [g] * cache


class Concatenate(_Merge):
    """Join its inputs along ``axis`` (batch axis included in the numbering; default the channels, -1).

    Parameters
    ----------
    axis : int
        Not the batch axis; every other axis must agree between inputs.
    """

    kind = "concatenate"

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        super().__init__(name)
        self.axis = check_int(axis, "axis")

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"layer {self.name or self.kind!r} (Concatenate) axis={self.axis} is not a "
                             f"non-batch axis of {ndim}-D inputs")
        return self.axis % ndim

    def compute_output_shape(self, input_shape: Any) -> tuple[int, ...]:
        shapes = self._check_input_shape(input_shape)
        ndim = len(shapes[0]) + 1
        axis = self._axis(ndim)
        rest = [s[:axis - 1] + s[axis:] for s in shapes]
        if any(len(s) + 1 != ndim for s in shapes) or any(r != rest[0] for r in rest):
            raise ValueError(f"layer {self.name or self.kind!r} (Concatenate, axis={self.axis}) needs inputs "
                             f"that agree on every other axis, got "
                             f"{', '.join(str((None, *s)) for s in shapes)}")
        out = list(shapes[0])
        out[axis - 1] = sum(s[axis - 1] for s in shapes)
        return tuple(out)

    def _forward(self, x: list[np.ndarray], training: bool) -> tuple[np.ndarray, Any]:
        axis = self._axis(x[0].ndim)
        bounds = np.cumsum([xi.shape[axis] for xi in x])[:-1]
        return np.concatenate(x, axis=axis), (axis, bounds)

    def _backward(self, dout: np.ndarray, cache: Any) -> list[np.ndarray]:
        axis, bounds = cache
        return np.split(dout, bounds, axis=axis)

    def _config(self) -> dict[str, Any]:
        return {"axis": self.axis}
