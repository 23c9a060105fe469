"""Augmentation layers: identity at inference, the data.augment transform in training, at a model's input."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.data import augment
from deepstep.nn import Conv2D, Dense, Flatten, Sequential
from deepstep.nn.layers import augmentation as L

LAYERS = [
    (lambda s: L.RandomFlip("horizontal", seed=s), augment.RandomFlip("horizontal")),
    (lambda s: L.RandomTranslation(0.2, 0.1, seed=s), augment.RandomTranslation(0.2, 0.1)),
    (lambda s: L.RandomRotation(0.1, fill_mode="constant", seed=s), augment.RandomRotation(0.1, "constant")),
    (lambda s: L.RandomZoom(0.2, seed=s), augment.RandomZoom(0.2)),
    (lambda s: L.RandomBrightness(0.3, seed=s), augment.RandomBrightness(0.3)),
    (lambda s: L.RandomContrast(0.3, seed=s), augment.RandomContrast(0.3)),
]


@pytest.mark.parametrize("make, transform", LAYERS, ids=lambda v: type(v).__name__)
def test_training_applies_the_seeded_transform_and_inference_is_the_identity(make, transform, rng):
    x = rng.uniform(0, 1, (8, 6, 5, 2)).astype(np.float32)
    layer = make(4)
    same, cache = layer.forward(x, training=False)
    assert same is x
    np.testing.assert_array_equal(layer.backward(np.ones_like(x), cache), np.ones_like(x))
    got, cache = layer.forward(x, training=True)
    np.testing.assert_array_equal(got, transform(x, np.random.default_rng(4)))
    assert got.dtype == np.float32 and not np.array_equal(got, x)
    with pytest.raises(RuntimeError, match="before the first layer with weights"):
        layer.backward(np.ones_like(x), cache)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_augmentation_in_front_of_a_model_trains():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (16, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 2, 16)
    model = Sequential([L.RandomFlip("horizontal", seed=0), L.RandomContrast(0.2, seed=1),
                        Conv2D(2, 3, activation="relu"), Flatten(), Dense(2)], input_shape=(6, 6, 1), seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, seed=0, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    np.testing.assert_array_equal(model.predict_proba(x), model.predict_proba(x))  # deterministic inference


def test_bad_arguments_are_rejected_at_construction():
    with pytest.raises(ValueError, match="mode"):
        L.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="seed"):
        L.RandomZoom(0.1, seed=-1)
