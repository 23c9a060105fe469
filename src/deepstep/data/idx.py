"""MNIST's IDX files (LeCun's original format), gzipped or raw."""

from __future__ import annotations

import gzip
import zlib
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import DataFormatError

__all__ = ["read_idx", "load_idx", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_GZIP_SIGNATURE = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == _GZIP_SIGNATURE:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc
    return raw


def read_idx(path: str | PathLike[str], magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes and return its array.

    Header (big-endian): a 4-byte magic number ``0x0000 08 NDIM`` (``0x08`` = unsigned
    byte) then ``NDIM`` 4-byte sizes, then ``prod(sizes)`` bytes of data.

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
        On a wrong magic number, a short header, or a data size that does not match the header.
    """
    path = Path(path)
    raw = _read_bytes(path)
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    if len(raw) < 4:
        raise DataFormatError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataFormatError(
            f"{path}: wrong IDX magic number {found} (expected {magic} for an MNIST {kind} file)"
        )
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataFormatError(f"{path}: truncated IDX header ({len(raw)} of {header_len} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64)) + header_len
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "too long"
        raise DataFormatError(
            f"{path}: IDX data {problem}: header says shape {dims} ({expected} bytes), "
            f"file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims).copy()


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
