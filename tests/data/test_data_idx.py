"""deepstep.data.load_idx on the real MNIST test set and on corrupt IDX files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from deepstep.data import DataFormatError, load_idx, read_idx


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def pair(tmp_path, rng):
    images = rng.integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    (tmp_path / "img").write_bytes(_idx_bytes(images, 2051))
    (tmp_path / "lab.gz").write_bytes(gzip.compress(_idx_bytes(labels, 2049)))
    return tmp_path / "img", tmp_path / "lab.gz", images, labels


def test_real_mnist(data_dir):
    x, y = load_idx(data_dir / "t10k-images-idx3-ubyte.gz", data_dir / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    assert y[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test labels
    assert np.bincount(y).tolist()[:2] == [980, 1135]


def test_raw_and_gzip_round_trip(pair):
    images_path, labels_path, images, labels = pair
    x, y = load_idx(images_path, labels_path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_wrong_magic(pair):
    images_path, labels_path, _, _ = pair
    with pytest.raises(DataFormatError, match=r"lab\.gz: wrong IDX magic number 2049 \(expected 2051"):
        load_idx(labels_path, images_path)


def test_truncated_data(tmp_path, pair):
    images_path, labels_path, _, _ = pair
    cut = tmp_path / "cut"
    cut.write_bytes(images_path.read_bytes()[:-7])
    with pytest.raises(DataFormatError, match=r"cut: IDX data truncated: header says shape \(6, 5, 4\)"):
        load_idx(cut, labels_path)


def test_too_long_and_short_header(tmp_path, pair):
    images_path, _, _, _ = pair
    long = tmp_path / "long"
    long.write_bytes(images_path.read_bytes() + b"\0")
    with pytest.raises(DataFormatError, match="IDX data too long"):
        read_idx(long, 2051)
    short = tmp_path / "short"
    short.write_bytes(images_path.read_bytes()[:9])
    with pytest.raises(DataFormatError, match=r"truncated IDX header \(9 of 16 bytes\)"):
        read_idx(short, 2051)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DataFormatError, match="no header"):
        read_idx(empty, 2051)


def test_corrupt_gzip(tmp_path, pair):
    _, labels_path, _, _ = pair
    bad = tmp_path / "bad.gz"
    bad.write_bytes(labels_path.read_bytes()[:12])
    with pytest.raises(DataFormatError, match=r"bad\.gz: corrupt or truncated gzip"):
        read_idx(bad, 2049)


def test_count_mismatch(tmp_path, pair):
    images_path, _, _, _ = pair
    labels = tmp_path / "labels"
    labels.write_bytes(_idx_bytes(np.zeros(4, np.uint8), 2049))
    with pytest.raises(DataFormatError, match="holds 6 images but .* holds 4 labels"):
        load_idx(images_path, labels)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file not found"):
        read_idx(tmp_path / "none", 2051)
