"""Tests of deepstep.nn.functional.dense / dense_backward."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.course import dnn
from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn.functional import dense, dense_backward


def test_forward_formula(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    out, _ = dense(x, w, b)
    expected = np.array([[sum(x[n, i] * w[i, j] for i in range(3)) + b[j] for j in range(5)]
                         for n in range(4)])
    assert rel_error(out, expected) < 1e-12


@pytest.mark.parametrize("with_bias", [True, False])
def test_numerical_gradient(with_bias, rng):
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    b = rng.standard_normal(5) if with_bias else None
    out, cache = dense(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = dense_backward(dout, cache)
    arrays = [x, w] + ([b] if with_bias else [])
    nums = numerical_gradients(lambda: dense(x, w, b)[0], arrays, dout)
    assert rel_error(dx, nums[0]) < 1e-7
    assert rel_error(dw, nums[1]) < 1e-7
    if with_bias:
        assert rel_error(db, nums[2]) < 1e-7
    else:
        assert db is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "d_in", "d_out"), [(1, 1, 1), (5, 3, 4), (16, 32, 10)])
def test_matches_torch_linear(dtype, n, d_in, d_out, rng):
    torch = pytest.importorskip("torch")
    tol = 1e-10 if dtype == np.float64 else 1e-4
    x = rng.standard_normal((n, d_in)).astype(dtype)
    w = rng.standard_normal((d_in, d_out)).astype(dtype)
    b = rng.standard_normal(d_out).astype(dtype)
    out, cache = dense(x, w, b)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dw, db = dense_backward(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w.T), requires_grad=True)  # torch: (D_out, D_in)
    bt = torch.tensor(b, requires_grad=True)
    out_t = torch.nn.functional.linear(xt, wt, bt)
    out_t.backward(torch.tensor(dout))
    for mine, theirs in [(out, out_t.detach()), (dx, xt.grad), (dw, wt.grad.T), (db, bt.grad)]:
        assert mine.dtype == dtype
        assert rel_error(mine, theirs.numpy()) < tol


def test_errors():
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.ones(4)
    cases = [
        ((np.ones(3), w, b), ValueError, r"x must be a 2-D array \(N, D_in\), got shape \(3,\)"),
        ((x, np.ones((3, 4, 1)), b), ValueError, r"w must be a 2-D array \(D_in, D_out\)"),
        ((x, np.ones((2, 4)), b), ValueError, r"x has 3 features .* w expects D_in=2"),
        ((x, w, np.ones(3)), ValueError, r"b must have shape \(D_out,\) = \(4,\), got \(3,\)"),
        ((x, w, np.ones((1, 4))), ValueError, "b must be a 1-D array"),
        ((x, w.astype(np.float32), b), TypeError, "w must have the same dtype as x"),
        ((x, w, b.astype(np.float32)), TypeError, "b must have the same dtype as x"),
        ((x.astype(int), w, b), TypeError, "x must have dtype float32 or float64"),
    ]
    for args, exc, match in cases:
        with pytest.raises(exc, match=match):
            dense(*args)
    out, cache = dense(x, w, b)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 4\), got \(2, 3\)"):
        dense_backward(np.ones((2, 3)), cache)
    with pytest.raises(TypeError, match="dout must have the forward input's dtype float64"):
        dense_backward(out.astype(np.float32), cache)
    with pytest.raises(TypeError, match="cache must be the"):
        dense_backward(out, None)


def test_matches_course_dnn_linear(rng):
    """dense is the course's linear layer transposed: ``Z = W A + b`` with examples as columns.

    The course folds the batch mean into ``linear_backward`` (``dW = dZ A^T / m``), so the
    upstream gradient given to ``dense_backward`` is ``dZ^T / m``.
    """
    m, n_prev, n_l = 6, 4, 3
    a, w = rng.standard_normal((n_prev, m)), rng.standard_normal((n_l, n_prev))
    b = rng.standard_normal((n_l, 1))
    z_ref, cache_ref = dnn.linear_forward(a, w, b)
    out, cache = dense(a.T, w.T, b.ravel())
    assert rel_error(out, z_ref.T) < 1e-12
    dz = rng.standard_normal(z_ref.shape)
    da_ref, dw_ref, db_ref = dnn.linear_backward(dz, cache_ref)
    dx, dw, db = dense_backward(np.ascontiguousarray(dz.T) / m, cache)
    assert rel_error(dw, dw_ref.T) < 1e-12
    assert rel_error(db, db_ref.ravel()) < 1e-12
    assert rel_error(dx * m, da_ref.T) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_need_dx_false_skips_dx_and_keeps_dw_db(dtype, rng):
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((6, 7), (7, 3), (3,)))
    dout = rng.standard_normal((6, 3)).astype(dtype)
    out, cache = dense(x, w, b)
    out2, cache2 = dense(x, w, b, need_dx=False)
    np.testing.assert_array_equal(out, out2)
    dx, dw, db = dense_backward(dout, cache)
    dx2, dw2, db2 = dense_backward(dout, cache2)
    assert dx is not None and dx2 is None
    np.testing.assert_array_equal(dw, dw2)
    np.testing.assert_array_equal(db, db2)
    assert dw.dtype == dtype and dw.shape == (7, 3)
    np.testing.assert_allclose(dw, x.T @ dout, rtol=1e-5 if dtype == np.float32 else 1e-12)
    with pytest.raises(TypeError, match="need_dx must be a bool, got 'no'"):
        dense(x, w, b, need_dx="no")


@pytest.mark.parametrize("compiled_threads, expected", [(0, 0), (1, 0), (2, 3)])
def test_products_run_on_one_blas_thread_while_compiled_kernels_use_several(monkeypatch, compiled_threads,
                                                                             expected):
    import contextlib
    import importlib

    from deepstep.nn.functional import _parallel, _registry

    dense_module = importlib.import_module("deepstep.nn.functional.dense")  # the package exports the function

    entered = []

    @contextlib.contextmanager
    def one_thread():
        entered.append(1)
        yield

    monkeypatch.setattr(_registry, "compiled_threads", lambda: compiled_threads)
    monkeypatch.setattr(dense_module, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "blas_on_one_thread", one_thread)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    out, cache = dense(x, w)
    dx, dw, _ = dense_backward(np.ones_like(out), cache)
    np.testing.assert_allclose(out, x @ w)
    np.testing.assert_allclose(dx, np.ones_like(out) @ w.T)
    np.testing.assert_allclose(dw, x.T @ np.ones_like(out))
    assert len(entered) == expected  # forward, dx and dw
