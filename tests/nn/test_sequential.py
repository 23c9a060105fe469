"""Sequential: building, summary, whole-model gradient checks, fit/evaluate/predict, determinism, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling2D,
    Sequential,
)
from deepstep.nn.losses import SparseCategoricalCrossentropy
from deepstep.train.callbacks import Callback


def small_convnet(batchnorm: bool = False, dtype: str = "float64", seed: int = 0,
                  data_format: str = "channels_last") -> Sequential:
    shape = (6, 6, 2) if data_format == "channels_last" else (2, 6, 6)
    layers = [Conv2D(3, 3, padding="same", activation="tanh", data_format=data_format,
                     bias_initializer="glorot_uniform")]
    if batchnorm:
        layers.append(BatchNormalization(axis=-1 if data_format == "channels_last" else 1))
    layers += [MaxPooling2D(2, data_format=data_format), Flatten(),
               Dense(4, bias_initializer="glorot_uniform")]
    return Sequential(layers, input_shape=shape, dtype=dtype, seed=seed)


def blobs(n: int = 96, seed: int = 0, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A learnable 3-class problem on 6x6x2 images: the class sets the mean of one quadrant."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 6, 6, 2)) * 0.5
    for k in range(3):
        x[y == k, (k // 2) * 3:(k // 2) * 3 + 3, (k % 2) * 3:(k % 2) * 3 + 3, :] += 1.5
    return x.astype(dtype), y


# --------------------------------------------------------------------------- structure
def test_names_are_unique_and_summary_counts():
    model = small_convnet(batchnorm=True)
    assert [layer.name for layer in model.layers] == [
        "conv2d_1", "batch_normalization_1", "max_pooling2d_1", "flatten_1", "dense_1"]
    text = model.summary()
    assert "conv2d_1 (Conv2D)" in text and "(None, 6, 6, 3)" in text and "(None, 4)" in text
    assert "Total params: 181" in text  # conv 3*3*2*3+3 = 57, BN 4*3 = 12, dense 3*3*3*4+4 = 112
    printed = []
    model.summary(print_fn=printed.append)
    assert printed == [text]


def test_parameter_counts():
    model = small_convnet(batchnorm=True)
    conv, bn, _, _, dense = model.layers
    assert conv.count_params() == 3 * 3 * 2 * 3 + 3
    assert bn.count_params() == 4 * 3
    assert dense.count_params() == 3 * 3 * 3 * 4 + 4
    assert model.count_params() == conv.count_params() + bn.count_params() + dense.count_params()
    assert "Non-trainable params: 6" in model.summary()


def test_add_names_and_duplicates():
    model = Sequential()
    model.add(Dense(3, name="hidden"))
    model.add(Dense(2))
    with pytest.raises(ValueError, match="layer name 'hidden' is already used"):
        model.add(Dense(2, name="hidden"))
    with pytest.raises(TypeError, match="layer must be a deepstep.nn.Layer"):
        model.add("dense")
    model.build((5,))
    assert model.output_shape == (2,)
    model.add(Dense(1))  # added after build: built at once
    assert model.layers[-1].built and model.output_shape == (1,)
    assert model.get_layer("hidden") is model.layers[0]
    with pytest.raises(ValueError, match="has no layer 'nope'"):
        model.get_layer("nope")


def test_config_round_trip_and_seeded_build():
    model = small_convnet(batchnorm=True, seed=3)
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = Sequential.from_config(config)
    assert clone.get_config() == config
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed, same initial weights
    other = small_convnet(batchnorm=True, seed=4)
    assert not np.array_equal(model.layers[0].kernel.value, other.layers[0].kernel.value)
    with pytest.raises(ValueError, match="unknown layer class 'Conv3D'"):
        Sequential.from_config({"layers": [{"class_name": "Conv3D", "config": {}}]})


# --------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_whole_model_gradcheck(batchnorm, data_format):
    """conv -> (BN) -> pool -> dense -> softmax cross-entropy (+ L2): d loss / d every weight and input."""
    model = small_convnet(batchnorm=batchnorm, data_format=data_format)
    model.compile("sgd", "sparse_categorical_crossentropy", weight_decay=0.01)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, *model.input_shape))
    y = np.array([0, 3, 1])
    from deepstep.nn.losses import l2_penalty

    params = [p for p in model.parameters() if p.trainable]

    def total_loss():
        out = model(x, training=True)
        return model.loss(out, y)[0] + l2_penalty(params, model.weight_decay, add_grad=False)

    model.zero_grad()
    out, cache = model.forward(x, training=True)
    _, dout = model.loss(out, y)
    dx = model.backward(dout, cache)
    l2_penalty(params, model.weight_decay, add_grad=True)
    analytic = [dx] + [p.grad.copy() for p in params]
    numeric = numerical_gradients(total_loss, [x] + [p.value for p in params])
    for name, a, n in zip(["x"] + [p.name for p in params], analytic, numeric, strict=True):
        assert rel_error(a, n) < 1e-6, (name, rel_error(a, n))


# --------------------------------------------------------------------------- training
def test_fit_learns_and_reports_history():
    x, y = blobs()
    model = small_convnet(dtype="float32")
    model.compile("adam", "sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=20, batch_size=16, validation_split=0.25, seed=0, verbose=0)
    assert hist.epoch == list(range(20))
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 20 for v in hist.history.values())
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.epoch == 20 and model.history == hist.history
    result = model.evaluate(x, y)
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] > 0.9
    proba = model.predict_proba(x)
    assert proba.shape == (96, 4) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(x), np.argmax(proba, axis=1))
    np.testing.assert_array_equal(model.predict(x, batch_size=7), model.predict(x))


def test_evaluate_matches_a_manual_computation():
    x, y = blobs(20)
    model = small_convnet(dtype="float64")
    model.compile("sgd", "sparse_categorical_crossentropy", weight_decay=0.1)
    result = model.evaluate(x, y, batch_size=6)
    logits = model(x.astype(np.float64))
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    l2 = sum(np.sum(p.value ** 2) for p in model.parameters() if p.name == "kernel")
    assert result["loss"] == pytest.approx(-logp[np.arange(20), y].mean() + 0.05 * l2, rel=1e-10)
    assert result["accuracy"] == pytest.approx(np.mean(np.argmax(logits, axis=1) == y))


def test_two_seeded_fits_are_bitwise_identical():
    x, y = blobs()

    def run(seed):
        model = Sequential([Conv2D(3, 3, activation="relu"), Dropout(0.3), Flatten(), Dense(3)],
                           input_shape=(6, 6, 2), seed=1)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=10, validation_split=0.2, seed=seed, verbose=0)
        return model.get_weights()

    first, second, other = run(5), run(5), run(6)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_resuming_in_memory_matches_an_uninterrupted_run():
    x, y = blobs(40)
    whole = small_convnet(dtype="float32", batchnorm=True)
    whole.compile("adam", "sparse_categorical_crossentropy")
    whole.fit(x, y, epochs=3, batch_size=8, seed=2, verbose=0)
    parts = small_convnet(dtype="float32", batchnorm=True)
    parts.compile("adam", "sparse_categorical_crossentropy")
    parts.fit(x, y, epochs=1, batch_size=8, seed=2, verbose=0)
    parts.fit(x, y, epochs=3, batch_size=8, seed=2, verbose=0, initial_epoch=1)
    for a, b in zip(whole.get_weights(), parts.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert parts.history["loss"] == whole.history["loss"]


class Recorder(Callback):
    """A callback that records the calls fit makes."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.events: list[tuple] = []
        self.stop_after = stop_after

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs), self.model.epoch))
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


def test_callbacks_see_batches_epochs_and_can_stop_training():
    x, y = blobs(20)
    model = small_convnet(dtype="float32")
    model.compile("sgd", "sparse_categorical_crossentropy")
    rec = Recorder(stop_after=2)
    hist = model.fit(x, y, epochs=5, batch_size=8, callbacks=[rec], verbose=0, validation_data=(x[:5], y[:5]))
    assert hist.epoch == [0, 1] and model.epoch == 2
    assert rec.events[0] == ("train_begin",) and rec.events[-1] == ("train_end",)
    assert rec.events[1:6] == [("epoch_begin", 0)] + [
        ("batch_end", b, ["accuracy", "batch", "loss", "size"]) for b in range(3)] + [
        ("epoch_end", 0, ["accuracy", "loss", "lr", "val_accuracy", "val_loss"], 1)]


def test_verbose_progress_goes_to_stderr(capsys):
    x, y = blobs(16)
    model = small_convnet(dtype="float32")
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=1)
    assert capsys.readouterr().out == ""


class NaNAfter(SparseCategoricalCrossentropy):
    """A loss that turns NaN at its ``at``-th call (0-based)."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def __call__(self, outputs, targets):
        loss, dout = super().__call__(outputs, targets)
        self.calls += 1
        if self.calls - 1 == self.at:
            return float("nan"), dout * np.nan
        return loss, dout


def test_nan_loss_raises_training_error_and_keeps_the_last_good_weights():
    from deepstep.train.errors import TrainingError

    x, y = blobs(32)
    model = small_convnet(dtype="float32")
    model.compile("sgd", NaNAfter(at=4 + 2))  # 4 batches per epoch: epoch 1, batch 2 (0-based)
    snapshots = []

    class Snap(Recorder):
        def on_batch_end(self, batch, logs=None):
            snapshots.append(model.get_weights())

    expected = r"loss became nan at epoch 2 \(0-based 1\), batch 3 of 4"
    with pytest.raises(TrainingError, match=expected) as info:
        model.fit(x, y, epochs=3, batch_size=8, callbacks=[Snap()], verbose=0)
    assert (info.value.epoch, info.value.batch) == (1, 2)
    assert len(snapshots) == 6
    for a, b in zip(snapshots[-1], model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.epoch == 1 and len(model.history["loss"]) == 1


@pytest.mark.parametrize("loss,y_of,out_units", [
    ("categorical_crossentropy", lambda y: np.eye(3)[y], 3),
    ("binary_crossentropy", lambda y: (y == 0).astype(int), 1),
    ("mse", lambda y: np.eye(3)[y], 3),
])
def test_other_losses_train(loss, y_of, out_units):
    x, y = blobs(60)
    model = Sequential([Flatten(), Dense(8, activation="relu"), Dense(out_units)], input_shape=(6, 6, 2),
                       seed=0)
    model.compile("adam", loss)
    targets = y_of(y)
    before = model.evaluate(x, targets)["loss"]
    hist = model.fit(x, targets, epochs=10, batch_size=10, verbose=0, seed=0)
    assert model.evaluate(x, targets)["loss"] < before
    if loss == "mse":
        assert "accuracy" not in hist.history
        with pytest.raises(ValueError, match="predict\\(\\) needs a classification loss"):
            model.predict(x)
    elif loss == "binary_crossentropy":
        proba = model.predict_proba(x)
        assert proba.shape == (60, 1) and np.all((proba > 0) & (proba < 1))
        np.testing.assert_array_equal(model.predict(x), (proba[:, 0] > 0.5).astype(int))
        assert model.evaluate(x, targets)["accuracy"] > 0.8
    else:
        assert model.evaluate(x, targets)["accuracy"] > 0.8


def test_dropout_is_inactive_at_inference():
    x, _ = blobs(10)
    model = Sequential([Flatten(), Dropout(0.5), Dense(3)], input_shape=(6, 6, 2), seed=0)
    np.testing.assert_array_equal(model(x), model(x))
    assert not np.array_equal(model(x, training=True), model(x))


def test_set_weights_checks_shapes():
    model = small_convnet()
    weights = model.get_weights()
    weights[0] = weights[0] * 0
    model.set_weights(weights)
    assert np.all(model.layers[0].kernel.value == 0)
    with pytest.raises(ValueError, match="weights must hold 4 arrays"):
        model.set_weights(weights[:2])
    with pytest.raises(ValueError, match=r"weight 'conv2d_1/kernel' must have shape \(3, 3, 2, 3\)"):
        model.set_weights([np.zeros((1,))] + weights[1:])


# --------------------------------------------------------------------------- bad input
def test_bad_training_input_gets_clear_errors():
    x, y = blobs(20)
    model = small_convnet(dtype="float32")
    with pytest.raises(RuntimeError, match="must be compiled before fit"):
        model.fit(x, y)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x has the wrong shape for model 'sequential': "
                                         r"expected \(N, 6, 6, 2\), got \(20, 6, 6, 3\)"):
        model.fit(np.zeros((20, 6, 6, 3)), y, verbose=0)
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 20 and 19"):
        model.fit(x, y[:19], verbose=0)
    with pytest.raises(ValueError, match=r"y holds labels out of range: expected 0 <= label < 4 .* got min 1 "
                                         r"and max 4"):
        model.fit(x, np.where(y == 0, 4, y), verbose=0)
    with pytest.raises(ValueError, match="y holds labels out of range"):
        model.evaluate(x, y - 1)
    with pytest.raises(ValueError, match=r"y must be integer class labels of shape \(N,\)"):
        model.fit(x, np.eye(4)[y], verbose=0)
    with pytest.raises(ValueError, match="must hold integer class labels"):
        model.fit(x, y + 0.5, verbose=0)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        model.fit(np.full((20, 6, 6, 2), "a"), y, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be < 1.0"):
        model.fit(x, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match="give validation_data or validation_split, not both"):
        model.fit(x, y, validation_split=0.5, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match=r"validation_data\[0\] and validation_data\[1\] must have"):
        model.fit(x, y, validation_data=(x, y[:3]), verbose=0)
    with pytest.raises(ValueError, match="validation_data\\[0\\] has the wrong shape"):
        model.fit(x, y, validation_data=(x[:, :3], y), verbose=0)
    with pytest.raises(ValueError, match="x must hold at least one sample"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="x has the wrong shape"):
        model.predict(np.zeros((2, 36)))


def test_bad_compile_arguments():
    model = small_convnet()
    with pytest.raises(ValueError, match="loss must be one of 'sparse_categorical_crossentropy'"):
        model.compile("sgd", "hinge")
    with pytest.raises(ValueError, match="metric must be one of .*got 'hinge_accuracy'"):
        model.compile("sgd", metrics=("accuracy", "hinge_accuracy"))
    with pytest.raises(TypeError, match="metrics must be a sequence of metric names or Metric objects"):
        model.compile("sgd", metrics="accuracy")
    with pytest.raises(ValueError, match="weight_decay must be >= 0.0"):
        model.compile("sgd", weight_decay=-1)
    with pytest.raises(ValueError):
        model.compile("nadam")


def test_binary_and_categorical_label_errors():
    x, y = blobs(12)
    binary = Sequential([Flatten(), Dense(1)], input_shape=(6, 6, 2), seed=0)
    binary.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match="y holds labels out of range: expected 0 or 1"):
        binary.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(N,\) or \(N, 1\)"):
        binary.fit(x, np.zeros((12, 2)), verbose=0)
    wide = Sequential([Flatten(), Dense(3)], input_shape=(6, 6, 2), seed=0)
    wide.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match="needs a model with one output unit"):
        wide.fit(x, y % 2, verbose=0)
    wide.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y must be one-hot labels of shape \(N, 3\)"):
        wide.fit(x, y, verbose=0)
    wide.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match=r"y must hold real numbers .* got dtype <U1"):
        wide.fit(x, np.array(list("abcdefghijkl")), verbose=0)


def test_bad_model_arguments():
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64'"):
        Sequential(dtype="float16")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        Sequential(seed=-1)
    with pytest.raises(TypeError, match="layers must be a list of Layer objects"):
        Sequential(Dense(2))
    with pytest.raises(ValueError, match="has no layers to build"):
        Sequential(input_shape=(3,))
    with pytest.raises(ValueError, match="is not built"):
        Sequential([Dense(2)]).summary()


def test_train_on_batch_is_one_fit_step():
    x, y = blobs(16)
    a, b = small_convnet(dtype="float32"), small_convnet(dtype="float32")
    a.compile("adam", "sparse_categorical_crossentropy", weight_decay=0.01)
    b.compile("adam", "sparse_categorical_crossentropy", weight_decay=0.01)
    logs = a.train_on_batch(x, y)
    hist = b.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert logs["loss"] == pytest.approx(hist.history["loss"][0], rel=1e-6)
    assert logs["accuracy"] == hist.history["accuracy"][0]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    from deepstep.train.errors import TrainingError

    before = a.get_weights()
    with pytest.raises(TrainingError, match="loss became nan in train_on_batch; the weights were not"):
        a.train_on_batch(np.full_like(x, np.nan), y)
    for wa, wb in zip(before, a.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="x and y must have the same, non-zero number of samples"):
        a.train_on_batch(x, y[:3])


def test_dropout_masks_outside_fit_are_seeded_by_the_model():
    x, _ = blobs(10)

    def two_training_passes(seed):
        model = Sequential([Flatten(), Dropout(0.5), Dense(3)], input_shape=(6, 6, 2), seed=seed)
        return model(x, training=True), model(x, training=True)

    first, second = two_training_passes(1)
    assert not np.array_equal(first, second)  # a fresh mask per pass
    again = two_training_passes(1)
    np.testing.assert_array_equal(first, again[0])  # the same masks for the same model seed
    np.testing.assert_array_equal(second, again[1])


@pytest.mark.parametrize("first", ["dense", "flatten_dense"])
def test_training_skips_the_input_gradient_of_the_first_layer_with_weights(first, rng):
    layers = [Dense(5, activation="relu"), Dense(3)]
    shape: tuple[int, ...] = (4,)
    if first == "flatten_dense":
        layers.insert(0, Flatten())
        shape = (2, 2)
    model = Sequential(layers, input_shape=shape, seed=0, dtype="float64")
    model.compile("sgd", "sparse_categorical_crossentropy")
    dense_1 = model.layers[-2]
    seen = []
    original = dense_1._backward
    dense_1._backward = lambda dout, cache: seen.append(original(dout, cache)) or seen[-1]
    x, y = rng.standard_normal((8, *shape)), rng.integers(0, 3, 8)
    model.train_on_batch(x, y)
    assert seen == [None]  # skipped in training
    _, cache = model.forward(x)
    assert model.backward(np.ones((8, 3)), cache).shape == x.shape  # outside training dx is computed
