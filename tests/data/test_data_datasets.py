"""deepstep.data.load_dataset: names and paths to scaled NHWC arrays."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from deepstep.data import DataFormatError, load_dataset


def test_digits():
    pytest.importorskip("sklearn")
    ds = load_dataset("digits", dtype="float64")
    assert ds.x.shape == (1797, 8, 8, 1) and ds.x.dtype == np.float64
    assert ds.name == "digits" and ds.kind == "digits" and len(ds.classes) == 10


def test_dtype_must_be_float32_or_float64():
    pytest.importorskip("sklearn")
    assert load_dataset("digits", dtype="float64").x.dtype == np.float64
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'int32'"):
        load_dataset("digits", dtype="int32")


def test_h5_file(data_dir):
    pytest.importorskip("h5py")
    ds = load_dataset(data_dir / "test_signs.h5")
    assert ds.x.shape == (120, 64, 64, 3) and ds.x.dtype == np.float32
    assert 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    assert ds.name == "test_signs" and ds.kind == "h5" and len(ds.classes) == 6


def test_mnist_folder(data_dir, tmp_path):
    # The shared folder itself holds the t10k pair; a raw (not gzipped) copy works too.
    ds = load_dataset(data_dir)
    assert ds.x.shape == (10000, 28, 28, 1) and ds.kind == "mnist" and ds.name == "mnist"
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(data_dir / f"{stem}.gz") as src, open(tmp_path / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    np.testing.assert_array_equal(load_dataset(tmp_path).y, ds.y)


def test_image_folder(tmp_path):
    image = pytest.importorskip("PIL.Image")
    for cls in ("b", "a"):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        image.fromarray(np.full((9, 9, 3), 255, np.uint8)).save(tmp_path / "pics" / cls / "1.png")
    ds = load_dataset(tmp_path / "pics", image_size=5)
    assert ds.x.shape == (2, 5, 5, 3) and ds.classes == ["a", "b"] and ds.kind == "images"
    np.testing.assert_allclose(ds.x, 1.0)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data not found: .*nope"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(DataFormatError, match=r"x\.csv: unsupported data file"):
        load_dataset(tmp_path / "x.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="no MNIST IDX pair and no class sub-folders"):
        load_dataset(tmp_path / "empty")
