"""Tests of the losses in deepstep.nn.functional."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from deepstep.course import dnn
from deepstep.gradcheck import eval_numerical_gradient, rel_error
from deepstep.nn.functional import binary_cross_entropy_with_logits, mean_squared_error, softmax_cross_entropy


def soft_labels(rng, n, k, dtype=np.float64):
    p = rng.uniform(0.0, 1.0, size=(n, k))
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


def test_softmax_cross_entropy_formula(rng):
    logits = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    loss, _ = softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert abs(loss + np.mean(np.log(p[np.arange(4), labels]))) < 1e-12
    # One-hot rows give the same loss and gradient as the indices.
    loss_1h, d_1h = softmax_cross_entropy(logits, np.eye(3)[labels])
    assert abs(loss - loss_1h) < 1e-12
    assert rel_error(softmax_cross_entropy(logits, labels)[1], d_1h) < 1e-12


@pytest.mark.parametrize("kind", ["index", "onehot", "soft", "unnormalised"])
def test_softmax_cross_entropy_numerical_gradient(kind, rng):
    logits = rng.standard_normal((5, 4)) * 3
    labels = {
        "index": rng.integers(0, 4, size=5),
        "onehot": np.eye(4)[rng.integers(0, 4, size=5)],
        "soft": soft_labels(rng, 5, 4),
        "unnormalised": rng.uniform(0, 1, size=(5, 4)),  # rows need not sum to 1
    }[kind]
    _, dlogits = softmax_cross_entropy(logits, labels)
    num = eval_numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], logits)
    assert rel_error(dlogits, num) < 1e-7


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_bce_numerical_gradient(shape, rng):
    logits = rng.standard_normal(shape) * 3
    labels = rng.uniform(0, 1, size=shape)
    loss, dlogits = binary_cross_entropy_with_logits(logits, labels)
    s = 1 / (1 + np.exp(-logits))
    assert abs(loss + np.mean(labels * np.log(s) + (1 - labels) * np.log(1 - s))) < 1e-12
    num = eval_numerical_gradient(lambda v: binary_cross_entropy_with_logits(v, labels)[0], logits)
    assert rel_error(dlogits, num) < 1e-7


def test_mse_numerical_gradient(rng):
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dpred = mean_squared_error(pred, target)
    assert abs(loss - np.mean((pred - target) ** 2)) < 1e-12
    num = eval_numerical_gradient(lambda v: mean_squared_error(v, target)[0], pred)
    assert rel_error(dpred, num) < 1e-7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "k"), [(1, 2), (7, 5), (32, 10)])
def test_matches_torch(dtype, n, k, rng):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    tol = 1e-10 if dtype == np.float64 else 1e-4
    logits = (rng.standard_normal((n, k)) * 5).astype(dtype)
    cases = {
        "index": (rng.integers(0, k, size=n), lambda z, y: functional.cross_entropy(z, torch.tensor(y))),
        "probs": (soft_labels(rng, n, k, dtype), lambda z, y: functional.cross_entropy(z, torch.tensor(y))),
    }
    for labels, torch_loss in cases.values():
        loss, dlogits = softmax_cross_entropy(logits, labels)
        zt = torch.tensor(logits, requires_grad=True)
        lt = torch_loss(zt, labels)
        lt.backward()
        assert loss.dtype == dlogits.dtype == dtype
        assert rel_error(np.array(loss), lt.detach().numpy()) < tol
        assert rel_error(dlogits, zt.grad.numpy()) < tol
    for shape in [(n,), (n, 1)]:
        z = (rng.standard_normal(shape) * 5).astype(dtype)
        y = rng.uniform(0, 1, size=shape).astype(dtype)
        loss, dz = binary_cross_entropy_with_logits(z, y)
        zt = torch.tensor(z, requires_grad=True)
        lt = functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
        lt.backward()
        assert loss.dtype == dz.dtype == dtype
        assert rel_error(np.array(loss), lt.detach().numpy()) < tol
        assert rel_error(dz, zt.grad.numpy()) < tol
    pred, target = logits, rng.standard_normal((n, k)).astype(dtype)
    loss, dpred = mean_squared_error(pred, target)
    pt = torch.tensor(pred, requires_grad=True)
    lt = functional.mse_loss(pt, torch.tensor(target))
    lt.backward()
    assert loss.dtype == dpred.dtype == dtype
    assert rel_error(np.array(loss), lt.detach().numpy()) < tol
    assert rel_error(dpred, pt.grad.numpy()) < tol


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_logits_exact_without_warnings(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    z = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    # No RuntimeWarning, and not even a floating-point flag from user settings such as
    # np.seterr(all="raise"): underflow of exp is silenced inside the kernels.
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss_right, d_right = softmax_cross_entropy(logits, np.array([0, 1]))
        loss_wrong, d_wrong = softmax_cross_entropy(logits, np.array([1, 0]))
        loss_soft, _ = softmax_cross_entropy(logits, np.array([[1.0, 0, 0], [0, 0.5, 0.5]], dtype=dtype))
        bce, dz = binary_cross_entropy_with_logits(z, y)
    assert loss_right == dtype(np.log(2) / 2)  # row 2 splits evenly between two huge logits
    # -log p = 2e4 for row 1 and 2e4 + log 2 for row 2: finite, no overflow.
    np.testing.assert_allclose(loss_wrong, 2e4 + np.log(2) / 2, rtol=1e-7)
    assert loss_soft == dtype(np.log(2) / 2)   # -(0.5 log 0.5 + 0.5 log 0.5) / 2
    np.testing.assert_array_equal(d_right, np.array([[0, 0, 0], [0, -0.25, 0.25]], dtype=dtype))
    np.testing.assert_array_equal(d_wrong, np.array([[0.5, -0.5, 0], [-0.5, 0.25, 0.25]], dtype=dtype))
    assert bce == dtype(5e3)  # (0 + 0 + 1e4 + 1e4) / 4
    np.testing.assert_array_equal(dz, np.array([0, 0, 0.25, -0.25], dtype=dtype))
    for arr in (loss_right, d_right, loss_wrong, d_wrong, loss_soft, bce, dz):
        assert arr.dtype == dtype


def test_loss_is_numpy_scalar_of_input_dtype(rng):
    loss, _ = softmax_cross_entropy(rng.standard_normal((3, 2)).astype(np.float32), np.array([0, 1, 1]))
    assert isinstance(loss, np.float32)
    loss, _ = mean_squared_error(np.ones(3), np.zeros(3))
    assert isinstance(loss, np.float64) and float(loss) == 1.0


def test_softmax_cross_entropy_errors():
    logits = np.zeros((3, 4))
    cases = [
        ((np.zeros(4), [0]), ValueError, r"logits must be a 2-D array \(N, K\)"),
        ((logits.astype(np.int64), np.array([0, 1, 2])), TypeError,
         "logits must have dtype float32 or float64"),
        ((np.zeros((0, 4)), np.array([], dtype=int)), ValueError, "at least one sample and one class"),
        ((logits, np.array([0.0, 1.0, 2.0])), TypeError, "1-D labels must be integer class indices"),
        ((logits, np.array([0, 1])), ValueError, r"labels must have shape \(N,\) = \(3,\)"),
        ((logits, np.array([0, 1, 4])), ValueError, r"class indices in \[0, 4\), got values in \[0, 4\]"),
        ((logits, np.array([-1, 1, 2])), ValueError, r"class indices in \[0, 4\)"),
        ((logits, np.zeros((3, 4, 1))), ValueError, "labels must be a 1-D or 2-D array"),
        ((logits, np.zeros((3, 4), dtype=int)), TypeError, r"\(N, K\) labels must be probabilities"),
        ((logits, np.zeros((3, 4), dtype=np.float32)), TypeError,
         "labels must have the same dtype as logits"),
        ((logits, np.zeros((3, 3))), ValueError, r"labels must have the shape of logits \(3, 4\)"),
        ((logits, np.full((3, 4), 1.5)), ValueError, r"probabilities in \[0, 1\]"),
        ((logits, np.full((3, 4), np.nan)), ValueError, r"probabilities in \[0, 1\]"),
        ((logits, np.array([True, False, True])), TypeError, "labels must hold real numbers"),
    ]
    for args, exc, match in cases:
        with pytest.raises(exc, match=match):
            softmax_cross_entropy(*args)


def test_bce_and_mse_errors():
    z = np.zeros(3)
    bce = binary_cross_entropy_with_logits
    cases = [
        (bce, (np.zeros((3, 2)), np.zeros((3, 2))), ValueError,
         r"logits must have shape \(N,\) or \(N, 1\)"),
        (bce, (np.zeros((1, 3, 1)), np.zeros((1, 3, 1))), ValueError,
         "logits must be a 1-D or 2-D array"),
        (bce, (np.zeros(0), np.zeros(0)), ValueError, "at least one sample"),
        (bce, (z, np.zeros(4)), ValueError, r"labels must have the shape of logits"),
        (bce, (z, np.zeros((3, 1))), ValueError, "labels must have the shape"),
        (bce, (z, np.zeros(3, dtype=np.float32)), TypeError, "same dtype"),
        (bce, (z, np.array([0, 1, 1])), TypeError, "labels must have dtype float"),
        (bce, (z, np.array([0.0, 1.0, 2.0])), ValueError, r"in \[0, 1\]"),
        (mean_squared_error, (z, np.zeros(4)), ValueError, r"target must have the shape of pred \(3,\)"),
        (mean_squared_error, (z, np.zeros(3, dtype=np.float32)), TypeError,
         "target must have the same dtype"),
        (mean_squared_error, (np.zeros(0), np.zeros(0)), ValueError, "at least one element"),
        (mean_squared_error, ([1.0], z), TypeError, "pred must be a numpy.ndarray"),
    ]
    for fn, args, exc, match in cases:
        with pytest.raises(exc, match=match):
            fn(*args)


@pytest.mark.parametrize("shape", [(9,), (9, 1)])
def test_bce_matches_course_compute_cost(shape, rng):
    """binary_cross_entropy_with_logits(z, y) == compute_cost(sigmoid(z), y) of the course."""
    z = rng.standard_normal(shape) * 4
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    loss, _ = binary_cross_entropy_with_logits(z, y)
    al, _ = dnn.sigmoid(z.reshape(1, -1))
    assert rel_error(np.array(loss), np.array(dnn.compute_cost(al, y.reshape(1, -1)))) < 1e-10
