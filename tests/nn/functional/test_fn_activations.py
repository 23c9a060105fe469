"""Tests of the activations in deepstep.nn.functional."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from deepstep.course import dnn
from deepstep.gradcheck import eval_numerical_gradient_array, rel_error
from deepstep.nn.functional import (
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)

ELEMENTWISE = {
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "softmax": (softmax, softmax_backward),
}


def away_from_zero(rng, shape):
    """Values with |x| >= 0.1, where relu and leaky_relu are differentiable."""
    x = rng.uniform(0.1, 3.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_numerical_gradient(name, rng):
    fwd, bwd = ELEMENTWISE[name]
    x = away_from_zero(rng, (4, 5))
    out, cache = fwd(x)
    dout = rng.standard_normal(out.shape)
    dx = bwd(dout, cache)
    num = eval_numerical_gradient_array(lambda v: fwd(v)[0], x, dout)
    assert rel_error(dx, num) < 1e-7


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_softmax_numerical_gradient_any_axis(axis, rng):
    x = rng.standard_normal((3, 4, 2))
    out, cache = softmax(x, axis=axis)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    num = eval_numerical_gradient_array(lambda v: softmax(v, axis=axis)[0], x, dout)
    assert rel_error(softmax_backward(dout, cache), num) < 1e-7


def test_leaky_relu_alpha_gradient(rng):
    x = away_from_zero(rng, (6, 3))
    out, cache = leaky_relu(x, alpha=0.2)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.2 * x))
    dout = rng.standard_normal(x.shape)
    num = eval_numerical_gradient_array(lambda v: leaky_relu(v, 0.2)[0], x, dout)
    assert rel_error(leaky_relu_backward(dout, cache), num) < 1e-7


def torch_call(torch, name, xt):
    functional = torch.nn.functional
    if name == "leaky_relu":
        return functional.leaky_relu(xt, 0.01)
    if name == "softmax":
        return torch.softmax(xt, dim=-1)
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[name](xt)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(7,), (4, 9), (2, 3, 5)])
def test_matches_torch(name, dtype, shape, rng):
    torch = pytest.importorskip("torch")
    tol = 1e-10 if dtype == np.float64 else 1e-4
    fwd, bwd = ELEMENTWISE[name]
    # tanh' = 1 - tanh(x)^2 is ill-conditioned for large |x| (the last bits of tanh differ between
    # libraries), so tanh is compared on a moderate range.
    scale = 1.0 if name == "tanh" else 4.0
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    x.flat[0] = 0.0  # the kink of relu / leaky_relu: the gradient convention must match too
    out, cache = fwd(x)
    dout = rng.standard_normal(shape).astype(dtype)
    dx = bwd(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch_call(torch, name, xt)
    out_t.backward(torch.tensor(dout))
    assert out.dtype == dx.dtype == dtype
    assert rel_error(out, out_t.detach().numpy()) < tol
    assert rel_error(dx, xt.grad.numpy()) < tol


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_inputs_exact_limits_without_warnings(dtype):
    x = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype)
    # No RuntimeWarning, and not even a floating-point flag from user settings such as
    # np.seterr(all="raise"): underflow of exp is silenced inside the kernels.
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s, s_cache = sigmoid(x)
        t, _ = tanh(x)
        sm, sm_cache = softmax(np.stack([x, -x]), axis=1)
        r, _ = relu(x)
        lr, _ = leaky_relu(x)
        ds = sigmoid_backward(np.ones_like(x), s_cache)
        dsm = softmax_backward(np.ones_like(sm), sm_cache)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert s[1] == 0.0 and s[-2] == 1.0
    assert t[0] == -1.0 and t[-1] == 1.0
    np.testing.assert_array_equal(sm[0], [0, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(sm[1], [1, 0, 0, 0, 0, 0, 0])
    assert ds[0] == 0.0 and ds[-1] == 0.0
    assert np.all(np.isfinite(dsm))
    np.testing.assert_array_equal(r, np.maximum(x, 0))
    assert lr[0] == dtype(-100.0)
    for arr in (s, t, sm, r, lr, ds, dsm):
        assert arr.dtype == dtype


def test_relu_gradient_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = relu(x)
    np.testing.assert_array_equal(relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])
    _, cache = leaky_relu(x, 0.1)
    np.testing.assert_allclose(leaky_relu_backward(np.ones(3), cache), [0.1, 0.1, 1.0])


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_errors(name):
    fwd, bwd = ELEMENTWISE[name]
    with pytest.raises(TypeError, match="x must have dtype float32 or float64, got int64"):
        fwd(np.array([1, 2], dtype=np.int64))
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        fwd([1.0, 2.0])
    out, cache = fwd(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward .*\(2, 3\), got \(3, 2\)"):
        bwd(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="dout must have the forward input's dtype float64, got float32"):
        bwd(np.ones((2, 3), dtype=np.float32), cache)
    with pytest.raises(TypeError, match="cache must be the"):
        bwd(np.ones((2, 3)), "not a cache")


def test_argument_errors():
    with pytest.raises(ValueError, match=r"axis must be in \[-2, 2\) for a 2-D x, got 2"):
        softmax(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis must be an integer"):
        softmax(np.ones((2, 3)), axis=1.0)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        softmax(np.array(1.0))
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        leaky_relu(np.ones(2), alpha=-0.1)
    with pytest.raises(ValueError, match="alpha must be finite"):
        leaky_relu(np.ones(2), alpha=float("nan"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_course_dnn(dtype, rng):
    """sigmoid and relu agree with the Deep Learning Specialization's step-by-step versions."""
    tol = 1e-10 if dtype == np.float64 else 1e-5
    z = (rng.standard_normal((4, 7)) * 5).astype(dtype)
    z[0, 0] = 0.0
    da = rng.standard_normal(z.shape).astype(dtype)
    for mine, mine_backward, theirs, theirs_backward in [
        (sigmoid, sigmoid_backward, dnn.sigmoid, dnn.sigmoid_backward),
        (relu, relu_backward, dnn.relu, dnn.relu_backward),
    ]:
        out, cache = mine(z)
        ref_out, ref_cache = theirs(z)
        assert rel_error(out, ref_out) < tol
        assert rel_error(mine_backward(da, cache), theirs_backward(da, ref_cache)) < tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_overwrite_x_writes_in_place_and_keeps_the_gradient(rng, dtype):
    x = rng.standard_normal((4, 5, 6)).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    copy = x.copy()
    expected, expected_cache = relu(copy)
    out, cache = relu(x, overwrite_x=True)
    assert out is x and cache is x
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(relu_backward(dout, cache), relu_backward(dout, expected_cache))
    np.testing.assert_array_equal(relu_backward(dout, expected_cache), np.where(copy > 0, dout, 0))
    _, cache = relu(copy)
    assert cache is copy and np.any(copy < 0)  # the default leaves x alone


def test_relu_overwrite_x_must_be_a_bool():
    with pytest.raises(TypeError, match="overwrite_x must be a bool, got 1"):
        relu(np.ones(2), overwrite_x=1)


def test_relu_backward_into_out(rng):
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, cache = relu(x)
    buffer = np.full_like(dout, 7.0)
    dx = relu_backward(dout, cache, out=buffer)
    assert dx is buffer
    np.testing.assert_array_equal(dx, relu_backward(dout, cache))
    for bad, got in [(np.empty((4, 3)), r"float64 array of shape \(4, 3\)"),
                     (np.empty((3, 4), np.float32), r"float32 array of shape \(3, 4\)"), ([0.0], "list")]:
        expected = r"out must be a float64 array of shape \(3, 4\) \(like dout\), got " + got
        with pytest.raises(ValueError, match=expected):
            relu_backward(dout, cache, out=bad)
