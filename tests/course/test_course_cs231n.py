"""deepstep.course.cs231n: the assignment's checks, gradients, ties, cnn/torch cross-checks, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import deepstep.course.cs231n
from deepstep.course import cnn, cs231n
from deepstep.course.cs231n import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from deepstep.gradcheck import numerical_gradients, rel_error


def test_module_imports_both_ways():
    assert deepstep.course.cs231n is cs231n
    assert set(cs231n.__all__) == {
        "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    }


# --------------------------------------------------------------------------- the assignment's checks


def test_conv_forward_naive_assignment_check():
    x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
    x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
    w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
    b = np.linspace(-0.1, 0.2, num=3)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    correct_out = np.array(
        [[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
          [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
          [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
         [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
          [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
          [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]]
    )
    assert out.shape == correct_out.shape
    np.testing.assert_allclose(out, correct_out, rtol=0, atol=1e-8)
    assert rel_error(out, correct_out) < 1e-7  # the assignment's own criterion (about 2e-8)
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is conv_param


def test_max_pool_forward_naive_assignment_check():
    x_shape = (2, 3, 4, 4)
    x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
    pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
    correct_out = np.array(
        [[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
          [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
          [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
         [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
          [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
          [[0.32631579, 0.34105263], [0.38526316, 0.4]]]]
    )
    np.testing.assert_allclose(out, correct_out, rtol=0, atol=1e-8)
    assert cache[0] is x and cache[1] is pool_param


# --------------------------------------------------------------------------- gradients


def _reference_conv(x, w, b, stride, pad):
    """out by the definition, with np.einsum per output position (independent of the loops)."""
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    HH, WW = w.shape[2:]
    H_out = (x_pad.shape[2] - HH) // stride + 1
    W_out = (x_pad.shape[3] - WW) // stride + 1
    out = np.empty((x.shape[0], w.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.einsum("ncpq,fcpq->nf", window, w) + b
    return out


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "pad"),
    [
        ((2, 3, 5, 5), (2, 3, 3, 3), 1, 1),  # the assignment's gradient check, smaller
        ((1, 2, 6, 5), (3, 2, 2, 3), 2, 0),  # batch of 1, pad 0, stride 2, rectangular kernel and input
        ((2, 1, 4, 7), (2, 1, 3, 2), 2, 2),  # floor division, big padding
        ((1, 2, 3, 3), (1, 2, 3, 3), 1, 0),  # a single output position
    ],
)
def test_conv_backward_naive_matches_numerical_gradient(rng, x_shape, w_shape, stride, pad):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    np.testing.assert_allclose(out, _reference_conv(x, w, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    dx_num, dw_num, db_num = numerical_gradients(
        lambda: conv_forward_naive(x, w, b, conv_param)[0], [x, w, b], dout
    )
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dw, dw_num) < 1e-7
    assert rel_error(db, db_num) < 1e-7


def _separated_values(rng, shape):
    """A random permutation of well-separated values: no ties, even after +-h perturbation."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


@pytest.mark.parametrize(
    ("x_shape", "pool_height", "pool_width", "stride"),
    [
        ((2, 3, 4, 4), 2, 2, 2),  # the assignment's case
        ((1, 2, 5, 4), 2, 2, 1),  # overlapping windows, rectangular input, batch of 1
        ((2, 1, 5, 7), 3, 2, 2),  # rectangular window, overlap in height, floor division
        ((1, 2, 3, 4), 3, 4, 1),  # global pooling
    ],
)
def test_max_pool_backward_naive_matches_numerical_gradient(rng, x_shape, pool_height, pool_width, stride):
    x = _separated_values(rng, x_shape)
    pool_param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out.shape)
    dx = max_pool_backward_naive(dout, cache)
    (dx_num,) = numerical_gradients(lambda: max_pool_forward_naive(x, pool_param)[0], [x], dout)
    assert rel_error(dx, dx_num) < 1e-7


def test_max_pool_backward_naive_sends_gradient_to_the_first_tied_maximum_only():
    x = np.array([[1.0, 5.0], [5.0, 2.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward_naive(np.full((1, 1, 1, 1), 3.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 3.0], [0.0, 0.0]])
    # A constant input with overlapping windows: each window picks its own top-left entry.
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 1}
    _, cache = max_pool_forward_naive(np.zeros((1, 1, 3, 3)), pool_param)
    dx = max_pool_backward_naive(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    # course.cnn gives the full gradient to every tied maximum instead.
    _, cnn_cache = cnn.pool_forward(np.zeros((1, 3, 3, 1)), {"f": 2, "stride": 1})
    np.testing.assert_array_equal(cnn.pool_backward(np.ones((1, 2, 2, 1)), cnn_cache)[0, :, :, 0],
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_max_pool_backward_naive_overlapping_windows_accumulate():
    # The 9 is the maximum of all four overlapping 2x2 windows: its gradient is their sum.
    x = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 1, 3, 3)
    _, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    dx = max_pool_backward_naive(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_integer_inputs_give_float64_results():
    x = np.arange(2 * 2 * 4 * 3).reshape(2, 2, 4, 3) % 7 - 3
    w = np.arange(3 * 2 * 2 * 2).reshape(3, 2, 2, 2) % 5 - 2
    b = np.array([1, -1, 2])
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    out_float, _ = conv_forward_naive(
        x.astype(np.float32), w.astype(float), b.astype(float), {"stride": 1, "pad": 1}
    )
    assert out.dtype == out_float.dtype == np.float64
    np.testing.assert_array_equal(out, out_float)
    assert all(g.dtype == np.float64 for g in conv_backward_naive(np.ones(out.shape, dtype=int), cache))
    out, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    assert out.dtype == np.float64
    assert max_pool_backward_naive(np.ones(out.shape, dtype=int), cache).dtype == np.float64


# --------------------------------------------------------------------------- cross-checks


@pytest.mark.parametrize(
    ("x_shape", "F", "f", "stride", "pad"),
    [((2, 3, 5, 4), 2, 3, 1, 1), ((1, 2, 7, 6), 3, 2, 2, 0), ((2, 2, 4, 4), 2, 3, 3, 2)],
)
def test_conv_agrees_with_course_cnn(rng, x_shape, F, f, stride, pad):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((F, x_shape[1], f, f))
    b = rng.standard_normal(F)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    A_prev, W = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0)  # NCHW -> NHWC, (F,C,f,f) -> (f,f,C,F)
    Z, cnn_cache = cnn.conv_forward(A_prev, W, b.reshape(1, 1, 1, F), conv_param)
    np.testing.assert_allclose(out, Z.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    dA_prev, dW, db_cnn = cnn.conv_backward(dout.transpose(0, 2, 3, 1), cnn_cache)
    np.testing.assert_allclose(dx, dA_prev.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dW.transpose(3, 2, 0, 1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db_cnn.reshape(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("x_shape", "f", "stride"), [((2, 3, 4, 5), 2, 2), ((1, 2, 6, 5), 3, 1), ((2, 1, 7, 7), 3, 2)]
)
def test_max_pool_agrees_with_course_cnn(rng, x_shape, f, stride):
    x = _separated_values(rng, x_shape)
    out, cache = max_pool_forward_naive(x, {"pool_height": f, "pool_width": f, "stride": stride})
    A, cnn_cache = cnn.pool_forward(x.transpose(0, 2, 3, 1), {"f": f, "stride": stride})
    np.testing.assert_array_equal(out, A.transpose(0, 3, 1, 2))
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        max_pool_backward_naive(dout, cache),
        cnn.pool_backward(dout.transpose(0, 2, 3, 1), cnn_cache).transpose(0, 3, 1, 2),
        rtol=1e-12, atol=1e-12,
    )


@settings(max_examples=25)
@given(
    N=st.integers(1, 2), C=st.integers(1, 3), H=st.integers(1, 6), W=st.integers(1, 6), F=st.integers(1, 3),
    HH=st.integers(1, 3), WW=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_conv_matches_torch(N, C, H, W, F, HH, WW, stride, pad, seed):
    torch = pytest.importorskip("torch")
    assume(HH <= H + 2 * pad and WW <= W + 2 * pad)  # otherwise an error, tested below
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    x_t, w_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(x_t, w_t, b_t, stride=stride, padding=pad)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    out_t.backward(torch.tensor(dout))
    for ours, theirs in zip(conv_backward_naive(dout, cache), (x_t, w_t, b_t), strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=25)
@given(
    N=st.integers(1, 2), C=st.integers(1, 2), H=st.integers(1, 6), W=st.integers(1, 6),
    ph=st.integers(1, 3), pw=st.integers(1, 3), stride=st.integers(1, 3),
    ties=st.booleans(), seed=st.integers(0, 2**16),
)
def test_max_pool_matches_torch_including_ties(N, C, H, W, ph, pw, stride, ties, seed):
    """PyTorch also routes a window's gradient to its first maximum in row-major order."""
    torch = pytest.importorskip("torch")
    assume(ph <= H and pw <= W)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (N, C, H, W)).astype(float) if ties else _separated_values(rng, (N, C, H, W))
    out, cache = max_pool_forward_naive(x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    x_t = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(x_t, (ph, pw), stride)
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    dout = rng.standard_normal(out.shape)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(max_pool_backward_naive(dout, cache), x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- bad input


def _conv_args(**overrides):
    args = {
        "x": np.zeros((2, 3, 5, 5)),
        "w": np.zeros((4, 3, 3, 2)),
        "b": np.zeros(4),
        "conv_param": {"stride": 1, "pad": 0},
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"x": np.zeros((3, 5, 5))}, ValueError,
         r"x must be a 4-D array \(N, C, H, W\), got shape \(3, 5, 5\)"),
        ({"x": np.zeros((2, 0, 5, 5))}, ValueError, r"x must have every dimension >= 1"),
        ({"x": np.zeros((2, 3, 5, 5), dtype=bool)}, TypeError, r"x must hold real numbers.*bool"),
        ({"x": np.zeros((2, 3, 5, 5), dtype=complex)}, TypeError, r"x must hold real numbers.*complex"),
        ({"w": np.zeros((4, 3, 3))}, ValueError, r"w must be a 4-D array \(F, C, HH, WW\)"),
        ({"w": np.zeros((0, 3, 3, 3))}, ValueError, r"w must have every dimension >= 1"),
        ({"w": np.zeros((4, 2, 3, 3))}, ValueError, r"w's C \(axis 1\) must equal x's channels 3, got 2"),
        ({"b": np.zeros((1, 4))}, ValueError, r"b must be a 1-D array \(F,\), got shape \(1, 4\)"),
        ({"b": np.zeros(3)}, ValueError,
         r"b must have shape \(F,\) = \(4,\), one bias per filter of w, got \(3,\)"),
        ({"conv_param": None}, TypeError, r"conv_param must be a dict, got NoneType"),
        ({"conv_param": {"pad": 0}}, ValueError, r"conv_param is missing required key\(s\) 'stride'"),
        ({"conv_param": {}}, ValueError, r"conv_param is missing required key\(s\) 'stride', 'pad'"),
        ({"conv_param": {"stride": 0, "pad": 0}}, ValueError, r"conv_param\['stride'\] must be >= 1, got 0"),
        ({"conv_param": {"stride": 2.0, "pad": 0}}, TypeError, r"conv_param\['stride'\] must be an integer"),
        ({"conv_param": {"stride": 1, "pad": -2}}, ValueError, r"conv_param\['pad'\] must be >= 0, got -2"),
        ({"conv_param": {"stride": 1, "pad": "same"}}, TypeError, r"conv_param\['pad'\] must be an integer"),
        ({"w": np.zeros((4, 3, 6, 2))}, ValueError,
         r"w: window of height 6 does not fit the padded input height 5"),
        ({"x": np.zeros((2, 3, 5, 1))}, ValueError,
         r"w: window of width 2 does not fit the padded input width 1"),
    ],
)
def test_conv_naive_rejects_bad_input(overrides, error, match):
    args = _conv_args(**overrides)
    with pytest.raises(error, match=match):
        conv_forward_naive(**args)
    cache = (args["x"], args["w"], args["b"], args["conv_param"])
    with pytest.raises(error, match=match):
        conv_backward_naive(np.zeros((2, 4, 3, 4)), cache)


def test_conv_backward_naive_rejects_bad_dout_and_cache():
    out, cache = conv_forward_naive(**_conv_args())
    assert out.shape == (2, 4, 3, 4)
    with pytest.raises(
        ValueError, match=r"dout must have the forward output's shape \(2, 4, 3, 4\), got \(2, 4, 4, 3\)"
    ):
        conv_backward_naive(np.zeros((2, 4, 4, 3)), cache)
    with pytest.raises(ValueError, match=r"dout must be a 4-D array"):
        conv_backward_naive(out[0], cache)
    with pytest.raises(TypeError, match=r"dout must hold real numbers"):
        conv_backward_naive(out.astype(complex), cache)
    with pytest.raises(TypeError, match=r"cache must be the tuple \(x, w, b, conv_param\) returned by "
                                        r"conv_forward_naive, got tuple of length 2"):
        conv_backward_naive(out, cache[:2])
    with pytest.raises(TypeError, match=r"cache must be the tuple .* got NoneType"):
        conv_backward_naive(out, None)


@pytest.mark.parametrize(
    ("x", "pool_param", "error", "match"),
    [
        (np.zeros((4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2}, ValueError,
         r"x must be a 4-D array \(N, C, H, W\)"),
        (np.zeros((1, 1, 4, 4), dtype=bool), {"pool_height": 2, "pool_width": 2, "stride": 2}, TypeError,
         r"x must hold real numbers"),
        (np.zeros((1, 1, 4, 4)), {"pool_height": 2, "stride": 2}, ValueError,
         r"pool_param is missing required key\(s\) 'pool_width'"),
        (np.zeros((1, 1, 4, 4)), [2, 2, 2], TypeError, r"pool_param must be a dict, got list"),
        (np.zeros((1, 1, 4, 4)), {"pool_height": 0, "pool_width": 2, "stride": 2}, ValueError,
         r"pool_param\['pool_height'\] must be >= 1, got 0"),
        (np.zeros((1, 1, 4, 4)), {"pool_height": 2, "pool_width": 2.5, "stride": 2}, TypeError,
         r"pool_param\['pool_width'\] must be an integer"),
        (np.zeros((1, 1, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": -1}, ValueError,
         r"pool_param\['stride'\] must be >= 1, got -1"),
        (np.zeros((1, 1, 4, 4)), {"pool_height": 5, "pool_width": 2, "stride": 1}, ValueError,
         r"pool_param\['pool_height'\]: window of height 5 does not fit the padded input height 4"),
        (np.zeros((1, 1, 4, 3)), {"pool_height": 2, "pool_width": 4, "stride": 1}, ValueError,
         r"pool_param\['pool_width'\]: window of width 4 does not fit the padded input width 3"),
    ],
)
def test_max_pool_naive_rejects_bad_input(x, pool_param, error, match):
    with pytest.raises(error, match=match):
        max_pool_forward_naive(x, pool_param)
    with pytest.raises(error, match=match):
        max_pool_backward_naive(np.zeros((1, 1, 2, 2)), (x, pool_param))


def test_max_pool_backward_naive_rejects_bad_dout_and_cache():
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = max_pool_forward_naive(np.zeros((2, 3, 4, 4)), pool_param)
    with pytest.raises(
        ValueError, match=r"dout must have the forward output's shape \(2, 3, 2, 2\), got \(2, 3, 2, 1\)"
    ):
        max_pool_backward_naive(np.zeros((2, 3, 2, 1)), cache)
    with pytest.raises(ValueError, match=r"dout must be a 4-D array"):
        max_pool_backward_naive(np.zeros(3), cache)
    with pytest.raises(TypeError, match=r"cache must be the tuple \(x, pool_param\) returned by "
                                        r"max_pool_forward_naive, got tuple of length 1"):
        max_pool_backward_naive(out, cache[:1])
