"""Shape validation shared by layers, symbolic tensors and models."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_shape"]


def as_shape(shape: Any, name: str = "input_shape") -> tuple[int, ...]:
    """Validate a shape without the batch axis: a non-empty tuple of positive ints."""
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or len(shape) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of positive ints (batch axis excluded), "
                        f"got {shape!r}")
    out = []
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise ValueError(f"{name} must hold positive ints (batch axis excluded), got {tuple(shape)!r}")
        out.append(int(dim))
    return tuple(out)
