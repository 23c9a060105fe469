"""Inverted dropout: ``out = x * mask / (1 - rate)`` with ``mask ~ Bernoulli(1 - rate)``."""

from __future__ import annotations

import numpy as np

from ..._validation import check_float_array, check_real

__all__ = ["dropout", "dropout_backward"]


def dropout(x: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Zero each element with probability ``rate`` and scale the survivors by ``1 / (1 - rate)``.

    The expected value of the output equals ``x``, so inference needs no rescaling.

    Parameters
    ----------
    x : ndarray, float32 or float64, any shape
    rate : float
        Drop probability, ``0 <= rate < 1``.
    rng : numpy.random.Generator
        Source of the mask (seeded by the model for reproducible training).

    Returns
    -------
    out : ndarray, shape and dtype of ``x``
    cache : ndarray
        The scaled mask ``keep / (1 - rate)``, in ``x``'s dtype.
    """
    x = check_float_array(x, "x")
    rate = check_real(rate, "rate", 0.0, 1.0, inclusive_max=False)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    keep = rng.random(x.shape, dtype=np.float64) >= rate
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - rate))
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dx = dout * mask / (1 - rate)`` (the cached scaled mask)."""
    dout = check_float_array(dout, "dout")
    if not isinstance(cache, np.ndarray) or cache.dtype not in (np.float32, np.float64):
        raise TypeError(f"cache must be the mask returned as cache by dropout, got {type(cache).__name__}")
    if dout.shape != cache.shape:
        raise ValueError(f"dout must have the forward input's shape {cache.shape}, got {dout.shape}")
    return dout * cache
