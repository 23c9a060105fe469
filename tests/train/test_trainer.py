"""The model-agnostic Trainer's extension points (for data-parallel training)."""

from __future__ import annotations

import numpy as np

from deepstep.nn import Add, Dense, Input, Model
from deepstep.train import Trainer


def graph(seed: int = 0) -> Model:
    x = Input((4,))
    return Model(x, Dense(3)(Add()([Dense(4, activation="relu")(x), x])), seed=seed)


def test_reduce_gradients_sees_named_gradients_before_the_step_and_batch_indices_shards():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 4)).astype(np.float32), rng.integers(0, 3, 12)
    seen, batches = [], []

    class Halving(Trainer):
        def batch_indices(self, order, start, stop):
            idx = super().batch_indices(order, start, stop)[::2]  # "rank 0 of 2"
            batches.append(len(idx))
            return idx

        def reduce_gradients(self, named):
            seen.append([n for n, _ in named])
            for _, p in named:
                p.grad *= 0  # e.g. an allreduce; here: no update at all

    model = graph()
    model.trainer = Halving(model)
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert batches == [2, 2, 2] and len(seen) == 3
    assert seen[0] == ["dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias"]
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(history.history["loss"][0])


def test_default_trainer_is_bit_identical_between_runs_and_resumes():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((20, 4)).astype(np.float32), rng.integers(0, 3, 20)
    full, split = graph(3), graph(3)
    for m in (full, split):
        m.compile("adam", "sparse_categorical_crossentropy")
    full.fit(x, y, epochs=4, batch_size=6, verbose=0)
    split.fit(x, y, epochs=2, batch_size=6, verbose=0)
    split.fit(x, y, epochs=4, initial_epoch=2, batch_size=6, verbose=0)
    for a, b in zip(full.get_weights(), split.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
