"""The size budget: the most elements one array may have when its size comes from untrusted numbers.

File headers (HDF5 dataset shapes, IDX dimensions, image sizes, ``.npy`` headers), layer
configurations (units, filters, kernel sizes, input shapes) and hyper-parameters (pads, strides,
``num_classes``) all decide how large an array deepstep is about to allocate. A corrupt file or a
typing slip (``padding=100000``) would otherwise ask NumPy for terabytes and end in a
``MemoryError`` or, worse, in swapping. Every such boundary calls :func:`check_elements` with the
shape it is about to create *before* allocating, and gets a ``ValueError`` naming the argument or
the file and entry instead.

The limit
---------
:data:`MAX_ELEMENTS` = ``2**31`` elements per array (2 GiB as uint8, 8 GiB as float32, 16 GiB as
float64), overridable with the environment variable ``DEEPSTEP_MAX_ELEMENTS`` (a positive integer;
read at each check, so it also works when set after import). Evidence that it binds no real use:
the largest arrays deepstep handles are about 20x smaller -- MNIST's training images as float32,
60000 x 28 x 28 = 4.7e7; VGG-16's first dense kernel, 25088 x 4096 = 1.0e8; an ImageNet batch of
256 x 224 x 224 x 3 = 3.9e7; one VGG conv1 column buffer, 224 x 224 x 64 x 9 = 2.9e7. A per-array
element count (not bytes of physical memory) keeps the rule deterministic: the same file and the
same arguments are accepted or refused on every machine.

:data:`MAX_IMAGE_PIXELS` = ``2**27`` pixels (e.g. 11585 x 11585, 384 MiB decoded as RGB) bounds one
image file, checked from its header before it is decoded: any camera photo (<= 100 megapixels)
passes; Pillow's own decompression-bomb error (at 2 x 89,478,485 pixels) is reported the same way.

:data:`MAX_CLASSES` = ``2**20`` bounds a class count read from a file (the largest label in a
dataset without class names, the outputs a model's class list describes): the largest common label
set, ImageNet-21k, has 21,841 classes, 48x fewer. Each class costs a Python string, so this limit
is far below :data:`MAX_ELEMENTS`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np

from ._validation import brief_repr

__all__ = [
    "ENV_MAX_ELEMENTS",
    "MAX_CLASSES",
    "MAX_ELEMENTS",
    "MAX_IMAGE_PIXELS",
    "SizeLimitError",
    "check_elements",
    "format_bytes",
    "max_elements",
]

MAX_ELEMENTS = 2**31
MAX_IMAGE_PIXELS = 2**27
MAX_CLASSES = 2**20
ENV_MAX_ELEMENTS = "DEEPSTEP_MAX_ELEMENTS"


class SizeLimitError(ValueError):
    """An array about to be created would exceed the size budget (see :mod:`deepstep._limits`)."""


def max_elements() -> int:
    """The element limit in force: ``$DEEPSTEP_MAX_ELEMENTS`` if set, else :data:`MAX_ELEMENTS`.

    Raises
    ------
    ValueError
        If the environment variable is set but is not a positive integer.
    """
    text = os.environ.get(ENV_MAX_ELEMENTS, "").strip()
    if not text:
        return MAX_ELEMENTS
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"environment variable {ENV_MAX_ELEMENTS} must be a positive integer, got {text!r}")
    return int(text)


def format_bytes(nbytes: int) -> str:
    """``nbytes`` in the largest binary unit that keeps the number >= 1, e.g. ``"24 TiB"``."""
    if nbytes >= 1024**7:
        return f"more than {1024**7 // 1024**6} EiB"
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _as_shape(shape_or_count: Any, what: str, error: type[Exception]) -> tuple[int, ...]:
    if type(shape_or_count) is tuple:  # the common case, without the ABC checks (~4x faster)
        for dim in shape_or_count:
            if type(dim) is not int or dim < 0:
                break
        else:
            return shape_or_count
    items: Iterable[Any] = (shape_or_count,) if isinstance(shape_or_count, Integral) else shape_or_count
    try:
        shape = tuple(items)
    except TypeError:
        raise TypeError(
            f"{what}: a shape must be an int or a sequence of ints, got {brief_repr(shape_or_count)}"
        ) from None
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, Integral):
            raise error(
                f"{what}: sizes must be integers, got {brief_repr(dim)} in {brief_repr(shape_or_count)}"
            )
        if dim < 0:
            raise error(f"{what}: sizes must be >= 0, got {int(dim)} in {tuple(int(d) for d in shape)}")
    return tuple(int(d) for d in shape)


def check_elements(
    shape_or_count: int | Iterable[int],
    what: str,
    dtype: Any = None,
    error: type[Exception] = SizeLimitError,
) -> int:
    """Return the element count of ``shape_or_count``, or raise if it exceeds the budget.

    Call it with the shape of an array *before* creating it, whenever that shape comes from a
    file or an argument.

    Parameters
    ----------
    shape_or_count : int or sequence of int
        The array's shape, or its number of elements. Python ints of any size are fine (the
        product is computed exactly, without overflow).
    what : str
        What the array is, for the message: the argument (``"padding"``), or the file and entry
        (``"cats.h5: dataset 'train_set_x'"``).
    dtype : numpy dtype, optional
        Only used to state the size in bytes in the message.
    error : exception class
        Raised on failure; a ``ValueError`` subclass such as ``DataFormatError`` or
        ``ModelFormatError`` (default :class:`SizeLimitError`).

    Returns
    -------
    int
        ``prod(shape)``.

    Raises
    ------
    error
        If a size is negative or not an integer, or the product exceeds :func:`max_elements`.
    """
    shape = _as_shape(shape_or_count, what, error)
    count = math.prod(shape)
    limit = max_elements()
    if count > limit:
        described = f"{_format_count(count)} elements"
        if not isinstance(shape_or_count, Integral):
            dims = ", ".join(_format_count(d).replace("about ", "~") for d in shape)
            described = f"shape ({dims}{',' if len(shape) == 1 else ''}) = {described}"
        if dtype is not None:
            item = np.dtype(dtype)
            described += f" ({format_bytes(count * item.itemsize)} as {item})"
        raise error(
            f"{what}: {described} exceeds the limit of {limit} elements per array "
            f"(set {ENV_MAX_ELEMENTS} to change it)"
        )
    return count


def _format_count(count: int) -> str:
    """An exact count up to 15 digits, else ``"about 10^N"`` (a float would overflow past 1e308)."""
    digits = len(str(count)) if count < 10**4300 else None
    if digits is not None and digits <= 15:
        return str(count)
    return f"about 10^{digits - 1}" if digits is not None else "more than 10^4300"
