"""fit/evaluate/predict on datasets and iterables of batches, Keras metrics, class and sample weights."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep  # noqa: F401  (registers the trainer)
from deepstep.data import ArrayDataset, augment
from deepstep.gradcheck import eval_numerical_gradient, rel_error
from deepstep.nn import Conv2D, Dense, Dropout, Flatten, RandomFlip, ReLU, Sequential
from deepstep.nn.losses import get_loss
from deepstep.train import metrics as M


def _data(n=24, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6, 6, 1)).astype(np.float32)
    y = np.arange(n) % k
    return x, y


def _model(k=3, seed=1, augmentation=False, dtype="float32", metrics=("accuracy",)):
    layers = [RandomFlip("horizontal", seed=0)] if augmentation else []
    layers += [Conv2D(2, 3, padding="same"), ReLU(), Flatten(), Dropout(0.2), Dense(k)]
    model = Sequential(layers, input_shape=(6, 6, 1), seed=seed, dtype=dtype)
    model.compile(optimizer="adam", metrics=list(metrics))
    return model


def _weights(model):
    return {name: p.value.copy() for name, p in model.named_parameters()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_dataset_and_list_of_batches_train_exactly_as_arrays_without_shuffling():
    x, y = _data()
    ref = _model()
    h_ref = ref.fit(x, y, epochs=2, batch_size=8, shuffle=False, seed=3, verbose=0)
    ds_model = _model()
    h_ds = ds_model.fit(ArrayDataset(x, y), epochs=2, batch_size=8, shuffle=False, seed=3, verbose=0)
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
    list_model = _model()
    h_list = list_model.fit(batches, epochs=2, shuffle=False, seed=3, verbose=0)
    assert _same(_weights(ref), _weights(ds_model)) and _same(_weights(ref), _weights(list_model))
    assert h_ref.history == h_ds.history == h_list.history


def test_shuffled_dataset_fit_is_reproducible_and_seed_dependent():
    x, y = _data()
    runs = []
    for seed in (5, 5, 6):
        model = _model(augmentation=True)
        model.fit(ArrayDataset(x, y, transform=augment.RandomFlip("vertical")), epochs=2, batch_size=8,
                  seed=seed, verbose=0)
        runs.append(_weights(model))
    assert _same(runs[0], runs[1])
    assert not _same(runs[0], runs[2])


def test_augmentation_layers_draw_from_the_epoch_stream():
    x, y = _data()
    model = _model(augmentation=True)
    model.fit(x, y, epochs=1, batch_size=8, seed=4, verbose=0)
    flip = model.layers[0]
    # the layer's generator is the epoch's: [seed, 1, epoch], as for Dropout
    assert flip.rng is model.layers[4].rng


def test_dataset_validation_evaluate_and_predict_match_arrays():
    x, y = _data()
    xv, yv = _data(10, seed=9)
    model = _model(metrics=("accuracy", "precision", "recall", "f1", "sparse_top_k_categorical_accuracy"))
    hist = model.fit(x, y, epochs=1, batch_size=8, seed=0, verbose=0, validation_data=ArrayDataset(xv, yv))
    ev_arrays = model.evaluate(xv, yv)
    ev_ds = model.evaluate(ArrayDataset(xv, yv), batch_size=3)
    assert hist.history["val_loss"][0] == pytest.approx(ev_arrays["loss"], rel=1e-6)
    for key in ("accuracy", "precision", "recall", "f1", "sparse_top_k_categorical_accuracy"):
        assert f"val_{key}" in hist.history and key in hist.history
        assert ev_ds[key] == pytest.approx(ev_arrays[key], abs=1e-12)
    pred = model.predict(xv)
    assert np.array_equal(model.predict(ArrayDataset(xv, yv), batch_size=4), pred)
    assert np.array_equal(model.predict([xv[:4], xv[4:]]), pred)
    macro_precision = M.precision_score(yv, pred, average="macro", num_classes=3)
    assert ev_arrays["precision"] == pytest.approx(macro_precision)
    assert ev_arrays["recall"] == pytest.approx(M.recall_score(yv, pred, average="macro", num_classes=3))
    assert ev_arrays["accuracy"] == pytest.approx(M.accuracy(yv, pred))


def test_extra_metrics_leave_accuracy_and_loss_unchanged():
    x, y = _data()
    a, b = _model(), _model(metrics=("accuracy", "precision", "f1"))
    ha = a.fit(x, y, epochs=2, batch_size=8, seed=2, verbose=0, validation_split=0.25)
    hb = b.fit(x, y, epochs=2, batch_size=8, seed=2, verbose=0, validation_split=0.25)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ha.history[key] == hb.history[key]
    assert {"precision", "f1", "val_precision", "val_f1"} <= set(hb.history)


def test_dataset_validation_split_uses_the_dataset_split():
    x, y = _data(30)
    model = _model()
    hist = model.fit(ArrayDataset(x, y), epochs=1, batch_size=8, validation_split=0.2, seed=0, verbose=0)
    assert "val_loss" in hist.history


def test_generator_serves_one_epoch_only():
    x, y = _data()
    model = _model()
    model.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no batches in epoch 1"):
        model.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)), epochs=2, verbose=0)


@pytest.mark.parametrize("bad, exc, match", [
    ([np.zeros((2, 6, 6, 1))], TypeError, "batch 0 of x must be a pair"),
    ([(np.zeros((2, 6, 6, 1)), np.zeros(3, int))], ValueError, "same number of samples"),
    ([(np.zeros((2, 6, 6, 1)), np.zeros(2, int), np.array([1.0, -1.0]))], ValueError, "sample_weight"),
])
def test_bad_batches_are_named(bad, exc, match):
    with pytest.raises(exc, match=match):
        _model().fit(bad, verbose=0)


def test_bad_arguments():
    x, y = _data()
    model = _model()
    with pytest.raises(TypeError, match="y must be None when x is a dataset"):
        model.fit(ArrayDataset(x, y), y, verbose=0)
    with pytest.raises(TypeError, match="fit needs y"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match="sample_weight is for array x"):
        model.fit(ArrayDataset(x, y), sample_weight=np.ones(24), verbose=0)
    with pytest.raises(ValueError, match="class_weight keys"):
        model.fit(x, y, class_weight={3: 1.0}, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight must hold one weight per sample, shape \(24,\)"):
        model.fit(x, y, sample_weight=np.ones(5), verbose=0)
    with pytest.raises(ValueError, match="metric"):
        model.compile(metrics=["accuracy", "no_such_metric"])


def test_class_weight_is_sample_weight_by_class_and_unit_weights_change_nothing():
    x, y = _data()
    plain = _model()
    plain.fit(x, y, epochs=1, batch_size=8, seed=0, verbose=0)
    ones = _model()
    ones.fit(x, y, epochs=1, batch_size=8, seed=0, verbose=0, class_weight={0: 1.0, 1: 1.0, 2: 1.0})
    for k, v in _weights(plain).items():
        np.testing.assert_allclose(_weights(ones)[k], v, rtol=1e-5, atol=1e-6)
    table = {0: 0.5, 1: 2.0, 2: 1.0}
    cw = _model()
    h_cw = cw.fit(x, y, epochs=1, batch_size=8, seed=0, verbose=0, class_weight=table)
    sw = _model()
    h_sw = sw.fit(x, y, epochs=1, batch_size=8, seed=0, verbose=0,
                  sample_weight=np.array([table[int(c)] for c in y]))
    assert _same(_weights(cw), _weights(sw)) and h_cw.history == h_sw.history
    assert not _same(_weights(cw), _weights(plain))


def test_weighted_batches_from_an_iterable():
    x, y = _data()
    w = np.linspace(0.0, 2.0, 24)
    a = _model()
    a.fit(x, y, epochs=1, batch_size=8, shuffle=False, seed=0, verbose=0, sample_weight=w)
    b = _model()
    b.fit([(x[i:i + 8], y[i:i + 8], w[i:i + 8]) for i in range(0, 24, 8)], shuffle=False, seed=0, verbose=0)
    assert _same(_weights(a), _weights(b))


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "binary_crossentropy", "mse"])
def test_weighted_loss_gradient_float64(name):
    rng = np.random.default_rng(0)
    loss = get_loss(name)
    n = 5
    if name == "binary_crossentropy":
        out, shape = rng.standard_normal((n, 1)), (1,)
        targets = loss.prepare_targets(rng.integers(0, 2, n), shape, np.float64)
    elif name == "mse":
        out, shape = rng.standard_normal((n, 3)), (3,)
        targets = loss.prepare_targets(rng.standard_normal((n, 3)), shape, np.float64)
    else:
        out, shape = rng.standard_normal((n, 4)), (4,)
        labels = rng.integers(0, 4, n)
        y = labels if name.startswith("sparse") else np.eye(4)[labels]
        targets = loss.prepare_targets(y, shape, np.float64)
    w = rng.random(n) * 2
    value, grad = loss.weighted(out, targets, w)
    assert value == pytest.approx(float(np.mean(loss.per_sample(out, targets) * w)))
    assert np.mean(loss.per_sample(out, targets)) == pytest.approx(loss(out, targets)[0])
    num = eval_numerical_gradient(lambda o: loss.weighted(o, targets, w)[0], out.copy())
    assert rel_error(grad, num) < 1e-7


def test_custom_loss_per_sample_default_loops():
    class Half(type(get_loss("mse"))):
        name = "half_mse"

        def per_sample(self, outputs, targets):  # force the base-class fallback
            return super(type(get_loss("mse")), self).per_sample(outputs, targets)

    loss = Half()
    out = np.arange(6.0).reshape(3, 2)
    t = np.zeros((3, 2))
    np.testing.assert_allclose(loss.per_sample(out, t), np.mean(out ** 2, axis=1))
