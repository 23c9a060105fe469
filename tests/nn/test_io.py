"""Saving and loading: exact round trips, resuming from a checkpoint, atomic writes, corrupt files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import deepstep
from deepstep.io import ModelFormatError
from deepstep.nn import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential


def make_model(seed: int = 0) -> Sequential:
    return Sequential([Conv2D(4, 3, padding="same", activation="relu"), BatchNormalization(), MaxPooling2D(2),
                       Flatten(), Dropout(0.2), Dense(3)], input_shape=(6, 6, 2), seed=seed)


def data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6, 2)).astype(np.float32), rng.integers(0, 3, n)


def assert_same_weights(a: Sequential, b: Sequential) -> None:
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)


def test_save_load_predict_is_identical(tmp_path):
    x, y = data()
    model = make_model()
    model.compile("adam", "sparse_categorical_crossentropy", weight_decay=0.001)
    model.class_names = ["zero", "one", "two"]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=0)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = deepstep.load(path)
    assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    np.testing.assert_array_equal(loaded(x), model(x))
    assert loaded.get_config() == model.get_config()
    assert loaded.epoch == 2 and loaded.history == model.history
    assert loaded.class_names == ["zero", "one", "two"]
    assert loaded.compiled and loaded.loss.name == "sparse_categorical_crossentropy"
    assert loaded.weight_decay == 0.001 and loaded.metrics == ("accuracy",)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    saved_state, loaded_state = model.optimizer.state_dict(), loaded.optimizer.state_dict()
    assert sorted(saved_state) == sorted(loaded_state)
    for key in saved_state:
        np.testing.assert_array_equal(saved_state[key], loaded_state[key])
    # the running statistics (non-trainable) travelled too
    bn = loaded.get_layer("batch_normalization_1")
    assert np.any(bn.moving_variance.value != 1)
    assert not list(tmp_path.glob("*.tmp"))


def test_uncompiled_float64_model_round_trip(tmp_path):
    model = Sequential([Flatten(), Dense(2, activation="tanh"), Dense(1)], input_shape=(3, 2),
                       dtype="float64", seed=5)
    model.save(tmp_path / "m.npz")
    loaded = deepstep.load(str(tmp_path / "m.npz"))
    assert not loaded.compiled and loaded.dtype == np.float64
    assert_same_weights(model, loaded)
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_weights(tmp_path):
    x, y = data(48)
    whole = make_model()
    whole.compile("adam", "sparse_categorical_crossentropy")
    whole.fit(x, y, epochs=4, batch_size=8, validation_split=0.25, seed=3, verbose=0)

    first = make_model()
    first.compile("adam", "sparse_categorical_crossentropy")
    first.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, seed=3, verbose=0)
    first.save(tmp_path / "epoch2.npz")
    del first
    resumed = deepstep.load(tmp_path / "epoch2.npz")
    assert resumed.epoch == 2
    hist = resumed.fit(x, y, epochs=4, batch_size=8, validation_split=0.25, seed=3, verbose=0,
                       initial_epoch=resumed.epoch)
    assert hist.epoch == [2, 3]
    assert_same_weights(whole, resumed)
    assert resumed.history == whole.history
    assert resumed.optimizer.iterations == whole.optimizer.iterations


def test_a_save_killed_mid_write_leaves_the_old_file_loadable(tmp_path, monkeypatch):
    x, _ = data(5)
    model = make_model()
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip archive")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(np, "savez", crash)
    old_kernel = model.layers[0].kernel.value.copy()
    model.layers[0].kernel.value += 1  # a newer state that never reaches the disk
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name != "model.npz"]  # the temporary file is gone
    monkeypatch.undo()
    loaded = deepstep.load(path)
    np.testing.assert_array_equal(loaded.layers[0].kernel.value, old_kernel)
    assert loaded.predict_proba(x).shape == (5, 3)


def test_a_stray_truncated_temporary_file_does_not_matter(tmp_path):
    model = make_model()
    path = tmp_path / "model.npz"
    model.save(path)
    (tmp_path / ".model.npz.abc.tmp").write_bytes(path.read_bytes()[:100])  # a writer killed by SIGKILL
    model.save(path)
    assert_same_weights(deepstep.load(path), model)


def test_truncated_and_garbage_files_raise_model_format_error(tmp_path):
    model = make_model()
    good = tmp_path / "good.npz"
    model.save(good)
    raw = good.read_bytes()
    for i, cut in enumerate((len(raw) // 2, len(raw) - 30, 10, 0)):
        bad = tmp_path / f"cut{i}.npz"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFormatError, match=f"cut{i}.npz"):
            deepstep.load(bad)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(2000))
    with pytest.raises(ModelFormatError, match="garbage.npz: not a readable deepstep model file"):
        deepstep.load(garbage)
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ModelFormatError, match="not a deepstep model file"):
        deepstep.load(npy)
    assert issubclass(ModelFormatError, ValueError)
    with pytest.raises(FileNotFoundError):
        deepstep.load(tmp_path / "missing.npz")


def rewrite(src, dst, **changes) -> None:
    """Copy the npz ``src`` to ``dst`` with entries replaced (value) or removed (None)."""
    with np.load(src) as f:
        arrays = {k: f[k] for k in f.files}
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(dst, **arrays)


@pytest.mark.parametrize("changes,match", [
    ({"architecture": None}, r"missing entries \['architecture'\]"),
    ({"format": np.array("something.else")}, "format is 'something.else'"),
    ({"format_version": np.array(3)}, "format_version is .*this deepstep reads versions 1 and 2"),
    ({"weights__dense_1__kernel": None}, "missing weight 'weights/dense_1/kernel'"),
    ({"weights__dense_1__kernel": np.zeros((5, 3), np.float32)},
     r"weight 'weights/dense_1/kernel' has shape \(5, 3\), the architecture needs \(36, 3\)"),
    ({"weights__dense_9__kernel": np.zeros(3, np.float32)}, "do not belong to the architecture"),
    ({"architecture": np.array("{not json")}, "entry 'architecture' is not valid JSON"),
    ({"architecture": np.array(json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Conv9D", "config": {"name": "c9"}}], "input_shape": [3]}}))},
     r"cannot rebuild the architecture: config\['layers'\]\[0\] \(layer 'c9'\): unknown layer class "
     r"'Conv9D'"),
    ({"optimizer__m__0": np.zeros(7, np.float32)}, r"optimizer state 'm/0' has shape \(7,\)"),
    ({"training_config": np.array(json.dumps({"optimizer": {"name": "adam"}, "loss": "hinge"}))},
     "cannot restore the training configuration"),
])
def test_inconsistent_files_raise_model_format_error(tmp_path, changes, match):
    x, y = data(8)
    model = make_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    good = tmp_path / "good.npz"
    model.save(good)
    bad = tmp_path / "bad.npz"
    rewrite(good, bad, **changes)
    with pytest.raises(ModelFormatError, match="bad.npz: .*" + match):
        deepstep.load(bad)


def test_nan_stops_training_and_the_checkpoint_holds_the_last_good_epoch(tmp_path):
    from deepstep.nn.losses import SparseCategoricalCrossentropy
    from deepstep.train.callbacks import Callback, ModelCheckpoint
    from deepstep.train.errors import TrainingError

    class NaNInEpoch3(SparseCategoricalCrossentropy):
        calls = 0

        def __call__(self, outputs, targets):
            NaNInEpoch3.calls += 1
            loss, dout = super().__call__(outputs, targets)
            return (float("inf"), dout) if NaNInEpoch3.calls == 2 * 5 + 3 else (loss, dout)

    x, y = data(40)
    model = make_model()
    model.compile("sgd", NaNInEpoch3())
    path = tmp_path / "ckpt.npz"
    good_weights = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            good_weights.append(model.get_weights())

    checkpoint = ModelCheckpoint(str(path), monitor="loss", save_best_only=False)
    with pytest.raises(TrainingError, match=r"loss became inf at epoch 3 \(0-based 2\), batch 3 of 5"):
        model.fit(x, y, epochs=5, batch_size=8, callbacks=[checkpoint, Snapshot()], verbose=0)
    saved = deepstep.load(path)
    assert saved.epoch == 2 and len(saved.history["loss"]) == 2
    for a, b in zip(saved.get_weights(), good_weights[-1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_saving_an_unbuilt_model_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="model 'sequential' must be built before saving"):
        Sequential([Dense(2)]).save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_saved_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "sub" / "model.npz"
    make_model().save(path)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_version_1_files_from_0_1_still_load(tmp_path):
    """tests/fixtures/model_v1.npz was written by deepstep 0.1 (optimizer state keyed by position)."""
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    model = deepstep.load(fixtures / "model_v1.npz")
    with np.load(fixtures / "model_v1_expected.npz") as f:
        x, logits, iterations = f["x"], f["logits"], int(f["iterations"])
    np.testing.assert_array_equal(model(x), logits)
    assert isinstance(model, Sequential) and model.class_names == ["a", "b", "c"] and model.epoch == 2
    state = model.optimizer.state_dict()
    assert int(state["iterations"]) == iterations
    assert state["m/conv2d_1/kernel"].shape == (3, 3, 1, 2)
    assert "m/batch_normalization_1/moving_mean" not in state
    model.fit(x, np.arange(8) % 3, epochs=3, initial_epoch=2, batch_size=4, verbose=0)  # training goes on
    model.save(tmp_path / "v2.npz")
    with np.load(tmp_path / "v2.npz") as f:
        assert int(f["format_version"]) == 2 and "optimizer/m/dense_1/kernel" in f.files
