"""The deepstep command line end to end, through ``python -m deepstep``: train a tiny run on the
bundled digits, then evaluate, predict, visualize, info and gradcheck it; Ctrl-C and --resume;
and the error paths that need the framework."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, cli_env, run_cli, run_main

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

TINY = ("--epochs", "1", "--batch-size", "128", "--quiet")


def _png_size(path):
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.load()
        return img.size


def _assert_png(path, min_side=150, max_side=3000):
    assert path.is_file(), path
    w, h = _png_size(path)
    assert min_side <= w <= max_side and min_side <= h <= max_side, (path, w, h)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny training run (1 epoch on digits, default output folder), shared by this module's tests."""
    cwd = tmp_path_factory.mktemp("cwd")
    result = run_cli("train", *TINY, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd / "runs" / "digits_cnn-digits", result


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory):
    """Three PNG files of digits 0, 1, 2: an 8x8 gray one, a 32x32 gray one and a 24x24 RGB one."""
    from sklearn.datasets import load_digits

    folder = tmp_path_factory.mktemp("pngs")
    images = load_digits().images
    gray = [np.clip(images[i] * 16, 0, 255).astype(np.uint8) for i in range(3)]
    paths = [folder / "zero.png", folder / "one.png", folder / "two.png"]
    Image.fromarray(gray[0]).save(paths[0])
    Image.fromarray(gray[1]).resize((32, 32), Image.Resampling.NEAREST).save(paths[1])
    Image.fromarray(np.repeat(gray[2][..., None], 3, axis=2)).resize((24, 24)).save(paths[2])
    return paths


def test_train_writes_model_history_and_curves(run_dir):
    out, result = run_dir
    text = result.stdout
    assert "data:  digits (1797 images 8x8x1, 10 classes)" in text
    assert "model: digits_cnn" in text
    assert re.search(r"split: 1295 train / 143 validation / 359 test \(seed 0\)", text)
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
    assert 0.3 < accuracy <= 1.0  # one epoch of 11 batches already learns something
    for name in ("model.npz", "history.json", "learning_curves.png"):
        assert os.path.join("runs", "digits_cnn-digits", name) in text
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == len(history["val_accuracy"]) == 1
    assert history["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert _png_size(out / "learning_curves.png") == (1000, 400)
    assert not (out / "checkpoint.npz").exists()
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "digits_cnn" and run["data"] == "digits" and run["epochs"] == 1


def test_evaluate(run_dir, tmp_path):
    out, _ = run_dir
    result = run_cli("evaluate", out / "model.npz", "--data", "digits", "--subset", "test", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"accuracy: [0-9.]+ \(\d+/359\) on digits \(test subset\)", result.stdout)
    assert "class  precision  recall  support" in result.stdout
    row = re.compile(r"^\d\s+[0-9.]+\s+[0-9.]+\s+\d+$")
    rows = [line.split() for line in result.stdout.splitlines() if row.match(line)]
    assert [r[0] for r in rows] == [str(d) for d in range(10)]
    assert sum(int(r[3]) for r in rows) == 359
    _assert_png(tmp_path / "confusion_matrix.png", min_side=300)
    _assert_png(tmp_path / "misclassified.png")


def test_predict(run_dir, digit_pngs):
    out, _ = run_dir
    result = run_cli("predict", out / "model.npz", *digit_pngs, "--top", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, digit_pngs, strict=True):
        match = re.match(rf"^{re.escape(str(path))}\s+(\d)\s+\(probability ([0-9.]+)\)\s+\[(.*)\]$", line)
        assert match, line
        top = [float(p.split(": ")[1]) for p in match.group(3).split(", ")]
        assert len(top) == 3 and top == sorted(top, reverse=True)
        assert float(match.group(2)) == top[0] and 0.1 <= top[0] <= 1.0


def test_predict_inverted_drawing(run_dir, digit_pngs, tmp_path):
    out, _ = run_dir
    with Image.open(digit_pngs[0]) as img:
        Image.fromarray(255 - np.asarray(img)).save(tmp_path / "dark_on_white.png")
    plain = run_cli("predict", out / "model.npz", digit_pngs[0])
    inverted = run_cli("predict", out / "model.npz", tmp_path / "dark_on_white.png", "--invert")
    assert plain.returncode == inverted.returncode == 0, plain.stderr + inverted.stderr
    assert plain.stdout.split()[1:] == inverted.stdout.split()[1:]


def test_visualize(run_dir, digit_pngs, tmp_path):
    out, _ = run_dir
    result = run_cli("visualize", out / "model.npz", digit_pngs[1], "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    written = [tmp_path / name for name in
               ("filters.png", "feature_maps_1_conv2d_1.png", "feature_maps_2_conv2d_2.png")]
    assert result.stdout.split() == [str(p) for p in written]
    for path in written:
        _assert_png(path, min_side=300)


def test_info(run_dir):
    out, _ = run_dir
    result = run_cli("info", out / "model.npz")
    assert result.returncode == 0, result.stderr
    for fragment in ("conv2d_1", "dense_1", "Total params", "classes: 0, 1, 2", "trained epochs: 1",
                     "input shape: (8, 8, 1)"):
        assert fragment in result.stdout


def test_gradcheck_model_file_and_zoo_name(run_dir):
    out, _ = run_dir
    result = run_cli("gradcheck", out / "model.npz")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "float64" in result.stdout and result.stdout.strip().splitlines()[-1].startswith("PASS: all 6")
    assert len(re.findall(r" PASS$", result.stdout, flags=re.M)) == 6  # kernel + bias of 3 layers
    result = run_cli("gradcheck", "cat_dnn", "--entries", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: all 8" in result.stdout


def test_gradcheck_reports_a_broken_backward(capsys, monkeypatch):
    from deepstep.nn import Dense

    real_backward = Dense.backward

    def broken(self, dout, cache):
        dx = real_backward(self, dout, cache)
        self.kernel.grad *= 1.01  # a 1% error in dW
        return dx

    monkeypatch.setattr(Dense, "backward", broken)
    status, out, _ = run_main(capsys, "gradcheck", "digits_cnn")
    assert status == 1
    assert re.search(r"^dense_1\s+kernel .* FAIL$", out, flags=re.M)
    assert re.search(r"^conv2d_1\s+kernel .* PASS$", out, flags=re.M)
    assert out.strip().splitlines()[-1].startswith("FAIL: 1 of 6")


def test_resume_continues_a_finished_run_exactly(run_dir, tmp_path):
    out, _ = run_dir
    straight = tmp_path / "straight"
    result = run_cli("train", "--batch-size", "128", "--epochs", "2", "--out", straight)  # with progress bar
    assert result.returncode == 0, result.stderr
    for fragment in ("Epoch 1/2", "Epoch 2/2", "img/s", "loss", "val_accuracy"):
        assert fragment in result.stderr
    resumed = tmp_path / "resumed"
    shutil.copytree(out, resumed)
    result = run_cli("train", "--epochs", "2", "--resume", "--quiet", "--out", resumed)
    assert result.returncode == 0, result.stderr
    assert f"resuming from {resumed / 'model.npz'} after epoch 1" in result.stdout
    a = json.loads((straight / "history.json").read_text())
    b = json.loads((resumed / "history.json").read_text())
    assert a == b  # bit-for-bit the same losses, accuracies and test accuracy


def test_ctrl_c_saves_a_checkpoint_and_resume_continues(tmp_path):
    if sys.platform == "win32":
        pytest.skip("SIGINT cannot be sent to a child process on Windows")
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "deepstep", "train", "--epochs", "100", "--quiet",
                                "--batch-size", "128", "--out", str(out)],
                               env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "checkpoint.npz").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    pattern = r"interrupted during epoch \d+: .*checkpoint\.npz holds the first (\d+) epoch"
    match = re.search(pattern, stdout)
    assert match, stdout + stderr
    done = int(match.group(1))
    assert f"continue with: deepstep train --out {out} --resume" in stdout
    assert "Traceback" not in stderr
    result = run_cli("train", "--out", out, "--resume", "--epochs", str(done + 1), "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"after epoch {done}" in result.stdout and "test accuracy" in result.stdout
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == done + 1
    assert not (out / "checkpoint.npz").exists()


def test_resume_conflicts_and_finished_runs(run_dir, capsys):
    out, _ = run_dir
    status, _, err = run_main(capsys, "train", "--out", out, "--resume")
    assert_one_line_error(status, err, "already completed 1 of 1 epochs", "raise --epochs")
    status, _, err = run_main(capsys, "train", "--out", out, "--resume", "--seed", "5")
    assert_one_line_error(status, err, "used --seed 0, not 5")


def test_model_and_data_errors(capsys, tmp_path, data_dir, run_dir):
    status, _, err = run_main(capsys, "train", "--model", "resnet50", "--out", tmp_path)
    assert_one_line_error(status, err, "unknown model 'resnet50'", "digits_cnn")
    status, _, err = run_main(capsys, "train", "--data", data_dir / "test_signs.h5", "--model", "cat_dnn",
                              "--out", tmp_path)
    assert_one_line_error(status, err, "cat_dnn is a binary classifier", "cannot predict 6 classes")
    out, _ = run_dir
    status, _, err = run_main(capsys, "evaluate", out / "model.npz", "--data", data_dir / "test_signs.h5")
    assert_one_line_error(status, err, "predicts 10 classes", "has 6")
    status, _, err = run_main(capsys, "gradcheck", "no_such_model")
    assert_one_line_error(status, err, "not a model name: no_such_model")


def test_no_default_model_for_an_unknown_image_folder(capsys, tmp_path):
    for cls in ("a", "b", "c"):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "pics" / cls / "1.png")
    status, _, err = run_main(capsys, "train", "--data", tmp_path / "pics", "--out", tmp_path / "run")
    assert_one_line_error(status, err, "no default model for data 'pics' (64x64x3 images, 3 classes)",
                          "choose one with --model")


def test_bad_model_and_image_files(capsys, tmp_path, run_dir, digit_pngs):
    out, _ = run_dir
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not a zip archive")
    for argv in (("predict", garbage, digit_pngs[0]), ("info", garbage)):
        status, _, err = run_main(capsys, *argv)
        assert_one_line_error(status, err, f"cannot load MODEL {garbage}")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    status, _, err = run_main(capsys, "predict", out / "model.npz", digit_pngs[0], broken)
    assert_one_line_error(status, err, "broken.png: unreadable image")
    status, _, err = run_main(capsys, "predict", out / "model.npz", tmp_path / "nope.png")
    assert_one_line_error(status, err, "image file not found")


def test_visualize_needs_a_conv_layer(capsys, tmp_path, digit_pngs):
    from deepstep.models import get_model

    model = get_model("cat_dnn", seed=0)
    model.compile(loss="binary_crossentropy")
    model.save(tmp_path / "cat.npz")
    status, _, err = run_main(capsys, "visualize", tmp_path / "cat.npz", digit_pngs[0])
    assert_one_line_error(status, err, "has no convolution layers to visualize")


def test_a_diverging_loss_exits_with_status_1(capsys, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, _, err = run_main(capsys, "train", "--lr", "1e30", "--epochs", "2", "--quiet",
                                  "--out", tmp_path / "nan")
    assert status == 1, err
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("deepstep: error: loss became ") and " at epoch 1 " in lines[0], lines[0]
    assert not (tmp_path / "nan" / "model.npz").exists()


def test_flat_binary_model_with_a_separate_test_set(capsys, tmp_path, data_dir):
    out = tmp_path / "cat"
    result = run_cli("train", "--data", data_dir / "train_catvnoncat.h5", "--test-data",
                     data_dir / "test_catvnoncat.h5", "--epochs", "1", "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "model: cat_dnn" in result.stdout
    test_file = data_dir / "test_catvnoncat.h5"
    assert f"split: 188 train / 21 validation / 50 test from {test_file}" in result.stdout
    picture = tmp_path / "photo.jpg"
    Image.fromarray(np.full((40, 30, 3), 120, np.uint8)).save(picture)
    result = run_cli("predict", out / "model.npz", picture)
    assert result.returncode == 0, result.stderr
    assert re.match(rf"^{re.escape(str(picture))}\s+(cat|non-cat)\s+\(probability (0\.[5-9]\d*|1\.0+)\)$",
                    result.stdout.strip())
    status, _, err = run_main(capsys, "train", "--data", data_dir / "train_catvnoncat.h5", "--test-data",
                              data_dir / "test_signs.h5", "--out", tmp_path / "bad")
    assert_one_line_error(status, err, "--test-data", "has classes ['0', '1'")
