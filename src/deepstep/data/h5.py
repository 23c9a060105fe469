"""The Deep Learning Specialization's HDF5 datasets (cat vs non-cat, SIGNS)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from ._optional import require
from .errors import DataFormatError

__all__ = ["load_h5"]

_SPLITS = ("train", "test")


def _decode_classes(raw: np.ndarray, path: Path) -> list[str]:
    if raw.ndim != 1:
        raise DataFormatError(f"{path}: 'list_classes' must be 1-D, got shape {raw.shape}")
    classes = []
    for item in raw.tolist():
        if isinstance(item, bytes):
            classes.append(item.decode("utf-8", errors="replace"))
        else:
            classes.append(str(item))
    return classes


def load_h5(path: str | PathLike[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load one split of a course HDF5 dataset.

    The file holds ``train_set_x``/``train_set_y`` or ``test_set_x``/``test_set_y`` and
    ``list_classes`` (bytes such as ``b'cat'`` or integers; optional, the class names
    default to ``"0"``, ``"1"``, ...).

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file.

    Returns
    -------
    x : ndarray of uint8, shape (m, H, W, C)
        The images (a 3-D grayscale set gets a channel axis of 1).
    y : ndarray of int64, shape (m,)
        Class indices (the course stores them flat; a (1, m) array is flattened).
    classes : list of str
        Class names, ``classes[y[i]]`` is the name of image ``i``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataFormatError
        If it is not HDF5, misses the keys, or its arrays are inconsistent.
    """
    h5py = require("h5py", "data", "reading HDF5 files")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    if not h5py.is_hdf5(path):
        raise DataFormatError(f"{path}: not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            keys = set(f.keys())
            split = next((s for s in _SPLITS if f"{s}_set_x" in keys and f"{s}_set_y" in keys), None)
            if split is None:
                raise DataFormatError(
                    f"{path}: expected keys 'train_set_x'/'train_set_y' or 'test_set_x'/'test_set_y', "
                    f"got {sorted(keys)}"
                )
            x = np.asarray(f[f"{split}_set_x"][()])
            y = np.asarray(f[f"{split}_set_y"][()])
            raw_classes = np.asarray(f["list_classes"][()]) if "list_classes" in keys else None
    except DataFormatError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(f"{path}: unreadable HDF5 file ({exc})") from exc

    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4:
        raise DataFormatError(f"{path}: '{split}_set_x' must be 4-D (m, H, W, C), got shape {x.shape}")
    if x.dtype != np.uint8:
        in_range = np.issubdtype(x.dtype, np.integer) and (x.size == 0 or (x.min() >= 0 and x.max() <= 255))
        if not in_range:
            raise DataFormatError(
                f"{path}: '{split}_set_x' must hold 8-bit pixel values 0..255, got dtype {x.dtype}"
            )
    x = x.astype(np.uint8, copy=False)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataFormatError(
            f"{path}: '{split}_set_y' must be a 1-D integer array, got shape {y.shape} dtype {y.dtype}"
        )
    if y.shape[0] != x.shape[0]:
        raise DataFormatError(
            f"{path}: {x.shape[0]} images in '{split}_set_x' but {y.shape[0]} labels in '{split}_set_y'"
        )
    y = y.astype(np.int64, copy=False)
    if raw_classes is None:
        classes = [str(i) for i in range(int(y.max()) + 1 if y.size else 0)]
    else:
        classes = _decode_classes(raw_classes, path)
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        raise DataFormatError(
            f"{path}: labels must lie in 0..{len(classes) - 1} ({len(classes)} classes), "
            f"got {int(y.min())}..{int(y.max())}"
        )
    return x, y, classes
