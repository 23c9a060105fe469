"""Fuzz: corrupt data files end in a valid result or one DataFormatError naming the file, nothing else.

Each test draws a corruption (flipped bits, a truncation, random bytes, arbitrary header sizes)
of a small valid file; the loader must either return well-formed arrays (a flip inside the pixel
data is legitimately invisible) or raise :class:`DataFormatError` with the file's name in a one-line
message. A foreign exception, a traceback from h5py/Pillow/zlib, a hang or a huge allocation fails.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fuzz_files import assert_names_file, idx_bytes, image_bytes, small_h5_bytes
from hypothesis import given
from hypothesis import strategies as st

from deepstep.data import DataFormatError, load_h5, load_image, read_idx
from deepstep.data.idx import IMAGES_MAGIC, LABELS_MAGIC

with tempfile.TemporaryDirectory() as _tmp:
    H5 = small_h5_bytes(Path(_tmp))
PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
IDX3 = idx_bytes(IMAGES_MAGIC, (3, 4, 5))


def corrupt(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    """``data`` with bit ``b`` of byte ``p % len`` flipped for each ``(p, b)``, then cut to ``cut``."""
    out = bytearray(data)
    for pos, bit in flips:
        out[pos % len(out)] ^= 1 << bit
    return bytes(out[:cut] if cut is not None else out)


corruptions = st.tuples(
    st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 7)), max_size=4),
    st.one_of(st.none(), st.integers(0, 4096)),
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for the module's generated files (hypothesis cannot use a per-test tmp_path)."""
    return tmp_path_factory.mktemp("fuzz")


def _write(folder: Path, data: bytes, name: str) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@given(corruptions)
def test_corrupt_hdf5(scratch, corruption):
    path = _write(scratch, corrupt(H5, *corruption), "data.h5")
    try:
        x, y, classes = load_h5(path)
    except Exception as exc:  # noqa: BLE001 - the assertion below names what was raised
        assert_names_file(exc, path)
    else:
        assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[0] == y.shape[0] >= 1
        assert y.dtype == np.int64 and 0 <= y.min() and y.max() < len(classes)


def test_each_superblock_byte_of_hdf5_inverted(tmp_path):
    """Regression (issue 9): inverting byte 16 made h5py raise RuntimeError ('addr overflow')."""
    path = tmp_path / "data.h5"
    for position in range(96):
        data = bytearray(H5)
        data[position] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            load_h5(path)
        except Exception as exc:  # noqa: BLE001
            assert_names_file(exc, path)


@given(corruptions, st.booleans(), st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC]))
def test_corrupt_idx(scratch, corruption, gzipped, magic):
    data = corrupt(IDX3, *corruption)
    if gzipped:
        data = corrupt(gzip.compress(data), *corruption)
    path = _write(scratch, data, "images-idx3-ubyte.gz" if gzipped else "images-idx3-ubyte")
    try:
        arr = read_idx(path, magic)
    except Exception as exc:  # noqa: BLE001
        assert_names_file(exc, path)
    else:
        assert arr.dtype == np.uint8 and arr.ndim == (magic & 0xFF) and arr.size >= 1


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3), st.integers(0, 64), st.booleans())
def test_idx_with_arbitrary_header_sizes(scratch, dims, body_length, gzipped):
    """Any declared sizes: refused from the header (empty, over the budget) or compared with the body."""
    magic = 0x800 + len(dims)
    data = idx_bytes(magic, tuple(dims), bytes(body_length))
    path = _write(scratch, gzip.compress(data) if gzipped else data, "x-idx")
    try:
        arr = read_idx(path, IMAGES_MAGIC if len(dims) == 3 else LABELS_MAGIC)
    except Exception as exc:  # noqa: BLE001
        assert_names_file(exc, path)
    else:
        assert arr.shape == tuple(dims) and arr.size == body_length


@given(corruptions, st.sampled_from(["PNG", "JPEG"]), st.sampled_from([1, 3]))
def test_corrupt_images(scratch, corruption, fmt, channels):
    data = corrupt(PNG if fmt == "PNG" else JPEG, *corruption)
    path = _write(scratch, data, "image.png" if fmt == "PNG" else "image.jpg")
    try:
        arr = load_image(path, channels=channels)
    except Exception as exc:  # noqa: BLE001
        assert_names_file(exc, path)
    else:
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == channels


@given(st.binary(max_size=300), st.sampled_from(["h5", "idx", "png"]))
def test_random_bytes(scratch, data, kind):
    path = _write(scratch, data, {"h5": "x.h5", "idx": "x-idx", "png": "x.png"}[kind])
    with pytest.raises(DataFormatError) as info:
        if kind == "h5":
            load_h5(path)
        elif kind == "idx":
            read_idx(path, IMAGES_MAGIC)
        else:
            load_image(path)
    assert_names_file(info.value, path)
