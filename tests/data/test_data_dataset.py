"""deepstep.data.dataset: image-folder and array datasets, splits, batches, cache, summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepstep.data import (
    ArrayDataset,
    BatchLoader,
    DataFormatError,
    ImageFolderDataset,
    load_image,
    load_image_folder,
)
from deepstep.data.augment import RandomFlip

Image = pytest.importorskip("PIL.Image")

COUNTS = {"cat": 5, "dog": 7, "eel": 3}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three classes of small random PNGs of varied sizes, plus a text file and a hidden file."""
    rng = np.random.default_rng(0)
    for name, count in COUNTS.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            h, w = (9, 11) if i else (20, 16)  # the first of each class is larger
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "dog" / ".hidden.png").write_bytes(b"")
    return tmp_path


def test_lists_files_and_labels_without_decoding(folder):
    ds = ImageFolderDataset(folder, image_size=(6, 8))
    assert ds.classes == ["cat", "dog", "eel"] and len(ds) == 15
    assert ds.class_counts() == COUNTS
    assert ds.image_shape == (6, 8, 3) and ds.cached_images == 0
    assert ds.skipped_files == 1
    assert [p.parent.name for p in ds.files] == ["cat"] * 5 + ["dog"] * 7 + ["eel"] * 3


def test_batches_equal_the_eager_loader(folder):
    x8, y, classes = load_image_folder(folder, (6, 8))
    ds = ImageFolderDataset(folder, image_size=(6, 8), num_workers=2)
    x, labels = ds.to_arrays(batch_size=4)
    assert classes == ds.classes
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_allclose(x, x8.astype(np.float32) / np.float32(255), rtol=0, atol=0)
    assert x.dtype == np.float32 and ds.cached_images == 15


def test_class_selection_sets_the_label_order(folder):
    ds = ImageFolderDataset(folder, 4, classes=["eel", "cat"], color_mode="grayscale", dtype="float64")
    assert ds.classes == ["eel", "cat"] and ds.class_counts() == {"eel": 3, "cat": 5}
    x, y = ds.load_batch([0, 3])
    assert x.shape == (2, 4, 4, 1) and x.dtype == np.float64 and y.tolist() == [0, 1]
    np.testing.assert_array_equal(x[1], load_image(folder / "cat" / "0.png", 4, 1) / 255.0)
    with pytest.raises(DataFormatError, match="'fox'.*found: cat, dog, eel"):
        ImageFolderDataset(folder, classes=["cat", "fox"])
    with pytest.raises(ValueError, match="repeat"):
        ImageFolderDataset(folder, classes=["cat", "cat"])


def test_integer_class_names_and_bad_arguments(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        ImageFolderDataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="color_mode"):
        ImageFolderDataset(folder, color_mode="cmyk")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataFormatError, match="no class sub-folders"):
        ImageFolderDataset(empty)
    (tmp_path / "digits" / "0").mkdir(parents=True)
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "digits" / "0" / "a.jpg")
    assert ImageFolderDataset(tmp_path / "digits", classes=[0]).classes == ["0"]


@pytest.mark.parametrize("stratify", [True, False])
def test_split_is_disjoint_complete_deterministic_and_stratified(stratify):
    y = np.repeat(np.arange(3), [40, 20, 10])
    ds = ArrayDataset(np.zeros((70, 2, 2, 1)), y)
    train, val, test = ds.split(0.2, 0.1, seed=3, stratify=stratify)
    parts = [train, val, test]
    assert [len(p) for p in parts] == [49, 14, 7]
    if stratify:
        assert val.class_counts() == {"0": 8, "1": 4, "2": 2}
        assert test.class_counts() == {"0": 4, "1": 2, "2": 1}
    again = ds.split(0.2, 0.1, seed=3, stratify=stratify)
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)


def test_split_assigns_each_sample_once_and_depends_on_the_seed(rng):
    x = np.arange(60, dtype=np.float64).reshape(60, 1, 1, 1)  # the pixel is the sample's id
    ds = ArrayDataset(x, np.repeat([0, 1, 2], 20))
    train, val, test = ds.split(0.25, 0.25, seed=0)
    ids = [p.to_arrays()[0].ravel() for p in (train, val, test)]
    np.testing.assert_array_equal(np.sort(np.concatenate(ids)), np.arange(60))
    other = ds.split(0.25, 0.25, seed=1).validation.to_arrays()[0].ravel()
    assert not np.array_equal(np.sort(other), np.sort(ids[1]))
    train_only, no_val, no_test = ds.split(0.0)
    assert len(train_only) == 60 and no_val is None and no_test is None
    with pytest.raises(ValueError, match="< 1"):
        ds.split(0.6, 0.4)
    with pytest.raises(ValueError, match="validation_split"):
        ds.split(-0.1)


def test_batches_shuffle_per_epoch_reproducibly_and_cover_every_sample():
    x = np.arange(10, dtype=np.float64).reshape(10, 1, 1, 1)
    ds = ArrayDataset(x, np.zeros(10, int))
    def ids(**kw):
        return [xb.ravel().tolist() for xb, _ in ds.batches(4, **kw)]
    assert ids() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    e0, e0_again, e1 = ids(shuffle=True, epoch=0), ids(shuffle=True, epoch=0), ids(shuffle=True, epoch=1)
    assert e0 == e0_again and e0 != e1
    assert sorted(sum(e0, [])) == list(range(10))
    assert len(ids(shuffle=True, drop_last=True)) == 2 == ds.num_batches(4, drop_last=True)
    assert ds.num_batches(4) == 3


def test_transform_applies_to_training_batches_only_and_is_thread_independent(folder):
    calls = []

    def mark(x, rng):
        calls.append(x.shape[0])
        return x + rng.uniform(0, 1)

    results = []
    for workers in (0, 3):
        ds = ImageFolderDataset(folder, 5, transform=mark, num_workers=workers)
        plain = [x for x, _ in ds.batches(4, shuffle=True, seed=2, epoch=1)]
        assert calls == []
        augmented = [x for x, _ in ds.batches(4, shuffle=True, seed=2, epoch=1, training=True)]
        assert calls == [4, 4, 4, 3]
        calls.clear()
        assert all(np.all(a > p) for a, p in zip(augmented, plain, strict=True))
        results.append(augmented)
        ds.close()
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_cache_respects_its_budget(folder):
    one = 4 * 4 * 3  # bytes of one decoded 4x4 RGB image
    ds = ImageFolderDataset(folder, 4, cache_bytes=5 * one, num_workers=0)
    first = ds.to_arrays()[0]
    assert ds.cached_images == 5
    np.testing.assert_array_equal(ds.to_arrays()[0], first)
    none = ImageFolderDataset(folder, 4, cache_bytes=0)
    np.testing.assert_array_equal(none.to_arrays()[0], first)
    assert none.cached_images == 0
    train, val, _ = ds.split(0.4)
    assert train._state is ds._state  # subsets share the decoded images


def test_an_unreadable_image_names_the_file_and_shows_in_the_summary(folder):
    (folder / "eel" / "broken.png").write_bytes(b"not a png")
    ds = ImageFolderDataset(folder, 4, classes=["eel"])
    with pytest.raises(DataFormatError, match="broken.png"):
        ds.to_arrays()
    summary = ds.summary()
    assert ("eel/broken.png", "unreadable (UnidentifiedImageError)") in summary.odd_files


def test_summary_counts_sizes_and_flags_odd_files(folder):
    summary = ImageFolderDataset(folder, (6, 8)).summary()
    assert summary.total == 15 and summary.counts == COUNTS
    assert summary.sizes == {(11, 9): 12, (16, 20): 3}
    assert sorted(p for p, _ in summary.odd_files) == ["cat/0.png", "dog/0.png", "eel/0.png"]
    text = str(summary)
    assert "15 images in 3 classes, resized to 6x8 rgb" in text
    assert "16x20 RGB (most are 11x9)" in text and "skipped 1 non-image files" in text


def test_array_dataset_scales_uint8_and_keeps_floats(rng):
    x8 = rng.integers(0, 256, (6, 3, 3, 1), dtype=np.uint8)
    ds = ArrayDataset(x8, [0, 1, 0, 1, 2, 2], classes=["a", "b", "c"])
    x, y = ds.load_batch([1, 4])
    np.testing.assert_allclose(x, x8[[1, 4]] / np.float32(255))
    assert x.dtype == np.float32 and y.tolist() == [1, 2]
    xf = rng.standard_normal((6, 3, 3, 1))
    np.testing.assert_array_equal(ArrayDataset(xf, np.zeros(6, int), dtype="float64").to_arrays()[0], xf)
    summary = ds.summary()
    assert summary.counts == {"a": 2, "b": 2, "c": 2} and summary.color_mode == "grayscale"
    assert "6 images in 3 classes, resized to 3x3 grayscale" in str(summary)
    with pytest.raises(ValueError, match="same number of samples"):
        ArrayDataset(x8, [0, 1])
    with pytest.raises(ValueError, match="class index"):
        ArrayDataset(x8, [0, 1, 0, 1, 2, 2], classes=["a"])


def test_loader_is_an_iterable_of_epochs_with_a_length():
    x = np.arange(10, dtype=np.float64).reshape(10, 1, 1, 1)
    ds = ArrayDataset(x, np.zeros(10, int), transform=RandomFlip("horizontal"))
    loader = ds.loader(batch_size=3, shuffle=True, seed=5)
    assert isinstance(loader, BatchLoader) and len(loader) == 4 and loader.training
    epoch0 = [xb.ravel().tolist() for xb, _ in loader]
    epoch1 = [xb.ravel().tolist() for xb, _ in loader]
    assert epoch0 != epoch1 and loader.epoch == 2
    loader.set_epoch(0)
    assert [xb.ravel().tolist() for xb, _ in loader] == epoch0
    assert [xb.ravel().tolist() for xb, _ in ds.batches(3, True, 5, 1, training=True)] == epoch1


def test_subset_and_with_transform(rng):
    ds = ArrayDataset(rng.standard_normal((5, 2, 2, 1)), [0, 1, 2, 1, 0])
    sub = ds.subset([4, 1])
    assert sub.labels.tolist() == [0, 1]
    assert ds.with_transform(RandomFlip()).transform is not None and ds.transform is None
    with pytest.raises(ValueError, match="indices"):
        ds.subset([5])
    with pytest.raises(TypeError, match="transform"):
        ds.with_transform(3)


def test_sign_digits_summary_finds_the_three_large_photos(data_dir):
    ds = ImageFolderDataset(data_dir / "sign-digits", 64, classes=range(6))
    assert len(ds) == 1237 and ds.classes == ["0", "1", "2", "3", "4", "5"]
    full = ImageFolderDataset(data_dir / "sign-digits", 64).summary()
    assert full.total == 2062
    assert full.sizes[(3024, 3024)] == 3 and full.sizes[(100, 100)] == 2059
    assert sorted(p for p, _ in full.odd_files) == ["7/IMG_5874.JPG", "7/IMG_5935.JPG", "7/IMG_5978.JPG"]
    train, val, test = ds.split(0.2, 0.2, seed=0)
    assert (len(train), len(val), len(test)) == (745, 246, 246)
    x, y = next(train.batches(8, shuffle=True))
    assert x.shape == (8, 64, 64, 3) and 0.0 <= x.min() and x.max() <= 1.0
