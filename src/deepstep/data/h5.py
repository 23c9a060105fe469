"""The Deep Learning Specialization's HDF5 datasets (cat vs non-cat, SIGNS)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .._files import require_regular_file
from .._limits import MAX_CLASSES, check_elements
from ._optional import require
from .errors import DataFormatError, describe

__all__ = ["load_h5"]

_SPLITS = ("train", "test")


def _decode_classes(raw: np.ndarray, path: Path) -> list[str]:
    if raw.ndim != 1:
        raise DataFormatError(f"{path}: 'list_classes' must be 1-D, got shape {raw.shape}")
    if raw.shape[0] > MAX_CLASSES:
        raise DataFormatError(f"{path}: 'list_classes' names {raw.shape[0]} classes, more than {MAX_CLASSES}")
    if not (raw.dtype.kind in "SUO" or np.issubdtype(raw.dtype, np.integer)):
        raise DataFormatError(f"{path}: 'list_classes' must hold strings or integers, got dtype {raw.dtype}")
    classes = []
    for item in raw.tolist():
        if isinstance(item, bytes):
            classes.append(item.decode("utf-8", errors="replace"))
        elif isinstance(item, str | int):
            classes.append(str(item))
        else:
            raise DataFormatError(f"{path}: 'list_classes' must hold strings or integers, got {item!r}")
    return classes


def _read_dataset(f: Any, key: str, path: Path) -> np.ndarray:
    """Read dataset ``key`` of the open file ``f`` after checking what its header declares.

    The declared shape is checked against the size budget before anything is read (a chunked
    dataset declaring 2**31 images takes a few KB on disk), and storage outside the file
    (external raw files, virtual datasets) is refused: it could name any path, a FIFO included.
    """
    obj = f.get(key)
    if not isinstance(obj, _h5py().Dataset):
        raise DataFormatError(f"{path}: '{key}' must be a dataset, got {type(obj).__name__}")
    if obj.shape is None:
        raise DataFormatError(f"{path}: dataset '{key}' has no data (an empty dataspace)")
    if obj.external or obj.is_virtual:
        raise DataFormatError(f"{path}: dataset '{key}' keeps its data outside the file (not supported)")
    check_elements(obj.shape, f"{path}: dataset '{key}'", obj.dtype, error=DataFormatError)
    return np.asarray(obj[()])


def _h5py() -> Any:
    return require("h5py", "data", "reading HDF5 files")


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
        If it is not a regular HDF5 file, misses the keys, holds no images, declares an array
        beyond the size budget (:mod:`deepstep._limits`), or its arrays are inconsistent.
    """
    h5py = _h5py()
    path = require_regular_file(path, "data file", DataFormatError)
    try:
        if not h5py.is_hdf5(path):
            raise DataFormatError(f"{path}: not an HDF5 file")
        with h5py.File(path, "r") as f:
            keys = set(f.keys())
            split = next((s for s in _SPLITS if f"{s}_set_x" in keys and f"{s}_set_y" in keys), None)
            if split is None:
                raise DataFormatError(
                    f"{path}: expected keys 'train_set_x'/'train_set_y' or 'test_set_x'/'test_set_y', "
                    f"got {sorted(keys)}"
                )
            x = _read_dataset(f, f"{split}_set_x", path)
            y = _read_dataset(f, f"{split}_set_y", path)
            raw_classes = _read_dataset(f, "list_classes", path) if "list_classes" in keys else None
    except DataFormatError:
        raise
    except Exception as exc:  # h5py/HDF5 raise OSError, RuntimeError, KeyError, ValueError, ...
        raise DataFormatError(f"{path}: unreadable HDF5 file ({describe(exc)})") from exc

    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4:
        raise DataFormatError(f"{path}: '{split}_set_x' must be 4-D (m, H, W, C), got shape {x.shape}")
    if min(x.shape) == 0:
        raise DataFormatError(f"{path}: '{split}_set_x' holds no images (shape {x.shape})")
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
    low, high = int(y.min()), int(y.max())  # y is not empty: it has as many entries as x
    if low < 0 or high >= MAX_CLASSES:
        raise DataFormatError(
            f"{path}: labels in '{split}_set_y' must lie in 0..{MAX_CLASSES - 1}, got {low}..{high}"
        )
    y = y.astype(np.int64, copy=False)
    classes = [str(i) for i in range(high + 1)] if raw_classes is None else _decode_classes(raw_classes, path)
    if high >= len(classes):
        raise DataFormatError(
            f"{path}: labels must lie in 0..{len(classes) - 1} ({len(classes)} classes), got {low}..{high}"
        )
    return x, y, classes
