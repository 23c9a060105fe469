"""deepstep.train.diagnostics: BatchNormalization's moving statistics against the data's."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.nn import BatchNormalization, Dense, Sequential
from deepstep.train.diagnostics import batch_norm_lag, batch_norm_warnings, suggest_momentum


def _model(momentum):
    model = Sequential([Dense(4), BatchNormalization(momentum=momentum), Dense(2)], input_shape=(3,),
                       dtype="float64", seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = 5.0 + 3.0 * rng.standard_normal((256, 3))  # far from the initial moving mean 0 / variance 1
    return x, (x[:, 0] > 5.0).astype(np.int64)


def test_few_steps_with_momentum_099_lag_and_are_reported():
    x, y = _data()
    model = _model(0.99)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, seed=0)  # 4 steps: 0.99**4 of the start remains
    (lag,) = batch_norm_lag(model, x)
    assert lag.layer == "batch_normalization_1" and lag.momentum == 0.99 and lag.lags
    assert lag.mean_shift > 1.0
    (message,) = batch_norm_warnings(model, x, total_steps=4)
    assert "'batch_normalization_1' (momentum 0.99)" in message and "try momentum=0.9" in message


def test_a_converged_momentum_gives_no_warning():
    x, y = _data()
    model = _model(0.5)
    model.fit(x, y, epochs=5, batch_size=64, verbose=0, seed=0, shuffle=False)
    (lag,) = batch_norm_lag(model, x)
    assert not lag.lags, lag
    assert batch_norm_warnings(model, x, total_steps=20) == []


def test_models_without_batch_norm_and_suggestions():
    model = Sequential([Dense(2)], input_shape=(3,), seed=0)
    assert batch_norm_lag(model, np.zeros((4, 3))) == []
    assert batch_norm_warnings(model, np.zeros((4, 3))) == []
    assert suggest_momentum(280) == 0.96 and suggest_momentum(10) == 0.9 and suggest_momentum(10**6) == 0.99
    with pytest.raises(ValueError, match="total_steps"):
        suggest_momentum(0)
