"""deepstep.data transforms and scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.data import iterate_batches, load_digits, normalize, one_hot, train_val_split


def test_load_digits_matches_scikit_learn(monkeypatch):
    datasets = pytest.importorskip("sklearn.datasets")
    x, y, classes = load_digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.dtype == np.int64 and np.bincount(y).min() >= 170
    assert classes == [str(d) for d in range(10)]
    reference = datasets.load_digits()
    np.testing.assert_array_equal(x[..., 0], (reference.images / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)
    # The fallback through scikit-learn's loader gives the same arrays.
    monkeypatch.setattr("deepstep.data.digits._bundled_csv", lambda: None)
    x2, y2, _ = load_digits()
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_normalize():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    out = normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-6)
    assert normalize(x, scale=1.0, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="scale must be > 0"):
        normalize(x, scale=0)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        normalize(x, dtype="int32")


def test_one_hot():
    out = one_hot(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    with pytest.raises(ValueError, match=r"y must hold class indices in 0\.\.2, got 3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"y must hold class indices >= 0, got -1"):
        one_hot(np.array([0, -1]), 3)
    with pytest.raises(ValueError, match="y must hold integer class indices, got non-integer value 0.5"):
        one_hot(np.array([0.5, 1.0]), 3)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="y must be a 1-D array"):
        one_hot(np.zeros((2, 2), int), 3)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        one_hot(np.array([0]), 0)


def test_train_val_split_is_deterministic_and_disjoint():
    x = np.arange(100)
    y = np.arange(100) % 4
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=3)
    (xt2, _), (xv2, _) = train_val_split(x, y, 0.2, seed=3)
    np.testing.assert_array_equal(xv, xv2)
    np.testing.assert_array_equal(xt, xt2)
    assert len(xv) == 20 and len(xt) == 80
    assert sorted(np.concatenate([xt, xv]).tolist()) == list(range(100))
    np.testing.assert_array_equal(yv, xv % 4)
    (_, _), (xv3, _) = train_val_split(x, y, 0.2, seed=4)
    assert not np.array_equal(np.sort(xv), np.sort(xv3))


def test_train_val_split_stratified_and_unshuffled():
    y = np.array([0] * 30 + [1] * 10)
    x = np.arange(40)
    (_, yt), (_, yv) = train_val_split(x, y, 0.2, seed=0, stratify=True)
    assert np.bincount(yv).tolist() == [6, 2] and np.bincount(yt).tolist() == [24, 8]
    (xt, _), (xv, _) = train_val_split(x, y, 0.25, seed=None)
    assert xv.tolist() == list(range(30, 40)) and xt.tolist() == list(range(30))
    (xt, _), (xv, _) = train_val_split(x, y, 0.0)
    assert len(xv) == 0 and len(xt) == 40


def test_train_val_split_errors():
    with pytest.raises(ValueError, match=r"val_fraction must be < 1\.0"):
        train_val_split(np.arange(4), np.arange(4), 1.0)
    with pytest.raises(ValueError, match="same number of samples, got 4 and 3"):
        train_val_split(np.arange(4), np.arange(3), 0.5)
    with pytest.raises(ValueError, match="cannot split 1 sample"):
        train_val_split(np.arange(1), np.arange(1), 0.5)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        train_val_split(np.arange(4), np.arange(4), 0.5, seed=-1)
    with pytest.raises(TypeError, match=r"seed must be an integer, got 1\.5"):
        train_val_split(np.arange(4), np.arange(4), 0.5, seed=1.5)
    with pytest.raises(TypeError, match="seed must be an integer, got True"):
        list(iterate_batches(np.arange(4), None, 2, shuffle=True, seed=True))


def test_iterate_batches():
    x = np.arange(10)
    y = x * 2
    batches = list(iterate_batches(x, y, 4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(np.array_equal(bx * 2, by) for bx, by in batches)
    shuffled = np.concatenate([bx for bx, _ in iterate_batches(x, y, 3, shuffle=True, seed=1)])
    again = np.concatenate([bx for bx, _ in iterate_batches(x, y, 3, shuffle=True, seed=1)])
    np.testing.assert_array_equal(shuffled, again)
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    assert [by for _, by in iterate_batches(x, None, 5)] == [None, None]
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        list(iterate_batches(x, y, 0))
