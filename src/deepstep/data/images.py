"""Image files: one image for prediction, or a folder with one sub-folder per class."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from ._optional import require
from .errors import DataFormatError

__all__ = ["IMAGE_EXTENSIONS", "load_image", "load_image_folder", "as_image_size"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_MODES = {1: "L", 3: "RGB"}


def as_image_size(image_size: int | Sequence[int]) -> tuple[int, int]:
    """Return ``image_size`` as ``(height, width)``; an int means a square."""
    if isinstance(image_size, bool):
        raise TypeError(f"image_size must be an int or (height, width), got {image_size!r}")
    if isinstance(image_size, int | np.integer):
        size = (int(image_size), int(image_size))
    else:
        try:
            size = tuple(int(s) for s in image_size)
        except TypeError as exc:
            raise TypeError(f"image_size must be an int or (height, width), got {image_size!r}") from exc
        if len(size) != 2:
            raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}")
    if min(size) < 1:
        raise ValueError(f"image_size must be >= 1, got {image_size!r}")
    return size  # type: ignore[return-value]


def load_image(
    path: str | PathLike[str], image_size: int | Sequence[int] | None = None, channels: int = 3
) -> np.ndarray:
    """Read one image file, convert it and resize it.

    Parameters
    ----------
    path : str or path-like
        A PNG or JPEG file (any format Pillow reads).
    image_size : int or (height, width), optional
        Resize to this size (bilinear); ``None`` keeps the file's size.
    channels : {1, 3}
        1 converts to grayscale (``"L"``), 3 to RGB.

    Returns
    -------
    ndarray of uint8, shape (height, width, channels)

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataFormatError
        If Pillow cannot read it.
    """
    image_module = require("PIL.Image", "data", "reading image files")
    if channels not in _MODES:
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with image_module.open(path) as img:
            img = img.convert(_MODES[channels])
            if image_size is not None:
                h, w = as_image_size(image_size)
                if img.size != (w, h):
                    img = img.resize((w, h), image_module.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as exc:  # UnidentifiedImageError is an OSError
        raise DataFormatError(f"{path}: unreadable image ({type(exc).__name__}: {exc})") from exc
    if arr.ndim == 2:
        arr = arr[..., np.newaxis]
    return arr


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def load_image_folder(
    root: str | PathLike[str], image_size: int | Sequence[int], channels: int = 3
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a folder of images laid out one sub-folder per class.

    ``root/cat/1.png``, ``root/dog/a.jpg``, ... Class names are the sub-folder names,
    sorted; files with extensions other than ``.png``, ``.jpg``, ``.jpeg`` (any case)
    and hidden entries are ignored.

    Parameters
    ----------
    root : str or path-like
        The folder.
    image_size : int or (height, width)
        Every image is resized to this size.
    channels : {1, 3}
        3 (default) converts to RGB, 1 to grayscale.

    Returns
    -------
    x : ndarray of uint8, shape (m, height, width, channels)
    y : ndarray of int64, shape (m,)
    classes : list of str, sorted

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    DataFormatError
        If it has no class sub-folders or no images, or an image is unreadable.
    """
    root = Path(root)
    h, w = as_image_size(image_size)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataFormatError(f"{root}: no class sub-folders (expected one sub-folder of images per class)")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for index, class_dir in enumerate(class_dirs):
        for file in _image_files(class_dir):
            images.append(load_image(file, (h, w), channels))
            labels.append(index)
    if not images:
        exts = "/".join(IMAGE_EXTENSIONS)
        raise DataFormatError(f"{root}: no {exts} images in its class sub-folders")
    x = np.stack(images).astype(np.uint8, copy=False)
    return x, np.asarray(labels, dtype=np.int64), [p.name for p in class_dirs]
