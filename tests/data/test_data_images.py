"""deepstep.data.load_image / load_image_folder on folders written by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.data import DataFormatError, load_image, load_image_folder

Image = pytest.importorskip("PIL.Image")


def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


@pytest.fixture
def folder(tmp_path, rng):
    root = tmp_path / "shapes"
    _save(root / "square" / "a.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    _save(root / "square" / "b.PNG", np.full((5, 5), 200, np.uint8))  # grayscale: converted to RGB
    _save(root / "circle" / "c.jpg", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    _save(root / "circle" / "d.png", rng.integers(0, 256, (8, 8, 4), dtype=np.uint8))  # RGBA
    (root / "circle" / "notes.txt").write_text("not an image, ignored")
    (root / ".hidden").mkdir()
    return root


def test_folder_layout(folder):
    x, y, classes = load_image_folder(folder, 6)
    assert classes == ["circle", "square"]
    assert x.shape == (4, 6, 6, 3) and x.dtype == np.uint8
    assert y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(x[3], 200)  # the uniform gray square stays uniform after resizing


def test_rectangular_size_and_grayscale(folder):
    x, y, _ = load_image_folder(folder, (4, 7), channels=1)
    assert x.shape == (4, 4, 7, 1) and x.dtype == np.uint8
    assert y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(x[3], 200)  # the uniform gray square, resized to 4x7, in one channel


def test_grayscale_uses_the_luma_weights(tmp_path):
    # ITU-R 601-2 luma, as PIL's "L" mode: L = (299 R + 587 G + 114 B) / 1000
    _save(tmp_path / "c" / "orange.png", np.tile(np.array([200, 100, 50], np.uint8), (3, 3, 1)))
    x, _, _ = load_image_folder(tmp_path, 3, channels=1)
    np.testing.assert_allclose(x[0].astype(float), (299 * 200 + 587 * 100 + 114 * 50) / 1000, atol=1)


def test_load_image_keeps_size_or_resizes(tmp_path, rng):
    arr = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    path = _save(tmp_path / "x.png", arr)
    np.testing.assert_array_equal(load_image(path), arr)
    assert load_image(path, (3, 5), channels=1).shape == (3, 5, 1)


def test_unreadable_image(folder):
    (folder / "square" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataFormatError, match=r"broken\.png: unreadable image"):
        load_image_folder(folder, 6)


def test_empty_folders(tmp_path):
    with pytest.raises(DataFormatError, match="no class sub-folders"):
        load_image_folder(tmp_path, 4)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "readme.txt").write_text("x")
    with pytest.raises(DataFormatError, match="no .png/.jpg/.jpeg images"):
        load_image_folder(tmp_path, 4)


def test_missing_paths_and_bad_arguments(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load_image_folder(tmp_path / "nope", 4)
    with pytest.raises(FileNotFoundError, match="image file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="image_size must be >= 1"):
        load_image_folder(folder, 0)
    with pytest.raises(ValueError, match=r"image_size must be an int or \(height, width\)"):
        load_image_folder(folder, (1, 2, 3))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        load_image(folder / "square" / "a.png", channels=2)
