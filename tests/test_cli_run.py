"""The command line uses a run's own split and options: evaluate/predict/visualize read run.json beside
the model, train builds zoo models for the data, --restore-best / --early-stopping / --lr-schedule,
one line per epoch off a terminal, and gradcheck past kinks (issue 16)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

TINY = ("--epochs", "1", "--batch-size", "128", "--quiet")


@pytest.fixture(scope="module")
def seed3_run(tmp_path_factory):
    """One epoch on digits with --seed 3 (whose held-out test part differs from seed 0's)."""
    out = tmp_path_factory.mktemp("seed3") / "run"
    result = run_cli("train", *TINY, "--seed", "3", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _true_held_out_accuracy(model_path, seed):
    """The accuracy on the images 'deepstep train --seed SEED' held out, computed from scratch here."""
    from deepstep.data import load_dataset, train_val_split
    from deepstep.io import load_model

    digits = load_dataset("digits")
    _, (x_test, y_test) = train_val_split(digits.x, digits.y, 0.2, seed=seed, stratify=True)
    model = load_model(model_path)
    correct = int(np.sum(np.asarray(model.predict(x_test)) == y_test))
    return correct, len(y_test)


def test_evaluate_uses_the_runs_held_out_split(seed3_run, capsys, tmp_path):
    correct, total = _true_held_out_accuracy(seed3_run / "model.npz", seed=3)
    status, out, err = run_main(capsys, "evaluate", seed3_run / "model.npz", "--out", tmp_path)
    assert status == 0, err
    assert "test subset: the 359 of 1797 images of digits held out by the run (seed 3, 20%)" in out
    assert f"({correct}/{total}) on digits (test subset)" in out
    # --data digits --subset test gives the same (the run's seed, not 0)
    status, out2, _ = run_main(capsys, "evaluate", seed3_run / "model.npz", "--data", "digits", "--subset",
                               "test", "--out", tmp_path)
    assert status == 0 and f"({correct}/{total})" in out2
    # seed 0's "test" part overlaps the seed-3 training images: a different count
    assert _true_held_out_accuracy(seed3_run / "model.npz", seed=0) != (correct, total)


def test_evaluate_all_says_it_includes_training_images(seed3_run, capsys, tmp_path):
    status, out, err = run_main(capsys, "evaluate", seed3_run / "model.npz", "--subset", "all",
                                "--out", tmp_path)
    assert status == 0, err
    assert "all 1797 images of digits, including the 1438 the run trained or validated on" in out
    assert re.search(r"accuracy: [0-9.]+ \(\d+/1797\) on digits \(all subset\)", out)


def test_evaluate_seed_conflict_and_missing_data(seed3_run, capsys, tmp_path):
    status, _, err = run_main(capsys, "evaluate", seed3_run / "model.npz", "--seed", "0")
    assert_one_line_error(status, err, "--seed 0 disagrees with the run's seed 3")
    from deepstep.io import load_model

    load_model(seed3_run / "model.npz").save(tmp_path / "alone.npz")  # no run.json beside it
    status, _, err = run_main(capsys, "evaluate", tmp_path / "alone.npz")
    assert_one_line_error(status, err, "--data is required: there is no run.json beside")
    status, out, err = run_main(capsys, "evaluate", tmp_path / "alone.npz", "--data", "digits",
                                "--out", tmp_path)
    assert status == 0, err
    assert "all 1797 images of digits (no run.json beside the model" in out


def test_predict_without_images_uses_the_held_out_test_images(seed3_run, capsys):
    correct, total = _true_held_out_accuracy(seed3_run / "model.npz", seed=3)
    status, out, err = run_main(capsys, "predict", seed3_run / "model.npz")
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("test subset: the 359 of 1797 images of digits held out by the run (seed 3")
    assert len(lines) == 1 + total + 1
    assert re.match(r"^#\d+\s+\d\s+\d\s+\(probability [0-9.]+\)$", lines[1]), lines[1]
    assert lines[-1] == f"accuracy: {correct / total:.4f} ({correct}/{total})"


def test_predict_a_folder(seed3_run, capsys, tmp_path):
    from sklearn.datasets import load_digits

    images = load_digits().images
    (tmp_path / "pics" / "sub").mkdir(parents=True)
    names = [tmp_path / "pics" / "a.png", tmp_path / "pics" / "sub" / "b.png"]
    for k, path in enumerate(names):
        Image.fromarray(np.clip(images[k] * 16, 0, 255).astype(np.uint8)).save(path)
    (tmp_path / "pics" / "notes.txt").write_text("not an image")
    status, out, err = run_main(capsys, "predict", seed3_run / "model.npz", tmp_path / "pics")
    assert status == 0, err
    assert [line.split()[0] for line in out.strip().splitlines()] == [str(p) for p in names]
    (tmp_path / "empty").mkdir()
    status, _, err = run_main(capsys, "predict", seed3_run / "model.npz", tmp_path / "empty")
    assert_one_line_error(status, err, "holds no .png/.jpg/.jpeg images")


def test_visualize_without_an_image_shows_a_held_out_one(seed3_run, capsys, tmp_path):
    status, out, err = run_main(capsys, "visualize", seed3_run / "model.npz", "--out", tmp_path)
    assert status == 0, err
    assert out.startswith("held-out test image #")
    assert (tmp_path / "feature_maps_1_conv2d_1.png").is_file()


def test_train_builds_zoo_models_for_the_data(capsys, tmp_path):
    """signs_convnet for 3 classes of 20x12 photos, mnist_cnn for 8x8 digits; cat_dnn is binary only."""
    for k, cls in enumerate(("a", "b", "c")):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(5):
            pixels = np.full((12, 20, 3), 40 * k + 10 * i, np.uint8)
            Image.fromarray(pixels).save(tmp_path / "pics" / cls / f"{i}.png")
    status, out, err = run_main(capsys, "train", "--data", tmp_path / "pics", "--model", "signs_convnet",
                                "--image-size", "16", *TINY, "--out", tmp_path / "signs")
    assert status == 0, err
    assert "note:  images of pics resized from 12x20 to 16x16 (--image-size), kept RGB" in out
    assert "note:  signs_convnet built for 16x16x3 inputs and 3 classes (usually 64x64x3, 6)" in out
    status, out, err = run_main(capsys, "evaluate", tmp_path / "signs" / "model.npz", "--out", tmp_path)
    assert status == 0, err
    assert "test subset: the 3 of 15 images of pics held out by the run (seed 0, 20%)" in out
    status, out, err = run_main(capsys, "train", "--model", "mnist_cnn", *TINY, "--out", tmp_path / "mnist")
    assert status == 0, err
    assert "note:  mnist_cnn built for 8x8x1 inputs and 10 classes (usually 28x28x1, 10)" in out
    status, _, err = run_main(capsys, "train", "--model", "cat_dnn", *TINY, "--out", tmp_path / "cat")
    assert_one_line_error(status, err, "model 'cat_dnn' cannot be trained on data 'digits'",
                          "cannot predict 10 classes")


def test_restore_best_keeps_the_best_epoch_and_the_last_as_checkpoint(capsys, tmp_path):
    from deepstep.io import load_model

    out = tmp_path / "run"
    status, text, err = run_main(capsys, "train", "--epochs", "4", "--batch-size", "128", "--lr", "0.05",
                                 "--restore-best", "--quiet", "--out", out)
    assert status == 0, err
    history = json.loads((out / "history.json").read_text())
    best = int(np.argmin(history["val_loss"])) + 1
    assert history["model_epoch"] == best
    assert int(load_model(out / "model.npz").epoch) == best
    assert int(load_model(out / "checkpoint.npz").epoch) == 4
    assert f"restored the best epoch {best} (val_loss {min(history['val_loss']):.4f})" in text
    # --resume continues from the last epoch (the checkpoint), not from the best one
    status, text, err = run_main(capsys, "train", "--epochs", "5", "--resume", "--quiet", "--out", out)
    assert status == 0, err
    assert "after epoch 4" in text
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 5


def test_early_stopping_and_lr_schedule(capsys, tmp_path):
    out = tmp_path / "run"
    # a learning rate this small leaves every prediction unchanged: val_accuracy cannot improve after
    # epoch 1, so patience 0 stops after epoch 2
    status, text, err = run_main(capsys, "train", "--epochs", "6", "--batch-size", "256", "--lr", "1e-9",
                                 "--early-stopping", "0", "--monitor", "val_accuracy",
                                 "--lr-schedule", "step:1:0.5", "--quiet", "--out", out)
    assert status == 0, err
    assert "trained 2 epoch(s)" in text and "(early stopping)" in text
    history = json.loads((out / "history.json").read_text())
    assert history["lr"] == pytest.approx([1e-9, 0.5e-9])
    run = json.loads((out / "run.json").read_text())
    assert run["early_stopping"] == 0 and run["lr_schedule"] == "step:1:0.5"
    status, _, err = run_main(capsys, "train", "--lr-schedule", "zigzag", *TINY, "--out", tmp_path / "b")
    assert_one_line_error(status, err, "--lr-schedule 'zigzag': expected constant, cosine")
    status, _, err = run_main(capsys, "train", "--early-stopping", "2", "--val-split", "0", *TINY,
                              "--out", tmp_path / "c")
    assert_one_line_error(status, err, "use --val-split > 0")


def test_progress_is_one_line_per_epoch_off_a_terminal(tmp_path):
    for quiet in ((), ("--quiet",)):
        result = run_cli("train", "--epochs", "2", "--batch-size", "128", *quiet, "--out", tmp_path / "r")
        assert result.returncode == 0, result.stderr
        assert "\r" not in result.stderr
        # (under DEEPSTEP_KERNELS=numba a cold kernel cache adds its one "deepstep: compiling ..." note)
        lines = [line for line in result.stderr.strip().splitlines()
                 if not line.startswith("deepstep: compiling")]
        assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"], result.stderr
        assert all("val_accuracy" in line for line in lines)


def test_gradcheck_cli_lists_kinks_instead_of_failing(capsys, tmp_path):
    from deepstep.nn import Dense, Sequential

    model = Sequential([Dense(3, activation="relu"), Dense(2)], input_shape=(4,), seed=0)
    model.layers[0].kernel.value[:, 0] = 0.0  # a dead unit: its pre-activation is 0 for every input
    model.layers[0].bias.value[0] = 0.0
    model.compile(loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "dead.npz")
    status, out, err = run_main(capsys, "gradcheck", tmp_path / "dead.npz")
    assert status == 0, out + err
    assert re.search(r"^dense_1\s+kernel\s+\(4, 3\)\s+8\s+4\s+\S+\s+PASS$", out, flags=re.M), out
    assert "note: 5 sampled entries within h of a kink of the loss" in out
    assert "dense_1/kernel[3, 0], dense_1/bias[0]" in out
    assert out.strip().splitlines()[-1].startswith("PASS: all 4")


def test_init_notebook_follows_the_course_application_model(capsys, tmp_path, data_dir):
    """--init notebook + full-batch SGD on the cat data takes the very steps of the notebook's L_layer_model
    (so 2500 epochs end at its 0.80 test accuracy, shown in the README); conv models refuse it."""
    from deepstep.course.app import L_layer_model, load_data
    from deepstep.io import load_model

    train, test = data_dir / "train_catvnoncat.h5", data_dir / "test_catvnoncat.h5"
    state = np.random.get_state()  # noqa: NPY002 - the notebook's global generator
    status, out, err = run_main(capsys, "train", "--data", train, "--test-data", test, "--model", "cat_dnn",
                                "--init", "notebook", "--optimizer", "sgd", "--lr", "0.0075", "--batch-size",
                                "209", "--epochs", "3", "--val-split", "0", "--dtype", "float64",
                                "--out", tmp_path / "cat")
    assert status == 0, err
    assert "weights initialized as in the course's application notebook" in out
    history = json.loads((tmp_path / "cat" / "history.json").read_text())
    assert round(history["loss"][0], 6) == 0.771749  # the notebook's "Cost after iteration 0: 0.771749"
    assert np.all(np.random.get_state()[1] == state[1])  # noqa: NPY002 - left alone by --init notebook
    train_x, train_y, _, _, _ = load_data(train, test)
    x = train_x.reshape(train_x.shape[0], -1).T / 255.0
    parameters, _ = L_layer_model(x, train_y, [12288, 20, 7, 5, 1], learning_rate=0.0075, num_iterations=3)
    weights = load_model(tmp_path / "cat" / "model.npz").get_weights()
    for index in range(4):
        np.testing.assert_allclose(weights[2 * index], parameters[f"W{index + 1}"].T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(weights[2 * index + 1], parameters[f"b{index + 1}"].ravel(), rtol=1e-9,
                                   atol=1e-12)
    status, _, err = run_main(capsys, "train", "--model", "mnist_cnn", "--init", "notebook", *TINY,
                              "--out", tmp_path / "conv")
    assert_one_line_error(status, err, "--init notebook needs a model of Dense layers", "mnist_cnn")
