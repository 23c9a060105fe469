"""Small generated files for the fuzz and regression tests: valid ones to corrupt, and hostile ones.

Every hostile file is tiny on disk however large the array it declares: a PNG header claiming
100000 x 100000 pixels, an HDF5 dataset with a huge shape in chunked storage that was never
written, an IDX header with huge sizes and a short body, a gzip stream of zeros.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from deepstep.data import DataFormatError


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width x height`` 8-bit grey pixels, with a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def write_h5(path: Path, x: np.ndarray, y: np.ndarray, classes: list[bytes] | None = None,
             split: str = "train") -> Path:
    """A course-style HDF5 file with ``{split}_set_x``, ``{split}_set_y`` and ``list_classes``."""
    with h5py.File(path, "w") as f:
        f[f"{split}_set_x"] = x
        f[f"{split}_set_y"] = y
        if classes is not None:
            f["list_classes"] = np.array(classes)
    return path


def small_h5_bytes(tmp: Path) -> bytes:
    """The bytes of a valid 4-image HDF5 dataset (4 x 4 x 4 x 3, two classes)."""
    x = np.arange(4 * 4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 4, 3)
    return write_h5(tmp / "small.h5", x, np.array([[0, 1, 0, 1]]), [b"a", b"b"]).read_bytes()


def h5_declaring(path: Path, shape: tuple[int, ...]) -> Path:
    """An HDF5 file whose ``train_set_x`` declares ``shape`` in chunked storage never written."""
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", shape=shape, dtype="u1", chunks=True)
        f.create_dataset("train_set_y", shape=(shape[0],), dtype="i8", chunks=True)
    return path


def idx_bytes(magic: int, dims: tuple[int, ...], body: bytes | None = None) -> bytes:
    """An IDX file: magic, big-endian sizes, then ``body`` (default: exactly the declared data)."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    if body is None:
        body = (np.arange(int(np.prod(dims))) % 256).astype(np.uint8).tobytes()
    return header + body


def gzip_zeros(path: Path, header: bytes, zero_bytes: int, chunk: int = 2**20) -> Path:
    """``header`` followed by ``zero_bytes`` zeros, gzipped, written chunk by chunk (small on disk)."""
    block = bytes(chunk)
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(header)
        for start in range(0, zero_bytes, chunk):
            f.write(block[: min(chunk, zero_bytes - start)])
    return path


def image_bytes(fmt: str) -> bytes:
    """A valid 8 x 6 RGB image encoded as ``fmt`` ("PNG" or "JPEG")."""
    import io

    arr = (np.arange(8 * 6 * 3).reshape(8, 6, 3) * 5 % 256).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buffer, format=fmt)
    return buffer.getvalue()


def assert_names_file(exc: BaseException, path: Path) -> None:
    """The error is a DataFormatError whose message names ``path``."""
    assert isinstance(exc, DataFormatError), f"{type(exc).__name__}: {exc}"
    assert str(path) in str(exc), f"the message does not name {path}: {exc}"
    assert "\n" not in str(exc), f"the message is not one line: {exc!r}"
