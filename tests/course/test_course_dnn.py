"""deepstep.course.dnn: the notebook's published outputs, gradient checks, fixed defects, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from deepstep.course import dnn
from deepstep.gradcheck import eval_numerical_gradient_array, gradient_check_n, numerical_gradients, rel_error


def _random_network(rng, dims, m):
    X = rng.standard_normal((dims[0], m))
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1])) / np.sqrt(dims[layer - 1])
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    return X, Y, params


# ----------------------------------------------------------------------------- published outputs
def test_initialize_parameters_expected_output():
    p = dnn.initialize_parameters(3, 2, 1)
    assert list(p) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_allclose(p["W1"], [[0.01624345, -0.00611756, -0.00528172],
                                         [-0.01072969, 0.00865408, -0.02301539]], atol=5e-9)
    np.testing.assert_allclose(p["W2"], [[0.01744812, -0.00761207]], atol=5e-9)
    np.testing.assert_array_equal(p["b1"], np.zeros((2, 1)))
    np.testing.assert_array_equal(p["b2"], np.zeros((1, 1)))


def test_initialize_parameters_deep_expected_output():
    p = dnn.initialize_parameters_deep([5, 4, 3])
    assert list(p) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_allclose(p["W1"], [
        [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
        [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
        [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
        [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]], atol=5e-9)
    np.testing.assert_allclose(p["W2"], [
        [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
        [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
        [-0.00768836, -0.00230031, 0.00745056, 0.01976111]], atol=5e-9)
    np.testing.assert_array_equal(p["b1"], np.zeros((4, 1)))
    np.testing.assert_array_equal(p["b2"], np.zeros((3, 1)))


def test_linear_forward_expected_output():
    np.random.seed(1)  # noqa: NPY002 - the notebook's test case
    A, W, b = np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1)  # noqa: NPY002
    Z, cache = dnn.linear_forward(A, W, b)
    np.testing.assert_allclose(Z, [[3.26295337, -1.23429987]], atol=5e-9)
    assert cache[0] is A and cache[1] is W and cache[2] is b


def test_linear_activation_forward_expected_output():
    np.random.seed(2)  # noqa: NPY002 - the notebook's test case
    A, W, b = np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1)  # noqa: NPY002
    A_sig, cache = dnn.linear_activation_forward(A, W, b, "sigmoid")
    A_relu, _ = dnn.linear_activation_forward(A, W, b, "relu")
    np.testing.assert_allclose(A_sig, [[0.96890023, 0.11013289]], atol=5e-9)
    np.testing.assert_allclose(A_relu, [[3.43896131, 0.0]], atol=5e-9)
    (A_c, W_c, b_c), Z = cache
    assert A_c is A and W_c is W and b_c is b
    np.testing.assert_array_equal(Z, W @ A + b)


def test_L_model_forward_expected_output():
    np.random.seed(6)  # noqa: NPY002 - the notebook's test case
    X = np.random.randn(5, 4)  # noqa: NPY002
    params = {}
    for layer, shape in enumerate([(4, 5), (3, 4), (1, 3)], start=1):
        params[f"W{layer}"] = np.random.randn(*shape)  # noqa: NPY002
        params[f"b{layer}"] = np.random.randn(shape[0], 1)  # noqa: NPY002
    AL, caches = dnn.L_model_forward(X, params)
    np.testing.assert_allclose(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]], atol=5e-9)
    assert len(caches) == 3


def test_compute_cost_expected_output():
    cost = dnn.compute_cost(np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]]))
    assert isinstance(cost, np.ndarray) and cost.shape == ()  # np.squeeze(cost), as the notebook returns
    assert cost == pytest.approx(0.2797765635793422, abs=1e-15)


def test_update_parameters_is_one_gd_step_and_does_not_mutate(rng):
    _, _, params = _random_network(rng, [4, 3, 1], 2)
    grads = {k.replace("W", "dW").replace("b", "db"): rng.standard_normal(v.shape) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    out = dnn.update_parameters(params, grads, 0.1)
    for key in params:
        np.testing.assert_array_equal(out[key], before[key] - 0.1 * grads["d" + key])
        np.testing.assert_array_equal(params[key], before[key])


# ----------------------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_limits_are_exact_and_silent(dtype):
    Z = np.array([-1e4, -1e3, -800.0, -120.0, 0.0, 120.0, 800.0, 1e3, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # would raise FloatingPointError if the overflow leaked
            A, cache = dnn.sigmoid(Z)
            dZ = dnn.sigmoid_backward(np.ones_like(Z), cache)
    assert A.dtype == dtype and dZ.dtype == dtype
    assert A[0] == 0.0 and A[1] == 0.0 and A[2] == 0.0
    assert A[-1] == 1.0 and A[-2] == 1.0 and A[-3] == 1.0
    assert A[4] == 0.5
    assert np.all(np.isfinite(dZ)) and dZ[0] == 0.0 and dZ[-1] == 0.0
    assert cache is Z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_bitwise_the_notebook_formula_for_moderate_inputs(rng, dtype):
    Z = (rng.standard_normal((7, 11)) * 10).astype(dtype)
    A, _ = dnn.sigmoid(Z)
    np.testing.assert_array_equal(A, 1 / (1 + np.exp(-Z)))
    assert A.dtype == dtype


def test_relu_and_integer_inputs():
    A, cache = dnn.relu(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(A, [[0.0, 0.0, 3.0]])
    A_int, _ = dnn.sigmoid(np.array([[0, 1]]))
    assert A_int.dtype == np.float64 and A_int[0, 0] == 0.5


def test_sigmoid_backward_matches_numerical_gradient(rng):
    Z = rng.standard_normal((3, 5))
    dA = rng.standard_normal((3, 5))
    dZ = dnn.sigmoid_backward(dA, Z)
    num = eval_numerical_gradient_array(lambda z: dnn.sigmoid(z)[0], Z, dA)
    assert rel_error(dZ, num) < 1e-7


def test_relu_backward_matches_numerical_gradient_away_from_zero(rng):
    Z = rng.standard_normal((4, 6))
    Z[np.abs(Z) < 1e-2] = 0.5  # keep the kink out of the centred differences
    dA = rng.standard_normal((4, 6))
    dZ = dnn.relu_backward(dA, Z)
    num = eval_numerical_gradient_array(lambda z: dnn.relu(z)[0], Z, dA)
    assert rel_error(dZ, num) < 1e-7


def test_relu_backward_is_zero_at_zero_and_does_not_modify_dA():
    dA = np.array([[1.0, 2.0, 3.0]])
    dZ = dnn.relu_backward(dA, np.array([[-1.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(dZ, [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(dA, [[1.0, 2.0, 3.0]])


# ----------------------------------------------------------------------------- backward: gradient checks
def test_linear_backward_matches_numerical_gradients(rng):
    A = rng.standard_normal((5, 4))
    W = rng.standard_normal((3, 5))
    b = rng.standard_normal((3, 1))
    dZ = rng.standard_normal((3, 4))
    m = A.shape[1]
    dA_prev, dW, db = dnn.linear_backward(dZ, (A, W, b))
    # The course's linear_backward averages over the m examples: it is the gradient of sum(Z * dZ) / m
    # for dW and db, and of sum(Z * dZ) for dA_prev.
    num_A, num_W, num_b = numerical_gradients(lambda: dnn.linear_forward(A, W, b)[0], [A, W, b], dZ)
    assert rel_error(dA_prev, num_A) < 1e-7
    assert rel_error(dW, num_W / m) < 1e-7
    assert rel_error(db, num_b / m) < 1e-7
    assert dA_prev.shape == A.shape and dW.shape == W.shape and db.shape == b.shape


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward_matches_numerical_gradients(rng, activation):
    A = rng.standard_normal((4, 6))
    W = rng.standard_normal((3, 4))
    b = rng.standard_normal((3, 1))
    dA = rng.standard_normal((3, 6))
    out, cache = dnn.linear_activation_forward(A, W, b, activation)
    if activation == "relu":
        assert np.min(np.abs(cache[1])) > 1e-3  # the kink is far from the differences
    dA_prev, dW, db = dnn.linear_activation_backward(dA, cache, activation)
    num_A, num_W, num_b = numerical_gradients(
        lambda: dnn.linear_activation_forward(A, W, b, activation)[0], [A, W, b], dA)
    m = A.shape[1]
    assert rel_error(dA_prev, num_A) < 1e-7
    assert rel_error(dW, num_W / m) < 1e-7
    assert rel_error(db, num_b / m) < 1e-7


@pytest.mark.parametrize("dims", [[3, 1], [4, 5, 1], [5, 4, 3, 1]])
def test_L_model_backward_passes_gradient_check_n(rng, dims):
    X, Y, params = _random_network(rng, dims, 7)
    AL, caches = dnn.L_model_forward(X, params)
    grads = dnn.L_model_backward(AL, Y, caches)
    L = len(dims) - 1
    assert set(grads) == {f"dA{l}" for l in range(L)} | {f"d{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    for key, value in params.items():
        assert grads["d" + key].shape == value.shape
    assert grads["dA0"].shape == X.shape

    def cost(p):
        return dnn.compute_cost(dnn.L_model_forward(X, p)[0], Y)

    assert gradient_check_n(params, grads, cost) < 1e-7


def test_L_model_backward_dA0_is_the_input_gradient(rng):
    X, Y, params = _random_network(rng, [4, 3, 1], 5)
    AL, caches = dnn.L_model_forward(X, params)
    grads = dnn.L_model_backward(AL, Y, caches)
    # The notebook's dA's are gradients of m * J (dW divides by m; dA does not).
    m = X.shape[1]
    num = eval_numerical_gradient_array(lambda x: m * dnn.compute_cost(dnn.L_model_forward(x, params)[0], Y),
                                        X, np.array(1.0))
    assert rel_error(grads["dA0"], num) < 1e-7


def test_gradient_check_n_detects_a_wrong_gradient(rng):
    X, Y, params = _random_network(rng, [4, 3, 1], 6)
    AL, caches = dnn.L_model_forward(X, params)
    grads = dnn.L_model_backward(AL, Y, caches)
    wrong = dict(grads)
    wrong["dW1"] = grads["dW1"] * 1.01
    wrong["dW1"][0, 0] += 0.1

    def cost(p):
        return dnn.compute_cost(dnn.L_model_forward(X, p)[0], Y)

    assert gradient_check_n(params, wrong, cost) > 1e-3


# ----------------------------------------------------------------------------- saturated outputs
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cost_and_backward_stay_finite_when_AL_is_exactly_0_or_1(dtype):
    AL = np.array([[0.0, 1.0, 0.0, 1.0, 0.3]], dtype=dtype)
    Y = np.array([[1, 0, 0, 1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = dnn.compute_cost(AL, Y)
    assert np.isfinite(cost)
    eps = np.finfo(dtype).epsneg
    expected = -(2 * np.log(eps) + np.log(np.float64(dtype(0.3)))) / 5
    assert cost == pytest.approx(expected, rel=1e-5)
    # A saturated network: the last layer's pre-activation is +-1e4, so AL is exactly 0 or 1.
    A_prev = np.ones((1, 4), dtype=dtype)
    W = np.array([[1.0]], dtype=dtype)
    b = np.array([[0.0]], dtype=dtype)
    A_prev[0, :2] = -1e4
    A_prev[0, 2:] = 1e4
    AL, cache = dnn.linear_activation_forward(A_prev, W, b, "sigmoid")
    np.testing.assert_array_equal(AL, [[0, 0, 1, 1]])
    Y = np.array([[1, 0, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = dnn.L_model_backward(AL, Y, [cache])
        cost = dnn.compute_cost(AL, Y)
    assert np.isfinite(cost)
    for value in grads.values():
        assert np.all(np.isfinite(value))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_guards_change_only_the_entries_where_the_notebook_is_not_finite(rng, dtype):
    """Tiny and near-1 outputs keep the notebook's exact value; only exact 0 and 1 are guarded."""
    AL = rng.random((1, 12)).astype(dtype)
    AL[0, :6] = [0.0, 1.0, 1e-30, 1 - np.finfo(dtype).epsneg, 1e-40, 0.5]
    Y = (rng.random((1, 12)) < 0.5).astype(dtype)
    Y[0, :6] = [1, 0, 1, 0, 0, 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        terms = Y * np.log(AL) + (1 - Y) * np.log(1 - AL)
        dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    finite_terms, finite_dAL = np.isfinite(terms), np.isfinite(dAL)
    assert not finite_terms[0, :2].any() and finite_terms[0, 2:].all()
    got = dnn.cross_entropy_dAL(AL, Y)
    np.testing.assert_array_equal(got[finite_dAL], dAL[finite_dAL])
    assert np.all(np.isfinite(got)) and got.dtype == dtype
    eps = np.finfo(dtype).epsneg
    assert got[0, 0] == -(1 / dtype(eps)) and got[0, 1] == 1 / dtype(eps)
    m = AL.shape[1]
    guarded = terms.copy()
    guarded[0, :2] = np.log(dtype(eps))  # y log(eps) for AL = 0, y = 1; (1 - y) log(1 - (1 - eps)) for AL = 1
    expected = np.squeeze((-1 / m) * np.sum(guarded, axis=1))
    assert dnn.compute_cost(AL, Y) == pytest.approx(float(expected), rel=1e-6)
    AL[0, :2] = 0.25  # nothing to guard: the notebook's value bit for bit
    terms[0, :2] = Y[0, :2] * np.log(AL[0, :2]) + (1 - Y[0, :2]) * np.log(1 - AL[0, :2])
    assert dnn.compute_cost(AL, Y) == np.squeeze((-1 / m) * np.sum(terms, axis=1))


def test_L_model_backward_accepts_any_finite_AL_as_the_notebook():
    """The staff test feeds AL = randn (values above 1): the notebook's formula runs unclipped."""
    AL = np.array([[1.78862847, 0.43650985, -0.5]])
    Y = np.array([[1, 0, 1]])
    A_prev, W, b, Z = np.ones((2, 3)), np.ones((1, 2)), np.zeros((1, 1)), np.array([[0.3, -0.2, 0.1]])
    grads = dnn.L_model_backward(AL, Y, [((A_prev, W, b), Z)])
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dZ = dnn.sigmoid_backward(dAL, Z)
    np.testing.assert_array_equal(grads["dW1"], 1 / 3 * np.dot(dZ, A_prev.T))
    np.testing.assert_array_equal(grads["dA0"], np.dot(W.T, dZ))


def test_clip_changes_nothing_in_the_normal_range(rng):
    AL = rng.random((1, 1000)) * (1 - 1e-12) + 1e-12
    np.testing.assert_array_equal(dnn.clip_probabilities(AL), AL)
    Y = (rng.random((1, 1000)) < 0.5).astype(float)
    m = AL.shape[1]
    raw = (-1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL), axis=1)
    assert dnn.compute_cost(AL, Y) == float(np.squeeze(raw))


# ----------------------------------------------------------------------------- predict
def test_predict_thresholds_and_prints_accuracy(capsys):
    params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    X = np.array([[-2.0, 0.0, 3.0, 5.0]])  # probabilities < 0.5, 0.5, > 0.5, > 0.5
    p = dnn.predict(X, np.array([[0, 0, 1, 0]]), params)
    np.testing.assert_array_equal(p, [[0.0, 0.0, 1.0, 1.0]])
    assert p.shape == (1, 4)
    assert capsys.readouterr().out == "Accuracy: 0.75\n"


# ----------------------------------------------------------------------------- errors
def test_activation_errors():
    with pytest.raises(TypeError, match="Z must hold real numbers"):
        dnn.sigmoid(np.array(["a"]))
    with pytest.raises(TypeError, match="Z must hold real numbers"):
        dnn.relu(np.array([True]))
    with pytest.raises(ValueError, match=r"dA must have the shape of the cached Z \(2, 2\), got \(2, 3\)"):
        dnn.sigmoid_backward(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="dA must have the shape of the cached Z"):
        dnn.relu_backward(np.ones((1, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"dA must hold real numbers"):
        dnn.relu_backward(np.array([1 + 2j]), np.ones(1))


def test_initialization_errors():
    with pytest.raises(ValueError, match="n_h must be >= 1, got 0"):
        dnn.initialize_parameters(3, 0, 1)
    with pytest.raises(TypeError, match="n_x must be an integer"):
        dnn.initialize_parameters(3.0, 2, 1)
    with pytest.raises(ValueError, match="layer_dims must have at least 2 entries"):
        dnn.initialize_parameters_deep([5])
    with pytest.raises(ValueError, match=r"layer_dims\[1\] must be >= 1, got 0"):
        dnn.initialize_parameters_deep([5, 0, 1])
    with pytest.raises(TypeError, match=r"layer_dims\[2\] must be an integer"):
        dnn.initialize_parameters_deep([5, 4, 1.5])
    with pytest.raises(TypeError, match="layer_dims must be a list of layer sizes, got int"):
        dnn.initialize_parameters_deep(5)


def test_linear_forward_errors():
    A, W, b = np.ones((3, 2)), np.ones((4, 3)), np.ones((4, 1))
    with pytest.raises(ValueError, match=r"W must have as many columns as A has rows \(3\)"):
        dnn.linear_forward(A, np.ones((4, 2)), b)
    with pytest.raises(ValueError, match=r"b must have shape \(4, 1\) \(W has 4 rows\), got \(3, 1\)"):
        dnn.linear_forward(A, W, np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"b must be a 2-D array \(n_l, 1\), got shape \(4,\)"):
        dnn.linear_forward(A, W, np.ones(4))
    with pytest.raises(ValueError, match=r"A must be a 2-D array \(n_\{l-1\}, m\), got shape \(3,\)"):
        dnn.linear_forward(np.ones(3), W, b)
    with pytest.raises(TypeError, match="W must hold real numbers"):
        dnn.linear_forward(A, W.astype(complex), b)
    with pytest.raises(ValueError, match="activation must be one of 'sigmoid', 'relu'; got 'tanh'"):
        dnn.linear_activation_forward(A, W, b, "tanh")
    with pytest.raises(ValueError, match=r"W must have as many columns as A_prev has rows \(2\)"):
        dnn.linear_activation_forward(np.ones((2, 2)), W, b, "relu")


def test_L_model_forward_errors():
    params = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W2": np.ones((1, 2)), "b2": np.zeros((1, 1))}
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match=(r"parameters\['W1'\] must have 3 columns \(X has"
        r" 3 rows\), got shape \(2, 4\)")):
        dnn.L_model_forward(X, {**params, "W1": np.ones((2, 4))})
    with pytest.raises(ValueError, match=(r"parameters\['W2'\] must have 2 columns"
        r" \(parameters\['W1'\] has 2 rows\)")):
        dnn.L_model_forward(X, {**params, "W2": np.ones((1, 3))})
    with pytest.raises(ValueError, match=r"parameters\['b2'\] must have shape \(1, 1\), got \(2, 1\)"):
        dnn.L_model_forward(X, {**params, "b2": np.zeros((2, 1))})
    with pytest.raises(ValueError, match="parameters is missing required key.*'b1'"):
        dnn.L_model_forward(X, {k: v for k, v in params.items() if k != "b1"})
    with pytest.raises(ValueError, match="parameters is missing required key.*'W1'"):
        dnn.L_model_forward(X, {"W2": params["W2"], "b2": params["b2"]})
    with pytest.raises(ValueError, match="parameters is missing required key.*'W2'"):  # not a 1-layer net
        dnn.L_model_forward(X, {k: v for k, v in params.items() if k != "W2"})
    with pytest.raises(ValueError, match="parameters is missing required key.*'b3'"):
        dnn.L_model_forward(X, {**params, "W3": np.ones((1, 1))})
    with pytest.raises(ValueError, match="parameters must hold 'W1', 'b1'"):
        dnn.L_model_forward(X, {})
    with pytest.raises(TypeError, match="parameters must be a dict, got list"):
        dnn.L_model_forward(X, [1, 2])
    with pytest.raises(ValueError, match=r"X must be a 2-D array \(n_x, m\)"):
        dnn.L_model_forward(np.ones(3), params)


def test_cost_and_predict_errors():
    with pytest.raises(ValueError, match=(r"Y must have shape \(1, 3\) \(the shape of the"
        r" predictions\), got \(1, 2\)")):
        dnn.compute_cost(np.full((1, 3), 0.5), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 3\)"):
        dnn.compute_cost(np.full((1, 3), 0.5), np.ones(3))
    with pytest.raises(ValueError, match=(r"AL must have shape \(1, m\) \(one prediction"
        r" per example\), got \(2, 3\)")):
        dnn.compute_cost(np.full((2, 3), 0.5), np.ones((2, 3)))
    with pytest.raises(TypeError, match="Y must hold real numbers"):
        dnn.compute_cost(np.full((1, 2), 0.5), np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"AL must hold probabilities in \[0, 1\], got a value 1.5"):
        dnn.compute_cost(np.array([[0.5, 1.5]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"AL must hold probabilities in \[0, 1\], got a value nan"):
        dnn.compute_cost(np.array([[0.5, np.nan]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"Y must be finite, got a value inf"):
        dnn.compute_cost(np.full((1, 2), 0.5), np.array([[0, np.inf]]))
    with pytest.raises(ValueError, match=r"Y must be finite, got a value nan"):
        dnn.L_model_backward(np.full((1, 2), 0.5), np.array([[0, np.nan]]), [((), ())])
    with pytest.raises(ValueError, match=r"AL must be finite, got a value nan"):
        dnn.L_model_backward(np.array([[0.5, np.nan]]), np.ones((1, 2)), [((), ())])
    # m = 0: a clear error naming the argument, not a ZeroDivisionError.
    with pytest.raises(ValueError, match=(r"AL must hold at least one example \(m >= 1 columns\), "
                                          r"got shape \(1, 0\)")):
        dnn.compute_cost(np.ones((1, 0)), np.ones((1, 0)))
    with pytest.raises(ValueError, match=r"AL must hold at least one example"):
        dnn.L_model_backward(np.ones((1, 0)), np.ones((1, 0)), [((), ())])
    with pytest.raises(ValueError, match=r"cache's A_prev must hold at least one example"):
        dnn.linear_backward(np.ones((2, 0)), (np.ones((3, 0)), np.ones((2, 3)), np.ones((2, 1))))
    params = {"W1": np.ones((2, 1)), "b1": np.zeros((2, 1))}
    with pytest.raises(ValueError, match="parameters must end with a single output unit, got 2 outputs"):
        dnn.predict(np.ones((1, 3)), np.ones((1, 3)), params)
    with pytest.raises(ValueError, match=r"y must have shape \(1, 3\)"):
        dnn.predict(np.ones((1, 3)), np.ones((1, 4)), {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))})


def test_backward_errors(rng):
    A, W, b = np.ones((3, 2)), np.ones((4, 3)), np.ones((4, 1))
    with pytest.raises(ValueError, match=(r"dZ must have shape \(4, 2\) \(n_l of W, m"
        r" of A_prev\), got \(4, 3\)")):
        dnn.linear_backward(np.ones((4, 3)), (A, W, b))
    with pytest.raises(TypeError, match=(r"cache must be the tuple \(A_prev, W, b\) from"
        r" linear_forward, got tuple of length 2")):
        dnn.linear_backward(np.ones((4, 2)), (A, W))
    with pytest.raises(ValueError, match="W must have as many columns as A_prev has rows"):
        dnn.linear_backward(np.ones((4, 2)), (A, np.ones((4, 5)), b))
    _, cache = dnn.linear_activation_forward(A, W, b, "relu")
    with pytest.raises(ValueError, match="activation must be one of 'sigmoid', 'relu'; got 'softmax'"):
        dnn.linear_activation_backward(np.ones((4, 2)), cache, "softmax")
    with pytest.raises(TypeError, match=r"cache must be the tuple \(linear_cache, activation_cache\)"):
        dnn.linear_activation_backward(np.ones((4, 2)), cache[0], "relu")
    with pytest.raises(ValueError, match=r"dA must have the shape of the cached Z \(4, 2\), got \(4, 3\)"):
        dnn.linear_activation_backward(np.ones((4, 3)), cache, "relu")
    X, Y, params = _random_network(rng, [3, 2, 1], 4)
    AL, caches = dnn.L_model_forward(X, params)
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 4\)"):
        dnn.L_model_backward(AL, Y[:, :3], caches)
    with pytest.raises(TypeError, match="caches must be the non-empty list from L_model_forward"):
        dnn.L_model_backward(AL, Y, [])
    with pytest.raises(TypeError, match="caches must be the non-empty list from L_model_forward"):
        dnn.L_model_backward(AL, Y, None)


def test_update_parameters_errors(rng):
    _, _, params = _random_network(rng, [3, 2, 1], 1)
    grads = {"d" + k: np.zeros_like(v) for k, v in params.items()}
    with pytest.raises(ValueError, match="grads is missing required key.*'db2'"):
        dnn.update_parameters(params, {k: v for k, v in grads.items() if k != "db2"}, 0.1)
    with pytest.raises(ValueError, match=(r"grads\['dW1'\] must have shape \(2, 3\)"
        r" \(like W1\), got \(3, 2\)")):
        dnn.update_parameters(params, {**grads, "dW1": np.zeros((3, 2))}, 0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got 0.0"):
        dnn.update_parameters(params, grads, 0.0)
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        dnn.update_parameters(params, grads, "0.1")
    with pytest.raises(TypeError, match="grads must be a dict, got NoneType"):
        dnn.update_parameters(params, None, 0.1)
