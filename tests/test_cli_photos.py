"""deepstep train on a folder of photos: --classes, --color-mode, --augment, the summary, per-class results.

A tmp folder of a few generated photos stands in for sign-digits (the suite stays fast).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_main
from deepstep.commands.common import held_out_indices
from deepstep.commands.photos import augment_transform, folder_split, parse_augment, parse_classes

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture
def photos(tmp_path):
    """4 class folders of 8 small photos each (class 3 unused by --classes), one odd size, one stray file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "signs"
    for k in range(4):
        (root / str(k)).mkdir(parents=True)
        for i in range(8):
            pixels = np.clip(rng.normal(40 + 60 * k, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
            PIL.fromarray(pixels).save(root / str(k) / f"img_{i}.png")
    PIL.fromarray(np.full((30, 30, 3), 100, np.uint8)).save(root / "1" / "big.jpg")
    (root / "0" / "notes.txt").write_text("not an image")
    return root


def test_parse_classes_and_augment():
    assert parse_classes("0,1, 2") == ["0", "1", "2"]
    assert parse_augment("flip,rotate") == ["flip", "rotate"]
    assert parse_augment("light,zoom") == ["flip", "translate", "zoom"]
    assert parse_augment("none") == [] and augment_transform([]) is None
    for bad, message in (("0,,1", "separated by commas"), ("1,1", "named twice")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse_classes(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="unknown augmentation 'blur'"):
        parse_augment("flip,blur")


def test_folder_split_selects_the_images_of_the_array_split(photos):
    from deepstep.data import load_dataset, train_val_split

    split = folder_split(photos, (12, 12), None, "rgb", seed=3, val_split=0.25, dtype="float32", augment=[])
    arrays = load_dataset(str(photos), image_size=(12, 12))
    rest, test = held_out_indices(arrays.y, 3)
    (x_train, y_train), (x_val, y_val) = train_val_split(arrays.x[rest], arrays.y[rest], 0.25, seed=4,
                                                         stratify=True)
    for subset, x, y in ((split.train, x_train, y_train), (split.validation, x_val, y_val),
                         (split.test, arrays.x[test], arrays.y[test])):
        sx, sy = subset.to_arrays()
        np.testing.assert_array_equal(sy, y)
        np.testing.assert_allclose(sx, x, atol=1e-6)


def test_train_on_photos_streams_summarises_and_reports_per_class(photos, tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, err = run_main(
        capsys, "train", "--data", photos, "--classes", "0,1,2", "--image-size", "16", "--model",
        "signs_convnet", "--epochs", "2", "--batch-size", "8", "--augment", "flip,translate,contrast",
        "--out", out, "--quiet")
    assert status == 0, err
    assert "3 classes" in stdout and "odd files" in stdout and "1/big.jpg: 30x30" in stdout
    assert "skipped 1 non-image files" in stdout
    assert "augment: flip, translate, contrast" in stdout
    assert "precision" in stdout and "recall" in stdout
    assert (out / "confusion_matrix.png").is_file() and (out / "model.npz").is_file()
    run = json.loads((out / "run.json").read_text())
    assert run["classes"] == ["0", "1", "2"] and run["augment"] == ["flip", "translate", "contrast"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 2 and "test_accuracy" in history
    assert history["per_class"]["precision"].keys() == {"0", "1", "2"}
    # evaluate / predict / visualize read the run's classes (3 of the folder's 4) and its test images
    status, stdout, err = run_main(capsys, "evaluate", out / "model.npz", "--out", tmp_path / "eval")
    assert status == 0, err
    assert "test subset: the 6 of 25 images of signs held out by the run (seed 0, 20%)" in stdout
    assert (tmp_path / "eval" / "confusion_matrix.png").is_file()
    status, stdout, err = run_main(capsys, "predict", out / "model.npz")
    assert status == 0, err
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 + 6 + 1 and lines[-1].startswith("accuracy: ")
    assert all(line.split()[0].split("/")[0] in {"0", "1", "2"} for line in lines[1:-1]), lines
    status, stdout, err = run_main(capsys, "visualize", out / "model.npz", "--out", tmp_path / "maps")
    assert status == 0, err
    assert stdout.startswith("held-out test image ")


def test_grayscale_photos_build_a_one_channel_model(photos, tmp_path, capsys):
    import deepstep

    out = tmp_path / "gray"
    status, stdout, err = run_main(capsys, "train", "--data", photos, "--color-mode", "grayscale",
                                   "--image-size", "16", "--model", "signs_convnet", "--epochs", "1",
                                   "--out", out, "--quiet")
    assert status == 0, err
    assert deepstep.load(out / "model.npz").input_shape == (16, 16, 1)


@pytest.mark.parametrize("args, fragments", [
    (("--classes", "0,7"), ("7",)),
    (("--augment", "blur"), ("--augment", "unknown augmentation 'blur'")),
])
def test_bad_photo_options_are_one_line(photos, tmp_path, capsys, args, fragments):
    status, _, err = run_main(capsys, "train", "--data", photos, "--out", tmp_path / "x", "--epochs", "1",
                              "--model", "signs_convnet", *args)
    assert_one_line_error(status, err, *fragments)


def test_photo_options_need_an_image_folder(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--data", "digits", "--augment", "flip",
                              "--out", tmp_path / "d")
    assert_one_line_error(status, err, "--augment", "image folder")
