"""Array transforms for training data: scaling, one-hot labels, splits and mini-batches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._limits import check_elements
from .._validation import brief_repr, check_array, check_class_indices, check_int, check_real

__all__ = ["normalize", "one_hot", "train_val_split", "iterate_batches"]


def normalize(x: np.ndarray, scale: float = 255.0, dtype: str = "float32") -> np.ndarray:
    """Return ``x / scale`` as a new float array (pixels 0..255 become 0..1 by default).

    Parameters
    ----------
    x : array_like of real numbers, any shape
    scale : float, > 0
    dtype : {"float32", "float64"}
    """
    arr = check_array(x, "x")
    want = _float_dtype(dtype)
    largest = float(np.finfo(want).max)
    scale = check_real(scale, "scale", minimum=0.0, maximum=largest, inclusive_min=False)
    with np.errstate(over="ignore"):
        out = arr.astype(want, copy=True)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > out.dtype.itemsize and np.isinf(out).any():
        overflowed = np.isinf(out) & np.isfinite(arr)
        if overflowed.any():
            raise ValueError(f"x holds values beyond the range of {want} (|x| <= {largest:.4g}), "
                             f"e.g. {arr[overflowed].flat[0]!r}")
    out /= out.dtype.type(scale)
    return out


def _float_dtype(dtype: object) -> np.dtype:
    try:
        want = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {brief_repr(dtype)}") from exc
    if want not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {brief_repr(dtype)}")
    return want


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """One-hot encode class indices.

    Parameters
    ----------
    y : array_like of int, shape (m,)
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int, >= 1

    Returns
    -------
    ndarray of float32, shape (m, num_classes), ``out[i, y[i]] = 1``.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    labels = check_class_indices(y, "y", num_classes)
    check_elements((labels.shape[0], num_classes), "num_classes (one-hot output (m, num_classes))",
                   np.float32)
    out = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def _check_pair(x: np.ndarray, y: np.ndarray | None) -> None:
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise TypeError(f"x must be a numpy array with a sample axis, got {type(x).__name__}")
    if y is not None:
        if not isinstance(y, np.ndarray) or y.ndim < 1:
            raise TypeError(f"y must be a numpy array with a sample axis, got {type(y).__name__}")
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"x and y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}"
            )


def train_val_split(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    seed: int | None = 0,
    stratify: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split ``(x, y)`` into a training and a validation part, deterministically.

    Parameters
    ----------
    x : ndarray, shape (m, ...)
    y : ndarray, shape (m,) or (m, K)
    val_fraction : float in [0, 1)
        Fraction of the samples held out; ``round(m * val_fraction)`` samples, at least
        one when the fraction is positive, and at least one sample is kept for training.
    seed : int or None
        Seed of the shuffle (same seed, same split). ``None`` keeps the original order
        and holds out the last samples.
    stratify : bool
        Hold out the same fraction of every class (``y`` must then be class indices).

    Returns
    -------
    (x_train, y_train), (x_val, y_val)
        The two parts, each in shuffled order (or the original order when ``seed`` is None).
    """
    _check_pair(x, y)
    val_fraction = check_real(val_fraction, "val_fraction", minimum=0.0, maximum=1.0, inclusive_max=False)
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0)
    m = x.shape[0]
    if m < 2 and val_fraction > 0:
        raise ValueError(f"cannot split {m} sample(s) into training and validation parts")
    rng = np.random.default_rng(seed) if seed is not None else None

    def order(indices: np.ndarray) -> np.ndarray:
        return rng.permutation(indices) if rng is not None else indices

    def n_held(count: int) -> int:
        if val_fraction == 0 or count == 0:
            return 0
        return min(max(int(round(count * val_fraction)), 1), count - 1) if count > 1 else 0

    if stratify:
        labels = check_class_indices(y, "y")
        val_parts, train_parts = [], []
        for cls in np.unique(labels):
            members = order(np.flatnonzero(labels == cls))
            k = n_held(members.size)
            val_parts.append(members[members.size - k:])
            train_parts.append(members[: members.size - k])
        train_idx = order(np.sort(np.concatenate(train_parts)))
        val_idx = order(np.sort(np.concatenate(val_parts)))
    else:
        perm = order(np.arange(m))
        k = n_held(m)
        train_idx, val_idx = perm[: m - k], perm[m - k:]
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


def iterate_batches(
    x: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield mini-batches ``(x_batch, y_batch)`` covering every sample once.

    Parameters
    ----------
    x : ndarray, shape (m, ...)
    y : ndarray, shape (m, ...) or None
        ``None`` yields ``(x_batch, None)``.
    batch_size : int, >= 1
        The last batch holds the remaining ``m % batch_size`` samples when not zero.
    shuffle : bool
        Visit the samples in a random order drawn from ``seed``.
    seed : int or None
        Seed of the shuffle (``None``: fresh entropy).
    """
    _check_pair(x, y)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0)
    m = x.shape[0]
    indices = np.random.default_rng(seed).permutation(m) if shuffle else None
    for start in range(0, m, batch_size):
        if indices is None:
            sl = slice(start, start + batch_size)
            yield x[sl], (y[sl] if y is not None else None)
        else:
            idx = indices[start:start + batch_size]
            yield x[idx], (y[idx] if y is not None else None)
