"""Image files: one image for prediction, or a folder with one sub-folder per class."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .._files import require_regular_file
from .._limits import MAX_IMAGE_PIXELS, check_elements
from .._validation import brief_repr, check_int
from ._optional import require
from .errors import DataFormatError, describe

__all__ = ["IMAGE_EXTENSIONS", "load_image", "load_image_folder", "as_image_size"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_MODES = {1: "L", 3: "RGB"}


def as_image_size(image_size: int | Sequence[int]) -> tuple[int, int]:
    """Return ``image_size`` as ``(height, width)``; an int means a square.

    Raises ``TypeError`` for anything but an int or a pair of ints, ``ValueError`` for sizes
    below 1 or an image beyond the size budget (:mod:`deepstep._limits`).
    """
    if isinstance(image_size, int | np.integer) and not isinstance(image_size, bool):
        side = check_int(image_size, "image_size", minimum=1)
        size = (side, side)
    elif isinstance(image_size, tuple | list):
        if len(image_size) != 2:
            raise ValueError(f"image_size must be an int or (height, width), got {brief_repr(image_size)}")
        size = (check_int(image_size[0], "image_size[0]", 1), check_int(image_size[1], "image_size[1]", 1))
    else:
        raise TypeError(f"image_size must be an int or (height, width), got {brief_repr(image_size)}")
    check_elements((*size, 3), "image_size", np.uint8)
    return size


def _check_channels(channels: Any) -> int:
    is_int = isinstance(channels, int | np.integer) and not isinstance(channels, bool)
    if not is_int or int(channels) not in _MODES:
        raise ValueError(f"channels must be 1 or 3, got {brief_repr(channels)}")
    return int(channels)


def _scale_range(a: np.ndarray, path: Path) -> tuple[float, float]:
    """``(low, span)`` such that ``(a - low) / span`` maps the image's nominal range onto 0..1.

    Unsigned integers use their full range (16-bit: 0..65535). 32-bit integers (Pillow's mode
    ``"I"``) are 16-bit samples when every value fits 0..65535 (how Pillow decodes 16-bit PNG,
    TIFF and PGM in several versions), else the whole int32 range. Floats (mode ``"F"``) must
    be finite and lie in 0..1 or in 0..255.
    """
    if a.dtype.kind == "u":
        return 0.0, float(np.iinfo(a.dtype).max)
    if a.dtype.kind == "i":
        info = np.iinfo(a.dtype)
        if a.size and int(a.min()) >= 0 and int(a.max()) <= 65535:
            return 0.0, 65535.0
        return float(info.min), float(info.max) - float(info.min)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise DataFormatError(f"{path}: floating-point image holds NaN or infinite values")
        low, high = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        if low >= 0 and high <= 1:
            return 0.0, 1.0
        if low >= 0 and high <= 255:
            return 0.0, 255.0
        raise DataFormatError(
            f"{path}: floating-point image values must lie in 0..1 or 0..255, got {low:g}..{high:g}"
        )
    raise DataFormatError(f"{path}: unsupported pixel type {a.dtype}")


def _to_8bit(img: Any, image_module: Any, path: Path) -> Any:
    """An 8-bit image (any Pillow mode) with the same content; deeper images are *scaled*.

    Pillow's own ``convert("L")`` clips 16-bit and 32-bit samples at 255 (a 16-bit PNG comes
    out all white), so those are mapped linearly from their nominal range (:func:`_scale_range`)
    onto 0..255 and rounded. Images that are already 8-bit (or 1-bit) are returned as they are.
    """
    if img.mode not in ("I", "F") and not img.mode.startswith("I;"):  # 1-bit or 8 bits per band
        return img
    a = np.asarray(img)
    if a.ndim != 2:
        raise DataFormatError(f"{path}: unsupported image mode {img.mode!r} ({a.dtype}, {a.ndim}-D)")
    low, span = _scale_range(a, path)
    work = np.float32 if a.dtype.itemsize <= 2 else np.float64  # float32 holds 16-bit values exactly
    scaled = (a.astype(work) - work(low)) * work(255.0 / span)
    return image_module.fromarray(np.rint(scaled).clip(0, 255).astype(np.uint8), "L")


def _convert(img: Any, mode: str, path: Path) -> Any:
    """``img.convert(mode)``, through RGB for modes Pillow cannot convert directly (e.g. LAB to L)."""
    if img.mode == mode:
        return img
    try:
        return img.convert(mode)
    except ValueError:
        if img.mode == "RGB":
            raise
        return img.convert("RGB").convert(mode)


def load_image(
    path: str | PathLike[str], image_size: int | Sequence[int] | None = None, channels: int = 3
) -> np.ndarray:
    """Read one image file, convert it and resize it.

    Every Pillow mode is accepted: 1-bit, 8-bit grey, palette, RGB(A), grey with alpha, CMYK,
    YCbCr, LAB, HSV, 16-bit grey (``I;16`` in every byte order), 32-bit integer (``I``) and
    float (``F``). Deeper samples are scaled to 0..255, never clipped (see :func:`_to_8bit`);
    alpha is dropped.

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
        If it is not a regular file, Pillow cannot read it, or its header declares more than
        :data:`deepstep._limits.MAX_IMAGE_PIXELS` pixels (checked before decoding).
    """
    image_module = require("PIL.Image", "data", "reading image files")
    channels = _check_channels(channels)
    size = None if image_size is None else as_image_size(image_size)
    path = require_regular_file(path, "image file", DataFormatError)
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89,478,485 pixels; MAX_IMAGE_PIXELS below is the limit applied here.
            warnings.simplefilter("ignore", image_module.DecompressionBombWarning)
            img = image_module.open(path)
        with img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DataFormatError(
                    f"{path}: image of {width} x {height} pixels exceeds the limit of "
                    f"{MAX_IMAGE_PIXELS} pixels (a corrupt header or a decompression bomb?)"
                )
            img = _convert(_to_8bit(img, image_module, path), _MODES[channels], path)
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), image_module.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except DataFormatError:
        raise
    except (image_module.DecompressionBombError, image_module.DecompressionBombWarning) as exc:
        raise DataFormatError(f"{path}: image too large to decode safely ({describe(exc)})") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error, ...
        raise DataFormatError(f"{path}: unreadable image ({describe(exc)})") from exc
    if arr.ndim == 2:
        arr = arr[..., np.newaxis]
    return arr


def _image_files(folder: Path) -> list[Path]:
    """The image files of a class folder, sorted; an image name that is no regular file is an error.

    Hidden entries and names without an image extension are skipped (``notes.txt``, ``.DS_Store``).
    """
    files = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        try:
            files.append(require_regular_file(p, "image file", DataFormatError))
        except FileNotFoundError:
            raise DataFormatError(f"{p}: a dangling symbolic link (its target does not exist)") from None
        except IsADirectoryError:
            raise DataFormatError(f"{p}: a folder named like an image file") from None
    return files


def load_image_folder(
    root: str | PathLike[str], image_size: int | Sequence[int], channels: int = 3
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a folder of images laid out one sub-folder per class.

    ``root/cat/1.png``, ``root/dog/a.jpg``, ... Class names are the sub-folder names,
    sorted; files with extensions other than ``.png``, ``.jpg``, ``.jpeg`` (any case)
    and hidden entries are ignored. Every class sub-folder must hold at least one image.

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
        If it has no class sub-folders, a class sub-folder has no images, an entry named like
        an image is not a regular file (a FIFO, a dangling link, a folder), an image is
        unreadable, or all images together exceed the size budget.
    """
    h, w = as_image_size(image_size)
    channels = _check_channels(channels)
    if not isinstance(root, str | PathLike):
        raise TypeError(f"root must be a str or path-like, got {type(root).__name__}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataFormatError(f"{root}: no class sub-folders (expected one sub-folder of images per class)")
    exts = "/".join(IMAGE_EXTENSIONS)
    listing = [_image_files(class_dir) for class_dir in class_dirs]
    empty = [d.name for d, files in zip(class_dirs, listing, strict=True) if not files]
    if len(empty) == len(class_dirs):
        raise DataFormatError(f"{root}: no {exts} images in its class sub-folders")
    if empty:
        raise DataFormatError(
            f"{root}: class sub-folder(s) {', '.join(repr(e) for e in empty)} hold no {exts} images"
        )
    count = sum(len(files) for files in listing)
    check_elements((count, h, w, channels), f"{root}: {count} images of {h} x {w}", np.uint8,
                   error=DataFormatError)
    x = np.empty((count, h, w, channels), dtype=np.uint8)
    y = np.empty(count, dtype=np.int64)
    i = 0
    for index, files in enumerate(listing):
        for file in files:
            x[i] = load_image(file, (h, w), channels)
            y[i] = index
            i += 1
    return x, y, [p.name for p in class_dirs]
