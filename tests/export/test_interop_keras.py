"""Keras 3 itself (torch backend) writes and reads the .weights.h5 files deepstep loads and saves.

The model avoids one case where Keras 3.15's torch backend departs from TensorFlow (and deepstep):
average pooling with "same" padding that needs asymmetric pads (measured: different border means).
Max pooling with such pads follows a ReLU, so zero and -inf padding agree.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from deepstep.interop import load_keras_weights, save_keras_weights
from deepstep.nn import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sequential,
    Softmax,
)

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


def deepstep_model():
    return Sequential([
        Conv2D(4, 3, strides=2, padding="same", activation="relu"), BatchNormalization(),
        Conv2D(3, (2, 3), padding="same", activation="tanh"), AveragePooling2D(2, strides=1), ReLU(),
        MaxPooling2D(2, strides=2, padding="same"), LeakyReLU(0.2), Flatten(), BatchNormalization(),
        Dropout(0.5), Dense(6, activation="sigmoid"), Dense(3), Softmax(),
    ], input_shape=(9, 7, 2), seed=0)


def keras_model():
    L = keras.layers
    return keras.Sequential([
        keras.Input((9, 7, 2)),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu"), L.BatchNormalization(),
        L.Conv2D(3, (2, 3), padding="same", activation="tanh"), L.AveragePooling2D(2, strides=1), L.ReLU(),
        L.MaxPooling2D(2, strides=2, padding="same"), L.LeakyReLU(negative_slope=0.2), L.Flatten(),
        L.BatchNormalization(), L.Dropout(0.5), L.Dense(6, activation="sigmoid"), L.Dense(3), L.Softmax(),
    ])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' own __array__ on NumPy 2
def test_keras_and_deepstep_exchange_weights(tmp_path):
    rng = np.random.default_rng(0)
    source = keras_model()
    source.set_weights([rng.uniform(0.5, 1.5, w.shape) if i in (5, 11) else rng.normal(0, 0.5, w.shape)
                        for i, w in enumerate(source.get_weights())])  # BN moving variances positive
    source.save_weights(tmp_path / "keras.weights.h5")
    model = deepstep_model()
    load_keras_weights(model, tmp_path / "keras.weights.h5")
    x = rng.random((4, 9, 7, 2)).astype(np.float32)
    want = keras.ops.convert_to_numpy(source(x, training=False))
    assert np.isfinite(want).all()
    np.testing.assert_allclose(model.forward(x), want, rtol=1e-5, atol=1e-6)

    for p in model.parameters():  # new weights, written by deepstep and read by Keras
        p.value *= 0.9
    save_keras_weights(model, tmp_path / "deepstep.weights.h5")
    target = keras_model()
    target.load_weights(tmp_path / "deepstep.weights.h5")
    got = keras.ops.convert_to_numpy(target(x, training=False))
    np.testing.assert_allclose(got, model.forward(x), rtol=1e-5, atol=1e-6)
