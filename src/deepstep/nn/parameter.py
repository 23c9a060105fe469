"""A trainable array and its gradient."""

from __future__ import annotations

import numpy as np

__all__ = ["Parameter"]


class Parameter:
    """A trainable value with a gradient of the same shape and dtype.

    Layers own their parameters; optimizers read ``grad`` and update ``value`` in place
    (``param.value -= ...``) so that every reference to the array sees the new weights.
    Gradients accumulate (``+=``) between calls to :meth:`zero_grad`.

    Parameters
    ----------
    value : numpy.ndarray
        The initial value (float32 or float64).
    name : str
        A name unique within its layer, e.g. ``"kernel"`` or ``"bias"``.
    trainable : bool
        Whether optimizers update it (BatchNormalization's running statistics are not).
    """

    __slots__ = ("value", "grad", "name", "trainable")

    def __init__(self, value: np.ndarray, name: str, trainable: bool = True) -> None:
        if not isinstance(value, np.ndarray) or value.dtype not in (np.float32, np.float64):
            raise TypeError(f"Parameter {name!r} value must be a float32 or float64 ndarray")
        self.value = value
        self.grad = np.zeros_like(value)
        self.name = name
        self.trainable = trainable

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def size(self) -> int:
        return int(self.value.size)

    def zero_grad(self) -> None:
        """Reset the accumulated gradient to zero."""
        self.grad[...] = 0

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"
