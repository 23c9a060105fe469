"""deepstep.course.cnn: the notebook's Expected Output, gradients, ties, cross-checks, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import deepstep.course.cnn
from deepstep.course import cnn
from deepstep.course.cnn import (
    conv_backward,
    conv_forward,
    conv_single_step,
    create_mask_from_window,
    distribute_value,
    pool_backward,
    pool_forward,
    zero_pad,
)
from deepstep.gradcheck import numerical_gradients, rel_error

ATOL = 1e-8  # the notebook prints 8 decimals
EXACT = 1e-12  # relative, for values printed with full precision


def _notebook_random() -> np.random.RandomState:
    """The notebook's ``np.random.seed(1)`` followed by ``np.random.randn`` draws the same numbers."""
    return np.random.RandomState(1)  # noqa: NPY002 - the legacy generator reproduces the notebook


def test_module_imports_both_ways():
    assert deepstep.course.cnn is cnn
    assert cnn.conv_forward is conv_forward
    assert set(cnn.__all__) == {
        "zero_pad", "conv_single_step", "conv_forward", "conv_backward",
        "pool_forward", "create_mask_from_window", "distribute_value", "pool_backward",
    }


# --------------------------------------------------------------------------- Expected Output


def test_zero_pad_expected_output():
    r = _notebook_random()
    x = r.randn(4, 3, 3, 2)
    x_pad = zero_pad(x, 2)
    assert x.shape == (4, 3, 3, 2)
    assert x_pad.shape == (4, 7, 7, 2)
    np.testing.assert_allclose(
        x[1, 1], [[0.90085595, -0.68372786], [-0.12289023, -0.93576943], [-0.26788808, 0.53035547]],
        rtol=0, atol=ATOL,
    )
    np.testing.assert_array_equal(x_pad[1, 1], np.zeros((7, 2)))
    np.testing.assert_array_equal(x_pad[:, 2:5, 2:5, :], x)


def test_zero_pad_pad_3_and_pad_0():
    r = _notebook_random()
    x = r.randn(4, 3, 3, 2)
    x_pad = zero_pad(x, 3)
    assert x_pad.shape == (4, 9, 9, 2)
    np.testing.assert_array_equal(x_pad[:, 3:6, 3:6, :], x)
    border = x_pad.copy()
    border[:, 3:6, 3:6, :] = 0
    assert not border.any()
    np.testing.assert_array_equal(zero_pad(x, 0), x)
    assert zero_pad(x.astype(np.float32), 1).dtype == np.float32


def test_conv_single_step_expected_output():
    r = _notebook_random()
    a_slice_prev = r.randn(4, 4, 3)
    W = r.randn(4, 4, 3)
    b = r.randn(1, 1, 1)
    Z = conv_single_step(a_slice_prev, W, b)
    assert np.ndim(Z) == 0 and not isinstance(Z, np.ndarray)
    assert Z == pytest.approx(-6.999089450680221, rel=EXACT)


def test_conv_single_step_accepts_any_one_element_bias():
    a = np.ones((2, 2, 1))
    assert conv_single_step(a, a, 0.5) == 4.5
    assert conv_single_step(a, a, np.array([[[-1]]])) == 3.0


def test_conv_forward_expected_output_seed_000():
    r = _notebook_random()
    A_prev = r.randn(2, 5, 7, 4)
    W = r.randn(3, 3, 4, 8)
    b = r.randn(1, 1, 1, 8)
    hparameters = {"pad": 1, "stride": 2}
    Z, cache_conv = conv_forward(A_prev, W, b, hparameters)
    assert Z.shape == (2, 3, 4, 8)
    assert np.mean(Z) == pytest.approx(0.5511276474566768, rel=EXACT)
    np.testing.assert_allclose(
        Z[0, 2, 1],
        [-2.17796037, 8.07171329, -0.5772704, 3.36286738, 4.48113645, -2.89198428, 10.99288867, 3.03171932],
        rtol=0, atol=ATOL,
    )
    np.testing.assert_allclose(
        cache_conv[0][1][2][3], [-1.1191154, 1.9560789, -0.3264995, -1.34267579], rtol=0, atol=ATOL
    )
    assert cache_conv[0] is A_prev and cache_conv[1] is W and cache_conv[2] is b
    assert cache_conv[3] is hparameters


def _notebook_conv_case_001():
    r = _notebook_random()
    A_prev = r.randn(10, 4, 4, 3)
    W = r.randn(2, 2, 3, 8)
    b = r.randn(1, 1, 1, 8)
    return conv_forward(A_prev, W, b, {"pad": 2, "stride": 2})


def test_conv_forward_expected_output_seed_001():
    Z, cache_conv = _notebook_conv_case_001()
    assert Z.shape == (10, 4, 4, 8)
    assert np.mean(Z) == pytest.approx(0.0489952035289, abs=1e-12)
    np.testing.assert_allclose(
        Z[3, 2, 1],
        [-0.61490741, -6.7439236, -2.55153897, 1.75698377, 3.56208902, 0.53036437, 5.18531798, 8.75898442],
        rtol=0, atol=ATOL,
    )
    np.testing.assert_allclose(
        cache_conv[0][1][2][3], [-0.20075807, 0.18656139, 0.41005165], rtol=0, atol=ATOL
    )


def test_conv_backward_expected_output():
    Z, cache_conv = _notebook_conv_case_001()
    dA, dW, db = conv_backward(Z, cache_conv)
    assert dA.shape == (10, 4, 4, 3) and dW.shape == (2, 2, 3, 8) and db.shape == (1, 1, 1, 8)
    assert np.mean(dA) == pytest.approx(1.4524377775388075, rel=EXACT)
    assert np.mean(dW) == pytest.approx(1.7269914583139097, rel=EXACT)
    assert np.mean(db) == pytest.approx(7.839232564616838, rel=EXACT)


def test_pool_forward_expected_output_case_1_stride_1():
    r = _notebook_random()
    A_prev = r.randn(2, 5, 5, 3)
    hparameters = {"stride": 1, "f": 3}
    A, cache = pool_forward(A_prev, hparameters, mode="max")
    assert A.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(
        A[1, 1],
        [[1.96710175, 0.84616065, 1.27375593], [1.96710175, 0.84616065, 1.23616403],
         [1.62765075, 1.12141771, 1.2245077]],
        rtol=0, atol=ATOL,
    )
    assert cache[0] is A_prev and cache[1] is hparameters
    A, _ = pool_forward(A_prev, hparameters, mode="average")
    assert A.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(
        A[1, 1],
        [[0.44497696, -0.00261695, -0.31040307], [0.50811474, -0.23493734, -0.23961183],
         [0.11872677, 0.17255229, -0.22112197]],
        rtol=0, atol=ATOL,
    )


def test_pool_forward_expected_output_case_2_stride_2():
    r = _notebook_random()
    A_prev = r.randn(2, 5, 5, 3)
    hparameters = {"stride": 2, "f": 3}
    A, _ = pool_forward(A_prev, hparameters, mode="max")
    assert A.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(
        A[0],
        [[[1.74481176, 0.90159072, 1.65980218], [1.74481176, 1.6924546, 1.65980218]],
         [[1.13162939, 1.51981682, 2.18557541], [1.13162939, 1.6924546, 2.18557541]]],
        rtol=0, atol=ATOL,
    )
    A, _ = pool_forward(A_prev, hparameters, mode="average")
    np.testing.assert_allclose(
        A[1],
        [[[-0.17313416, 0.32377198, -0.34317572], [0.02030094, 0.14141479, -0.01231585]],
         [[0.42944926, 0.08446996, -0.27290905], [0.15077452, 0.28911175, 0.00123239]]],
        rtol=0, atol=ATOL,
    )


def test_pool_forward_expected_output_seed_001():
    r = _notebook_random()
    A_prev = r.randn(2, 4, 4, 3)
    hparameters = {"stride": 2, "f": 3}
    A, _ = pool_forward(A_prev, hparameters)
    np.testing.assert_allclose(
        A, [[[[1.74481176, 0.86540763, 1.13376944]]], [[[1.13162939, 1.51981682, 2.18557541]]]],
        rtol=0, atol=ATOL,
    )
    A, _ = pool_forward(A_prev, hparameters, mode="average")
    np.testing.assert_allclose(
        A, [[[[0.02105773, -0.20328806, -0.40389855]]], [[[-0.22154621, 0.51716526, 0.48155844]]]],
        rtol=0, atol=ATOL,
    )


def test_create_mask_from_window_expected_output():
    r = _notebook_random()
    x = r.randn(2, 3)
    mask = create_mask_from_window(x)
    np.testing.assert_allclose(
        x, [[1.62434536, -0.61175641, -0.52817175], [-1.07296862, 0.86540763, -2.3015387]], rtol=0, atol=ATOL
    )
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, [[True, False, False], [False, False, False]])
    x = np.array([[-1, 2, 3], [2, -3, 2], [1, 5, -2]])
    y = np.array([[False, False, False], [False, False, False], [False, True, False]])
    np.testing.assert_array_equal(create_mask_from_window(x), y)


def test_create_mask_from_window_marks_every_tied_maximum():
    np.testing.assert_array_equal(create_mask_from_window(np.array([[1.0, 5.0], [5.0, 2.0]])),
                                  [[False, True], [True, False]])


def test_distribute_value_expected_output():
    a = distribute_value(2, (2, 2))
    np.testing.assert_array_equal(a, [[0.5, 0.5], [0.5, 0.5]])
    assert a.dtype == np.float64
    a = distribute_value(100, (10, 10))
    np.testing.assert_array_equal(a, np.ones((10, 10)))
    np.testing.assert_array_equal(distribute_value(np.float64(3.0), (1, 3)), [[1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(distribute_value(np.array(6.0), [2, 3]), np.ones((2, 3)))


def test_pool_backward_expected_output():
    r = _notebook_random()
    A_prev = r.randn(5, 5, 3, 2)
    hparameters = {"stride": 1, "f": 2}
    A, cache = pool_forward(A_prev, hparameters)
    assert A.shape == (5, 4, 2, 2)
    assert cache[0].shape == (5, 5, 3, 2)
    dA = r.randn(5, 4, 2, 2)
    assert np.mean(dA) == pytest.approx(0.14571390272918056, rel=EXACT)
    dA_prev1 = pool_backward(dA, cache, mode="max")
    np.testing.assert_allclose(dA_prev1[1, 1], [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]],
                               rtol=0, atol=ATOL)
    dA_prev2 = pool_backward(dA, cache, mode="average")
    np.testing.assert_allclose(
        dA_prev2[1, 1],
        [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]],
        rtol=0, atol=ATOL,
    )
    assert dA_prev1.shape == dA_prev2.shape == A_prev.shape


# --------------------------------------------------------------------------- maths


def _reference_conv(A_prev, W, b, stride, pad):
    """Z by the definition, with np.einsum per output position (independent of the loops)."""
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f = W.shape[0]
    n_H = (A_pad.shape[1] - f) // stride + 1
    n_W = (A_pad.shape[2] - f) // stride + 1
    Z = np.empty((A_prev.shape[0], n_H, n_W, W.shape[3]))
    for h in range(n_H):
        for w in range(n_W):
            window = A_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            Z[:, h, w, :] = np.einsum("mpqk,pqkc->mc", window, W) + b.reshape(-1)
    return Z


def test_conv_forward_floor_division_and_uncovered_rows_get_zero_gradient(rng):
    # (6 + 0 - 3) / 2 = 1.5: the last input row and column are never covered.
    A_prev = rng.standard_normal((1, 6, 6, 2))
    W = rng.standard_normal((3, 3, 2, 2))
    b = rng.standard_normal((1, 1, 1, 2))
    Z, cache = conv_forward(A_prev, W, b, {"stride": 2, "pad": 0})
    assert Z.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(Z, _reference_conv(A_prev, W, b, 2, 0), rtol=1e-12, atol=1e-12)
    dA_prev, _, _ = conv_backward(np.ones_like(Z), cache)
    assert not dA_prev[:, 5, :, :].any() and not dA_prev[:, :, 5, :].any()
    assert dA_prev[:, :5, :5, :].all()


def test_integer_and_float32_inputs_give_float64_results():
    A_prev = np.arange(2 * 4 * 3 * 2).reshape(2, 4, 3, 2) % 7 - 3
    W = np.arange(2 * 2 * 2 * 3).reshape(2, 2, 2, 3) % 5 - 2
    b = np.array([1, -1, 2]).reshape(1, 1, 1, 3)
    hp = {"stride": 1, "pad": 1}
    Z_int, cache = conv_forward(A_prev, W, b, hp)
    Z_float, _ = conv_forward(A_prev.astype(np.float32), W.astype(np.float64), b.astype(np.float64), hp)
    assert Z_int.dtype == Z_float.dtype == np.float64
    np.testing.assert_array_equal(Z_int, Z_float)
    for grad in conv_backward(np.ones(Z_int.shape, dtype=np.int64), cache):
        assert grad.dtype == np.float64
    A, pool_cache = pool_forward(A_prev, {"f": 2, "stride": 1}, mode="average")
    assert A.dtype == np.float64
    np.testing.assert_allclose(A[0, 0, 0, 0], np.mean(A_prev[0, :2, :2, 0]))
    dA_prev = pool_backward(np.ones(A.shape, dtype=np.int64), pool_cache, mode="average")
    assert dA_prev.dtype == np.float64 and np.any(dA_prev != np.round(dA_prev))  # 1/4 not truncated


@pytest.mark.parametrize(
    ("shape", "f", "n_C", "stride", "pad"),
    [
        ((2, 5, 4, 3), 3, 2, 1, 1),  # rectangular input, "same" padding
        ((1, 6, 5, 2), 2, 3, 2, 0),  # batch of 1, pad 0, stride 2
        ((2, 4, 7, 2), 3, 2, 2, 2),  # pad > f // 2, floor division in width
        ((1, 3, 3, 1), 3, 1, 1, 0),  # a single output position
    ],
)
def test_conv_backward_matches_numerical_gradient(rng, shape, f, n_C, stride, pad):
    A_prev = rng.standard_normal(shape)
    W = rng.standard_normal((f, f, shape[3], n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    hp = {"stride": stride, "pad": pad}
    Z, cache = conv_forward(A_prev, W, b, hp)
    np.testing.assert_allclose(Z, _reference_conv(A_prev, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    dA_prev, dW, db = conv_backward(dZ, cache)
    num_dA, num_dW, num_db = numerical_gradients(
        lambda: conv_forward(A_prev, W, b, hp)[0], [A_prev, W, b], dZ
    )
    assert rel_error(dA_prev, num_dA) < 1e-7
    assert rel_error(dW, num_dW) < 1e-7
    assert rel_error(db, num_db) < 1e-7


def _separated_values(rng, shape):
    """A random permutation of well-separated values: no ties, even after +-h perturbation."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0).astype(np.float64)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(
    ("shape", "f", "stride"),
    [
        ((2, 4, 4, 2), 2, 2),  # disjoint windows
        ((1, 5, 4, 2), 2, 1),  # overlapping windows, rectangular input, batch of 1
        ((2, 5, 6, 1), 3, 2),  # overlapping windows, floor division
        ((1, 3, 3, 2), 3, 1),  # global pooling
    ],
)
def test_pool_backward_matches_numerical_gradient(rng, mode, shape, f, stride):
    A_prev = _separated_values(rng, shape)
    hp = {"f": f, "stride": stride}
    A, cache = pool_forward(A_prev, hp, mode=mode)
    dA = rng.standard_normal(A.shape)
    dA_prev = pool_backward(dA, cache, mode=mode)
    (num,) = numerical_gradients(lambda: pool_forward(A_prev, hp, mode=mode)[0], [A_prev], dA)
    assert rel_error(dA_prev, num) < 1e-7


def test_pool_backward_max_sends_full_gradient_to_every_tied_maximum():
    A_prev = np.array([[1.0, 5.0], [5.0, 2.0]]).reshape(1, 2, 2, 1)
    _, cache = pool_forward(A_prev, {"f": 2, "stride": 2})
    dA_prev = pool_backward(np.array(3.0).reshape(1, 1, 1, 1), cache)
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[0.0, 3.0], [3.0, 0.0]])
    # A constant input: every entry of every window is a maximum; overlapping windows add up.
    _, cache = pool_forward(np.zeros((1, 3, 3, 1)), {"f": 2, "stride": 1})
    dA_prev = pool_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_pool_average_overlapping_windows_accumulate():
    _, cache = pool_forward(np.zeros((1, 3, 3, 1)), {"f": 2, "stride": 1}, mode="average")
    dA_prev = pool_backward(np.full((1, 2, 2, 1), 4.0), cache, mode="average")
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# --------------------------------------------------------------------------- against PyTorch


@settings(max_examples=25)
@given(
    m=st.integers(1, 2), n_H=st.integers(1, 6), n_W=st.integers(1, 6), n_C_prev=st.integers(1, 3),
    n_C=st.integers(1, 3), f=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_conv_matches_torch(m, n_H, n_W, n_C_prev, n_C, f, stride, pad, seed):
    torch = pytest.importorskip("torch")
    assume(f <= min(n_H, n_W) + 2 * pad)  # otherwise an error, tested below
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    Z, cache = conv_forward(A_prev, W, b, {"stride": stride, "pad": pad})
    x_t = torch.tensor(np.ascontiguousarray(A_prev.transpose(0, 3, 1, 2)), requires_grad=True)
    w_t = torch.tensor(np.ascontiguousarray(W.transpose(3, 2, 0, 1)), requires_grad=True)
    b_t = torch.tensor(b.reshape(-1), requires_grad=True)
    out = torch.nn.functional.conv2d(x_t, w_t, b_t, stride=stride, padding=pad)
    np.testing.assert_allclose(Z, out.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    out.backward(torch.tensor(np.ascontiguousarray(dZ.transpose(0, 3, 1, 2))))
    dA_prev, dW, db = conv_backward(dZ, cache)
    np.testing.assert_allclose(dA_prev, x_t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dW, w_t.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db.reshape(-1), b_t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(
    ("shape", "f", "stride"), [((2, 5, 4, 3), 2, 1), ((1, 7, 6, 2), 3, 2), ((2, 4, 4, 1), 2, 2)]
)
def test_pool_matches_torch(rng, mode, shape, f, stride):
    torch = pytest.importorskip("torch")
    A_prev = _separated_values(rng, shape)
    A, cache = pool_forward(A_prev, {"f": f, "stride": stride}, mode=mode)
    x_t = torch.tensor(np.ascontiguousarray(A_prev.transpose(0, 3, 1, 2)), requires_grad=True)
    pool = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    out = pool(x_t, f, stride)
    np.testing.assert_allclose(A, out.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12)
    dA = rng.standard_normal(A.shape)
    out.backward(torch.tensor(np.ascontiguousarray(dA.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(
        pool_backward(dA, cache, mode=mode), x_t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12
    )


# --------------------------------------------------------------------------- bad input


def _conv_args(**overrides):
    args = {
        "A_prev": np.zeros((2, 5, 5, 3)),
        "W": np.zeros((3, 3, 3, 4)),
        "b": np.zeros((1, 1, 1, 4)),
        "hparameters": {"stride": 1, "pad": 0},
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"A_prev": np.zeros((5, 5, 3))}, ValueError,
         r"A_prev must be a 4-D array \(m, n_H_prev.*got shape \(5, 5, 3\)"),
        ({"A_prev": np.zeros((0, 5, 5, 3))}, ValueError, r"A_prev must have every dimension >= 1"),
        ({"A_prev": np.zeros((2, 5, 5, 3), dtype=bool)}, TypeError, r"A_prev must hold real numbers.*bool"),
        ({"A_prev": np.zeros((2, 5, 5, 3), dtype=complex)}, TypeError,
         r"A_prev must hold real numbers.*complex"),
        ({"A_prev": [["a"]]}, TypeError, r"A_prev must hold real numbers"),
        ({"W": np.zeros((3, 3, 3))}, ValueError, r"W must be a 4-D array \(f, f, n_C_prev, n_C\)"),
        ({"W": np.zeros((3, 2, 3, 4))}, ValueError, r"W must hold square filters.*got shape \(3, 2, 3, 4\)"),
        ({"W": np.zeros((3, 3, 2, 4))}, ValueError,
         r"W's n_C_prev \(axis 2\) must equal A_prev's channels 3, got 2"),
        ({"W": np.zeros((3, 3, 3, 0))}, ValueError, r"W must have every dimension >= 1"),
        ({"b": np.zeros(4)}, ValueError, r"b must be a 4-D array \(1, 1, 1, n_C\), got shape \(4,\)"),
        ({"b": np.zeros((1, 1, 1, 3))}, ValueError,
         r"b must have shape \(1, 1, 1, n_C\) = \(1, 1, 1, 4\), got \(1, 1, 1, 3\)"),
        ({"hparameters": [1, 0]}, TypeError, r"hparameters must be a dict, got list"),
        ({"hparameters": {"stride": 1}}, ValueError, r"hparameters is missing required key\(s\) 'pad'"),
        ({"hparameters": {"pad": 1}}, ValueError, r"hparameters is missing required key\(s\) 'stride'"),
        ({"hparameters": {"stride": 0, "pad": 0}}, ValueError,
         r"hparameters\['stride'\] must be >= 1, got 0"),
        ({"hparameters": {"stride": 1.0, "pad": 0}}, TypeError,
         r"hparameters\['stride'\] must be an integer"),
        ({"hparameters": {"stride": 1, "pad": -1}}, ValueError, r"hparameters\['pad'\] must be >= 0, got -1"),
        ({"hparameters": {"stride": 1, "pad": True}}, TypeError, r"hparameters\['pad'\] must be an integer"),
        ({"W": np.zeros((6, 6, 3, 4))}, ValueError,
         r"W: window of height 6 does not fit the padded input height 5"),
        ({"A_prev": np.zeros((2, 5, 2, 3))}, ValueError,
         r"W: window of width 3 does not fit the padded input width 2"),
    ],
)
def test_conv_forward_and_backward_reject_bad_input(overrides, error, match):
    args = _conv_args(**overrides)
    with pytest.raises(error, match=match):
        conv_forward(**args)
    # The same checks guard conv_backward's cache.
    cache = (args["A_prev"], args["W"], args["b"], args["hparameters"])
    with pytest.raises(error, match=match):
        conv_backward(np.zeros((2, 3, 3, 4)), cache)


def test_conv_backward_rejects_bad_dZ_and_cache():
    Z, cache = conv_forward(**_conv_args())
    with pytest.raises(
        ValueError, match=r"dZ must have the forward output's shape .* = \(2, 3, 3, 4\), got \(2, 3, 3, 3\)"
    ):
        conv_backward(np.zeros((2, 3, 3, 3)), cache)
    with pytest.raises(ValueError, match=r"dZ must be a 4-D array"):
        conv_backward(Z[0], cache)
    with pytest.raises(TypeError, match=r"dZ must hold real numbers"):
        conv_backward(Z.astype(complex), cache)
    with pytest.raises(TypeError, match=r"cache must be the tuple \(A_prev, W, b, hparameters\) returned by "
                                        r"conv_forward, got tuple of length 3"):
        conv_backward(Z, cache[:3])
    with pytest.raises(TypeError, match=r"cache must be the tuple .* got dict"):
        conv_backward(Z, {"A_prev": 1})


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((3, 3)), 1), ValueError,
         r"X must be a 4-D array \(m, n_H, n_W, n_C\), got shape \(3, 3\)"),
        ((np.zeros((1, 3, 3, 1)), -1), ValueError, r"pad must be >= 0, got -1"),
        ((np.zeros((1, 3, 3, 1)), 1.5), TypeError, r"pad must be an integer, got 1.5"),
        ((np.array(["a"] * 4).reshape(1, 2, 2, 1), 1), TypeError, r"X must hold real numbers"),
    ],
)
def test_zero_pad_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        zero_pad(*args)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((2, 2)), np.zeros((2, 2)), 0.0), ValueError,
         r"a_slice_prev must be a 3-D array \(f, f, n_C_prev\)"),
        ((np.zeros((2, 2, 3)), np.zeros((2, 2))), ValueError, r"W must be a 3-D array"),
        ((np.zeros((2, 2, 3)), np.zeros((2, 2, 2))), ValueError,
         r"W must have the shape of a_slice_prev \(2, 2, 3\), got \(2, 2, 2\)"),
        ((np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), np.zeros((1, 1, 2))), ValueError,
         r"b must hold exactly one value, shape \(1, 1, 1\), got shape \(1, 1, 2\)"),
        ((np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), "b"), TypeError, r"b must hold real numbers"),
    ],
)
def test_conv_single_step_rejects_bad_input(args, error, match):
    if len(args) == 2:
        args = (*args, 0.0)
    with pytest.raises(error, match=match):
        conv_single_step(*args)


@pytest.mark.parametrize(
    ("A_prev", "hparameters", "mode", "error", "match"),
    [
        (np.zeros((4, 4, 1)), {"f": 2, "stride": 2}, "max", ValueError, r"A_prev must be a 4-D array"),
        (np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 2}, "min", ValueError,
         r"mode must be one of 'max', 'average'; got 'min'"),
        (np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 2}, None, ValueError, r"mode must be one of"),
        (np.zeros((1, 4, 4, 1)), {"stride": 2}, "max", ValueError,
         r"hparameters is missing required key\(s\) 'f'"),
        (np.zeros((1, 4, 4, 1)), (2, 2), "max", TypeError, r"hparameters must be a dict, got tuple"),
        (np.zeros((1, 4, 4, 1)), {"f": 0, "stride": 2}, "max", ValueError,
         r"hparameters\['f'\] must be >= 1, got 0"),
        (np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 0}, "max", ValueError,
         r"hparameters\['stride'\] must be >= 1, got 0"),
        (np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 2.0}, "max", TypeError,
         r"hparameters\['stride'\] must be an integer"),
        (np.zeros((1, 4, 4, 1)), {"f": 5, "stride": 1}, "max", ValueError,
         r"hparameters\['f'\]: window of height 5 does not fit the padded input height 4"),
        (np.zeros((1, 5, 3, 1)), {"f": 4, "stride": 1}, "average", ValueError,
         r"hparameters\['f'\]: window of width 4 does not fit the padded input width 3"),
    ],
)
def test_pool_forward_and_backward_reject_bad_input(A_prev, hparameters, mode, error, match):
    with pytest.raises(error, match=match):
        pool_forward(A_prev, hparameters, mode=mode)
    with pytest.raises(error, match=match):
        pool_backward(np.zeros((1, 2, 2, 1)), (A_prev, hparameters), mode=mode)


def test_pool_backward_rejects_bad_dA_and_cache():
    A, cache = pool_forward(np.zeros((2, 4, 4, 3)), {"f": 2, "stride": 2})
    with pytest.raises(
        ValueError, match=r"dA must have the forward output's shape .* = \(2, 2, 2, 3\), got \(2, 2, 3, 3\)"
    ):
        pool_backward(np.zeros((2, 2, 3, 3)), cache)
    with pytest.raises(ValueError, match=r"dA must be a 4-D array"):
        pool_backward(A[0], cache)
    with pytest.raises(
        TypeError,
        match=r"cache must be the tuple \(A_prev, hparameters\) returned by pool_forward, got tuple of len",
    ):
        pool_backward(A, (*cache, None))
    with pytest.raises(TypeError, match=r"cache must be the tuple .* got ndarray"):
        pool_backward(A, np.zeros(2))


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros(3), ValueError, r"x must be a 2-D array \(f, f\), got shape \(3,\)"),
        (np.zeros((0, 2)), ValueError, r"x must be a non-empty window \(f, f\), got shape \(0, 2\)"),
        (np.array([["a", "b"]]), TypeError, r"x must hold real numbers"),
    ],
)
def test_create_mask_from_window_rejects_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        create_mask_from_window(x)


@pytest.mark.parametrize(
    ("dz", "shape", "error", "match"),
    [
        ("2", (2, 2), TypeError, r"dz must be a real number, got '2'"),
        (np.inf, (2, 2), ValueError, r"dz must be finite, got inf"),
        (2.0, (2,), ValueError, r"shape must be a pair \(n_H, n_W\), got \(2,\)"),
        (2.0, 4, ValueError, r"shape must be a pair \(n_H, n_W\), got 4"),
        (2.0, (0, 2), ValueError, r"shape\[0\] must be >= 1, got 0"),
        (2.0, (2, 2.0), TypeError, r"shape\[1\] must be an integer"),
    ],
)
def test_distribute_value_rejects_bad_input(dz, shape, error, match):
    with pytest.raises(error, match=match):
        distribute_value(dz, shape)
