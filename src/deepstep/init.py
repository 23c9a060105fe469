"""Weight initializers (Keras names and scales).

Every initializer has the signature ``init(shape, fan_in=None, fan_out=None, rng=None, dtype="float32")``
and returns a new ndarray of ``shape`` and ``dtype``. ``fan_in``/``fan_out`` default to
:func:`compute_fans` of ``shape`` (Keras layouts: Dense ``(Din, Dout)``, Conv2D ``(kh, kw, Cin, Cout)``).
Random initializers need ``rng``, a :class:`numpy.random.Generator`; the draw is made in float64 and
then cast, so a given generator state gives the same weights (up to rounding) in float32 and float64.

==================  ==========================================  =========================================
name                distribution                                scale
==================  ==========================================  =========================================
``zeros``           constant 0
``ones``            constant 1
``course_normal``   normal                                      std 0.01 (the course's ``randn * 0.01``)
``lecun_normal``    normal                                      std ``sqrt(1 / fan_in)``
``glorot_normal``   normal                                      std ``sqrt(2 / (fan_in + fan_out))``
``glorot_uniform``  uniform on ``[-limit, limit]``              limit ``sqrt(6 / (fan_in + fan_out))``
``he_normal``       normal                                      std ``sqrt(2 / fan_in)``
``he_uniform``      uniform on ``[-limit, limit]``              limit ``sqrt(6 / fan_in)``
==================  ==========================================  =========================================

Normal initializers draw from an *untruncated* normal distribution, as the course does
(``initialize_parameters_he``: ``randn * sqrt(2 / n_prev)``; the application notebook's
``randn / sqrt(n_prev)`` is ``lecun_normal``) and as PyTorch's ``xavier_normal_`` / ``kaiming_normal_``
do. Keras instead draws from a normal truncated at two standard deviations and rescaled so that the
standard deviation is the same; the variance (the quantity these schemes are designed to preserve) is
identical, only the rare values beyond 2 std are absent in Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._validation import check_float_dtype, check_int

__all__ = [
    "compute_fans",
    "zeros",
    "ones",
    "course_normal",
    "lecun_normal",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "INITIALIZER_NAMES",
    "get_initializer",
]

Initializer = Callable[..., np.ndarray]


def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}")
    return tuple(check_int(s, f"shape[{i}]", minimum=0) for i, s in enumerate(shape))


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Keras fan-in and fan-out of a weight shape.

    ``(n,)`` -> ``(n, n)``; ``(Din, Dout)`` -> ``(Din, Dout)``; ``(kh, kw, Cin, Cout)`` (any number of
    leading receptive-field axes) -> ``(kh*kw*Cin, kh*kw*Cout)``.
    """
    shape = _check_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return receptive * shape[-2], receptive * shape[-1]


def _fans(shape: tuple[int, ...], fan_in: Any, fan_out: Any) -> tuple[int, int]:
    default_in, default_out = compute_fans(shape)
    fan_in = default_in if fan_in is None else check_int(fan_in, "fan_in", minimum=1)
    fan_out = default_out if fan_out is None else check_int(fan_out, "fan_out", minimum=1)
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out must be >= 1, got fan_in={fan_in}, fan_out={fan_out} "
                         f"(computed from shape {shape})")
    return fan_in, fan_out


def _normal(shape, rng, std, dtype) -> np.ndarray:
    return (rng.standard_normal(shape) * std).astype(dtype, copy=False)


def _uniform(shape, rng, limit, dtype) -> np.ndarray:
    return rng.uniform(-limit, limit, size=shape).astype(dtype, copy=False)


def zeros(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
          rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """All zeros (biases). ``fan_in``, ``fan_out`` and ``rng`` are accepted and ignored."""
    return np.zeros(_check_shape(shape), dtype=check_float_dtype(dtype))


def ones(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
         rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """All ones (e.g. BatchNormalization's gamma). ``fan_in``, ``fan_out`` and ``rng`` are ignored."""
    return np.ones(_check_shape(shape), dtype=check_float_dtype(dtype))


def course_normal(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
                  rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """The course's small random init: ``standard_normal(shape) * 0.01``. Fans are ignored."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    return _normal(shape, _check_rng(rng), 0.01, dtype)


def lecun_normal(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
                 rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """Normal with std ``sqrt(1 / fan_in)`` (the application notebook's ``randn / sqrt(n_prev)``)."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    fan_in, _ = _fans(shape, fan_in, fan_out)
    return _normal(shape, _check_rng(rng), math.sqrt(1.0 / fan_in), dtype)


def glorot_normal(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
                  rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """Glorot/Xavier normal: std ``sqrt(2 / (fan_in + fan_out))`` (untruncated; see the module doc)."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    fan_in, fan_out = _fans(shape, fan_in, fan_out)
    return _normal(shape, _check_rng(rng), math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def glorot_uniform(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
                   rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """Glorot/Xavier uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    fan_in, fan_out = _fans(shape, fan_in, fan_out)
    return _uniform(shape, _check_rng(rng), math.sqrt(6.0 / (fan_in + fan_out)), dtype)


def he_normal(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
              rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """He/Kaiming normal: std ``sqrt(2 / fan_in)`` (the course's ``initialize_parameters_he``)."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    fan_in, _ = _fans(shape, fan_in, fan_out)
    return _normal(shape, _check_rng(rng), math.sqrt(2.0 / fan_in), dtype)


def he_uniform(shape: Sequence[int], fan_in: int | None = None, fan_out: int | None = None,
               rng: np.random.Generator | None = None, dtype: Any = "float32") -> np.ndarray:
    """He/Kaiming uniform on ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``."""
    shape, dtype = _check_shape(shape), check_float_dtype(dtype)
    fan_in, _ = _fans(shape, fan_in, fan_out)
    return _uniform(shape, _check_rng(rng), math.sqrt(6.0 / fan_in), dtype)


_INITIALIZERS: dict[str, Initializer] = {
    f.__name__: f
    for f in (zeros, ones, course_normal, lecun_normal, glorot_normal, glorot_uniform, he_normal, he_uniform)
}
INITIALIZER_NAMES: tuple[str, ...] = tuple(_INITIALIZERS)


def get_initializer(identifier: str | Initializer) -> Initializer:
    """Return the initializer named ``identifier`` (see :data:`INITIALIZER_NAMES`), or a callable as is."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _INITIALIZERS:
            return _INITIALIZERS[key]
    elif callable(identifier):
        return identifier
    raise ValueError(f"unknown initializer {identifier!r}; expected a callable or one of "
                     f"{', '.join(INITIALIZER_NAMES)}")
