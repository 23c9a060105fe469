"""``load_dataset(spec)``: one entry point from a name or path to normalized training arrays."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._files import require_regular_file
from .digits import load_digits
from .errors import DataFormatError
from .h5 import load_h5
from .idx import load_idx
from .images import IMAGE_EXTENSIONS, load_image_folder
from .transforms import _float_dtype, normalize

__all__ = ["Dataset", "load_dataset", "find_mnist_pair", "DEFAULT_IMAGE_SIZE"]

DEFAULT_IMAGE_SIZE = 64
_H5_SUFFIXES = (".h5", ".hdf5")
_MNIST_PREFIXES = ("t10k", "train")


class Dataset(NamedTuple):
    """A loaded dataset, ready for a model.

    Attributes
    ----------
    x : ndarray of float, shape (m, H, W, C)
        Images scaled to [0, 1], channels last.
    y : ndarray of int64, shape (m,)
        Class indices.
    classes : list of str
        ``classes[k]`` is the name of class ``k``.
    name : str
        A short name: ``"digits"``, ``"mnist"``, the file stem or the folder name.
    kind : str
        ``"digits"``, ``"h5"``, ``"mnist"`` or ``"images"``.
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    name: str
    kind: str


def _mnist_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def find_mnist_pair(folder: str | PathLike[str]) -> tuple[Path, Path] | None:
    """Return the (images, labels) IDX files of MNIST in ``folder``, or None.

    Looks for ``t10k-images-idx3-ubyte[.gz]`` with ``t10k-labels-idx1-ubyte[.gz]``, then
    the ``train-`` pair.
    """
    folder = Path(folder)
    for prefix in _MNIST_PREFIXES:
        images = _mnist_file(folder, f"{prefix}-images-idx3-ubyte")
        labels = _mnist_file(folder, f"{prefix}-labels-idx1-ubyte")
        if images is not None and labels is not None:
            return images, labels
    return None


def load_dataset(
    spec: str | PathLike[str],
    dtype: str = "float32",
    image_size: int | Sequence[int] | None = None,
    channels: int = 3,
) -> Dataset:
    """Load a dataset named by ``spec`` and scale it to [0, 1] (NHWC).

    Parameters
    ----------
    spec : str or path-like
        ``"digits"`` (scikit-learn's bundled 8x8 digits), a course ``.h5`` file, a folder
        holding an MNIST IDX pair (``t10k-images-idx3-ubyte.gz`` ...), or an image folder
        with one sub-folder per class.
    dtype : {"float32", "float64"}
    image_size : int or (height, width), optional
        Size images of an image folder are resized to (default 64).
    channels : {1, 3}
        Channels of an image folder's images (default RGB).

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    DataFormatError
        If the path is of no known kind or its content is malformed.
    """
    if not isinstance(spec, str | PathLike):
        raise TypeError(f"spec must be 'digits' or a path (str or path-like), got {type(spec).__name__}")
    _float_dtype(dtype)
    text = str(spec)
    if text == "digits":
        x, y, classes = load_digits()
        return Dataset(x.astype(_float_dtype(dtype), copy=False), y, classes, "digits", "digits")
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"data not found: {text} (expected 'digits', an .h5 file or a folder)")
    if not path.is_dir():
        path = require_regular_file(path, "data file", DataFormatError)  # a FIFO or device: refused
        if path.suffix.lower() not in _H5_SUFFIXES:
            raise DataFormatError(
                f"{path}: unsupported data file (expected an .h5 file, "
                "or a folder of MNIST IDX files or of images)"
            )
        x8, y, classes = load_h5(path)
        return Dataset(normalize(x8, 255.0, dtype), y, classes, path.stem, "h5")
    pair = find_mnist_pair(path)
    if pair is not None:
        x8, y = load_idx(*pair)
        if x8.ndim != 3:
            raise DataFormatError(f"{pair[0]}: expected 3-D MNIST images (m, rows, cols), got {x8.shape}")
        classes = [str(k) for k in range(10)]
        if y.size and y.max() >= len(classes):
            raise DataFormatError(f"{pair[1]}: MNIST labels must lie in 0..9, got a {int(y.max())}")
        return Dataset(normalize(x8[..., np.newaxis], 255.0, dtype), y, classes, "mnist", "mnist")
    has_subfolders = any(p.is_dir() for p in path.iterdir())
    if not has_subfolders:
        raise DataFormatError(
            f"{path}: no MNIST IDX pair and no class sub-folders of {'/'.join(IMAGE_EXTENSIONS)} images"
        )
    size = DEFAULT_IMAGE_SIZE if image_size is None else image_size
    x8, y, classes = load_image_folder(path, size, channels)
    return Dataset(normalize(x8, 255.0, dtype), y, classes, path.resolve().name, "images")
