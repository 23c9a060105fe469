"""MNIST's IDX files (LeCun's original format), gzipped or raw."""

from __future__ import annotations

import gzip
import os
import zlib
from os import PathLike
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._files import require_regular_file
from .._limits import check_elements
from .._validation import brief_repr
from .errors import DataFormatError, describe

__all__ = ["read_idx", "load_idx", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_GZIP_SIGNATURE = b"\x1f\x8b"


def _read_into(stream: BinaryIO, into: memoryview) -> int:
    """Fill ``into`` from ``stream``; return the bytes read (fewer only at the end of the stream)."""
    filled = 0
    while filled < len(into):
        got = stream.readinto(into[filled:])
        if not got:
            break
        filled += got
    return filled


def _read_idx_stream(stream: BinaryIO, path: Path, magic: int, size_on_disk: int | None) -> np.ndarray:
    """Parse an IDX stream: header first, then exactly the data it announces (plus one byte to
    detect a too-long file). A gzip stream is inflated only that far, never all at once."""
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    head = stream.read(4)
    if len(head) < 4:
        raise DataFormatError(f"{path}: truncated IDX file ({len(head)} bytes, no header)")
    found = int.from_bytes(head, "big")
    if found != magic:
        raise DataFormatError(
            f"{path}: wrong IDX magic number {found} (expected {magic} for an MNIST {kind} file)"
        )
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataFormatError(f"{path}: truncated IDX header ({4 + len(sizes)} of {header_len} bytes)")
    dims = tuple(int.from_bytes(sizes[4 * i: 4 * i + 4], "big") for i in range(ndim))
    if 0 in dims:
        raise DataFormatError(f"{path}: IDX header declares an empty array, shape {dims}")
    count = check_elements(dims, f"{path}: IDX header", np.uint8, error=DataFormatError)
    expected = count + header_len
    if size_on_disk is not None and size_on_disk != expected:  # raw file: known without reading
        problem = "truncated" if size_on_disk < expected else "too long"
        raise DataFormatError(
            f"{path}: IDX data {problem}: header says shape {dims} ({expected} bytes), "
            f"file has {size_on_disk} bytes"
        )
    data = np.empty(count, dtype=np.uint8)
    got = _read_into(stream, memoryview(data))
    extra = len(stream.read(1)) if got == count else 0
    if got != count or extra:
        problem = "truncated" if got < count else "too long"
        have = f"{header_len + got} bytes" if got < count else f"more than {expected} bytes"
        raise DataFormatError(
            f"{path}: IDX data {problem}: header says shape {dims} ({expected} bytes), "
            f"the {'decompressed ' if size_on_disk is None else ''}file has {have}"
        )
    return data.reshape(dims)


def read_idx(path: str | PathLike[str], magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes and return its array.

    Header (big-endian): a 4-byte magic number ``0x0000 08 NDIM`` (``0x08`` = unsigned
    byte) then ``NDIM`` 4-byte sizes, then ``prod(sizes)`` bytes of data.

    A gzipped file is streamed: its header is decompressed and checked (sizes within the
    budget of :mod:`deepstep._limits`) before the data, and no more than the announced data
    plus one byte is ever inflated, so a small file that expands to gigabytes is refused cheaply.

    Parameters
    ----------
    path : str or path-like
        The file, gzipped (detected by its signature) or raw.
    magic : int
        The magic number expected: :data:`IMAGES_MAGIC` (2051) or :data:`LABELS_MAGIC` (2049).

    Returns
    -------
    ndarray of uint8 with the shape given by the header.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataFormatError
        On a wrong magic number, a short header, an empty or oversized declared shape, a corrupt
        gzip stream, or a data size that does not match the header.
    """
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise ValueError(
            f"magic must be {IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels), got {brief_repr(magic)}"
        )
    path = require_regular_file(path, "data file", DataFormatError)
    try:
        with open(path, "rb") as raw:
            if raw.read(2) == _GZIP_SIGNATURE:
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _read_idx_stream(stream, path, magic, None)
            raw.seek(0)
            return _read_idx_stream(raw, path, magic, os.fstat(raw.fileno()).st_size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFormatError(f"{path}: corrupt or truncated gzip stream ({describe(exc)})") from exc


def load_idx(
    images_path: str | PathLike[str], labels_path: str | PathLike[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST images/labels pair of IDX files.

    Parameters
    ----------
    images_path : str or path-like
        e.g. ``t10k-images-idx3-ubyte.gz`` (magic 2051).
    labels_path : str or path-like
        e.g. ``t10k-labels-idx1-ubyte.gz`` (magic 2049).

    Returns
    -------
    x : ndarray of uint8, shape (m, rows, cols)
    y : ndarray of int64, shape (m,)

    Raises
    ------
    DataFormatError
        If either file is malformed or the image and label counts differ.
    """
    x = read_idx(images_path, IMAGES_MAGIC)
    y = read_idx(labels_path, LABELS_MAGIC).astype(np.int64)
    if x.shape[0] != y.shape[0]:
        raise DataFormatError(
            f"{images_path} holds {x.shape[0]} images but {labels_path} holds {y.shape[0]} labels"
        )
    return x, y
