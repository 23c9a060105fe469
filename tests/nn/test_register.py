"""@deepstep.register: custom layers and losses that deepstep.load rebuilds; augmentation layers save."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep
from deepstep.gradcheck import eval_numerical_gradient, rel_error
from deepstep.nn import (
    Dense,
    Flatten,
    Layer,
    Loss,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomZoom,
    Sequential,
)
from deepstep.nn.losses import LOSSES, SparseCategoricalCrossentropy


class ChannelScaleT(Layer):
    kind = "channel_scale"

    def __init__(self, initial=1.0, name=None):
        super().__init__(name)
        self.initial = float(initial)

    def _build(self, input_shape, rng):
        self.scale = self.add_parameter(np.full(input_shape[-1:], self.initial), "scale")

    def _forward(self, x, training):
        return x * self.scale.value, x

    def _backward(self, dout, x):
        self.scale.grad += (dout * x).reshape(-1, x.shape[-1]).sum(axis=0)
        return dout * self.scale.value

    def _config(self):
        return {"initial": self.initial}


class SmoothedCE(SparseCategoricalCrossentropy):
    def __init__(self, smoothing=0.1):
        self.smoothing = float(smoothing)

    def __call__(self, outputs, targets):
        k = outputs.shape[1]
        soft = np.full(outputs.shape, self.smoothing / k, dtype=outputs.dtype)
        soft[np.arange(len(targets)), targets] += 1 - self.smoothing
        z = outputs - outputs.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -np.mean(np.sum(soft * log_p, axis=1))
        return float(loss), (np.exp(log_p) - soft) / len(targets)

    def per_sample(self, outputs, targets):
        return np.array([self(outputs[i:i + 1], targets[i:i + 1])[0] for i in range(len(targets))])

    def get_config(self):
        return {"name": self.name, "smoothing": self.smoothing}


@pytest.fixture(autouse=True, scope="module")
def _unregister_after():
    """Register this module's classes for its tests only: other tests list every registered layer."""
    from deepstep.nn.layers import LAYER_CLASSES

    deepstep.register(ChannelScaleT)
    deepstep.register(name="smoothed_sparse_ce_test")(SmoothedCE)
    yield
    for name in ("ChannelScaleT", "renamed_scale_test", "Redefined"):
        LAYER_CLASSES.pop(name, None)
    LOSSES.pop("smoothed_sparse_ce_test", None)


def _model(seed=0):
    return Sequential([RandomFlip("horizontal", seed=1), RandomRotation(0.1, seed=2), RandomZoom(0.1, seed=3),
                       RandomContrast(0.2, seed=4), ChannelScaleT(0.5, name="scale"), Flatten(), Dense(3)],
                      input_shape=(5, 5, 2), seed=seed, dtype="float64")


def test_custom_layer_and_loss_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 5, 5, 2)), np.arange(12) % 3
    model = _model()
    model.compile(optimizer="adam", loss="smoothed_sparse_ce_test")
    model.fit(x, y, epochs=2, batch_size=4, seed=0, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = deepstep.load(path)
    assert isinstance(loaded.layers[4], ChannelScaleT) and loaded.layers[4].initial == 0.5
    assert isinstance(loaded.loss, SmoothedCE) and loaded.loss.smoothing == pytest.approx(0.1)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    # training resumes identically with the rebuilt loss and augmentation layers
    model.fit(x, y, epochs=3, batch_size=4, seed=0, verbose=0, initial_epoch=2)
    loaded.fit(x, y, epochs=3, batch_size=4, seed=0, verbose=0, initial_epoch=2)
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_custom_layer_gradient_float64():
    rng = np.random.default_rng(1)
    layer = ChannelScaleT(0.7)
    x = rng.standard_normal((3, 2, 2, 4))
    out, cache = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.scale.grad[...] = 0
    dx = layer.backward(dout, cache)
    num_dx = eval_numerical_gradient(lambda v: float(np.sum(layer.forward(v)[0] * dout)), x.copy())
    num_ds = eval_numerical_gradient(lambda s: float(np.sum(x * s * dout)), layer.scale.value.copy())
    assert rel_error(dx, num_dx) < 1e-8 and rel_error(layer.scale.grad, num_ds) < 1e-8


def test_registered_name_is_what_the_file_records(tmp_path):
    @deepstep.register(name="renamed_scale_test")
    class Renamed(ChannelScaleT):
        pass

    model = Sequential([Renamed(2.0), Flatten(), Dense(2)], input_shape=(2, 2, 1))
    assert model.get_config()["layers"][0]["class_name"] == "renamed_scale_test"
    model.save(tmp_path / "r.npz")
    assert type(deepstep.load(tmp_path / "r.npz").layers[0]) is Renamed


def test_register_refuses_what_it_cannot_rebuild():
    with pytest.raises(TypeError, match="Layer or deepstep.nn.losses.Loss subclass"):
        deepstep.register(int)
    with pytest.raises(ValueError, match="already registered as 'Dense'"):
        deepstep.register(type("Dense", (Layer,), {}))
    with pytest.raises(ValueError, match="already registered as 'mse'"):
        deepstep.register(type("Other", (Loss,), {"name": "mse"}))
    with pytest.raises(ValueError, match="needs its own name"):
        deepstep.register(type("Unnamed", (SparseCategoricalCrossentropy,), {}))
    assert deepstep.register(ChannelScaleT) is ChannelScaleT  # registering again is fine
    assert LOSSES["smoothed_sparse_ce_test"] is SmoothedCE


def test_unregistered_layer_names_the_decorator(tmp_path):
    class Unknown(ChannelScaleT):
        pass

    model = Sequential([Unknown(), Flatten(), Dense(2)], input_shape=(2, 2, 1))
    model.save(tmp_path / "u.npz")
    with pytest.raises(deepstep.io.ModelFormatError, match="deepstep.register"):
        deepstep.load(tmp_path / "u.npz")


def test_a_redefined_class_replaces_the_old_one():
    """Re-running a notebook cell defines a new class of the same module and name: it takes over."""
    def define():
        class Redefined(ChannelScaleT):
            pass
        return Redefined

    first, second = define(), define()
    assert deepstep.register(first) is first and deepstep.register(second) is second
    assert deepstep.nn.layers.get_layer_class("Redefined") is second
