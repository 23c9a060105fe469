"""deepstep.data.load_h5 on the real course files and on corrupt ones made here."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.data import DataFormatError, load_h5

h5py = pytest.importorskip("h5py")


def _write(path, **arrays):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    return path


def test_real_cat_files(data_dir):
    x, y, classes = load_h5(data_dir / "train_catvnoncat.h5")
    assert x.shape == (209, 64, 64, 3) and x.dtype == np.uint8
    assert y.shape == (209,) and y.dtype == np.int64
    assert classes == ["non-cat", "cat"]
    assert set(np.unique(y)) == {0, 1}
    x_test, y_test, _ = load_h5(data_dir / "test_catvnoncat.h5")
    assert x_test.shape == (50, 64, 64, 3) and y_test.shape == (50,)


def test_real_signs_file_has_integer_class_names(data_dir):
    x, y, classes = load_h5(data_dir / "test_signs.h5")
    assert x.shape == (120, 64, 64, 3)
    assert classes == ["0", "1", "2", "3", "4", "5"]
    assert y.min() == 0 and y.max() == 5


def test_round_trip_and_label_row_vector(tmp_path, rng):
    x = rng.integers(0, 256, size=(5, 4, 4, 3), dtype=np.uint8)
    y = np.array([[0, 1, 1, 0, 1]])  # the course's (1, m) layout
    path = _write(tmp_path / "t.h5", train_set_x=x, train_set_y=y, list_classes=np.array([b"a", b"b"]))
    x2, y2, classes = load_h5(path)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y.ravel())
    assert classes == ["a", "b"]


def test_grayscale_and_missing_class_list(tmp_path):
    x = np.zeros((3, 4, 4), dtype=np.uint8)
    path = _write(tmp_path / "g.h5", test_set_x=x, test_set_y=np.array([0, 2, 1]))
    x2, _, classes = load_h5(path)
    assert x2.shape == (3, 4, 4, 1)
    assert classes == ["0", "1", "2"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file not found"):
        load_h5(tmp_path / "nope.h5")


def test_not_hdf5(tmp_path):
    path = tmp_path / "fake.h5"
    path.write_bytes(b"this is not an HDF5 file" * 10)
    with pytest.raises(DataFormatError, match=r"fake\.h5: not an HDF5 file"):
        load_h5(path)


def test_truncated_hdf5(tmp_path, data_dir):
    raw = (data_dir / "test_signs.h5").read_bytes()
    path = tmp_path / "cut.h5"
    path.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(DataFormatError, match=r"cut\.h5"):
        load_h5(path)


def test_missing_keys(tmp_path):
    path = _write(tmp_path / "k.h5", images=np.zeros((2, 2, 2, 3), np.uint8))
    with pytest.raises(DataFormatError, match=r"expected keys 'train_set_x'.*got \['images'\]"):
        load_h5(path)


def test_count_mismatch(tmp_path):
    x = np.zeros((3, 2, 2, 3), np.uint8)
    path = _write(tmp_path / "m.h5", train_set_x=x, train_set_y=np.zeros(2, int))
    with pytest.raises(DataFormatError, match="3 images .* but 2 labels"):
        load_h5(path)


def test_label_out_of_range(tmp_path):
    path = _write(
        tmp_path / "r.h5", train_set_x=np.zeros((2, 2, 2, 3), np.uint8), train_set_y=np.array([0, 5]),
        list_classes=np.array([b"a", b"b"]),
    )
    with pytest.raises(DataFormatError, match=r"labels must lie in 0\.\.1"):
        load_h5(path)


def test_bad_pixels_and_rank(tmp_path):
    path = _write(tmp_path / "f.h5", train_set_x=np.full((2, 2, 2, 3), 0.5), train_set_y=np.array([0, 1]))
    with pytest.raises(DataFormatError, match="8-bit pixel values"):
        load_h5(path)
    path = _write(tmp_path / "r2.h5", train_set_x=np.zeros((2, 4), np.uint8), train_set_y=np.array([0, 1]))
    with pytest.raises(DataFormatError, match=r"must be 4-D"):
        load_h5(path)
