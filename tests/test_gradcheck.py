"""deepstep.gradcheck against functions whose gradients are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.gradcheck import (
    dictionary_to_vector,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    gradient_check_n,
    gradients_to_vector,
    numerical_gradients,
    rel_error,
    vector_to_dictionary,
)


def _params(rng):
    return {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal((3, 1)),
            "W2": rng.standard_normal((1, 3)), "b2": rng.standard_normal((1, 1))}


# ----------------------------------------------------------------------------- rel_error
def test_rel_error_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([[1.0, 0.0]]), np.array([[1.0, 1e-9]])) == pytest.approx(0.1)  # floor 1e-8
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    assert rel_error(np.array([1], dtype=np.int64), np.array([1.0])) == 0.0
    assert isinstance(rel_error(np.ones(2), np.ones(2)), float)


def test_rel_error_errors():
    with pytest.raises(ValueError, match=r"x and y must have the same shape, got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="y must hold real numbers"):
        rel_error(np.ones(2), np.array(["a", "b"]))


# ----------------------------------------------------------------------------- numerical gradients
def test_eval_numerical_gradient_of_a_quadratic(rng):
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v**2) + 3 * v[0, 0], x)
    expected = 2 * x_before
    expected[0, 0] += 3
    assert rel_error(grad, expected) < 1e-8
    np.testing.assert_array_equal(x, x_before)  # restored after the perturbations


def test_eval_numerical_gradient_array_of_an_elementwise_cube(rng):
    x = rng.standard_normal((2, 5))
    df = rng.standard_normal((2, 5))
    grad = eval_numerical_gradient_array(lambda v: v**3, x, df)
    assert rel_error(grad, 3 * x**2 * df) < 1e-8


def test_numerical_gradients_of_a_matrix_product(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    df = rng.standard_normal((3, 2))
    da, db = numerical_gradients(lambda: a @ b, [a, b], df)
    assert rel_error(da, df @ b.T) < 1e-8
    assert rel_error(db, a.T @ df) < 1e-8
    da, db = numerical_gradients(lambda: np.sum(a @ b), [a, b])
    assert rel_error(da, np.ones((3, 2)) @ b.T) < 1e-8
    assert rel_error(db, a.T @ np.ones((3, 2))) < 1e-8


def test_numerical_gradient_errors():
    with pytest.raises(TypeError, match="x must be a floating numpy array"):
        eval_numerical_gradient(np.sum, np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match="x must be a floating numpy array"):
        eval_numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match="h must be > 0.0, got 0.0"):
        eval_numerical_gradient(np.sum, np.ones(3), h=0.0)
    with pytest.raises(ValueError, match=r"df must have the shape of f\(x\) \(3,\), got \(2,\)"):
        eval_numerical_gradient_array(lambda v: v * 2, np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="df must hold real numbers"):
        eval_numerical_gradient_array(lambda v: v * 2, np.ones(3), np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match="x must be a floating numpy array"):
        numerical_gradients(lambda: 0.0, [np.ones(2, dtype=np.int32)])


def test_x_is_restored_when_f_raises():
    def fails_on_perturbed_input(v):
        if v[0] != 1.0:
            raise FloatingPointError("overflow")
        return float(np.sum(v))

    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(FloatingPointError):
        eval_numerical_gradient(fails_on_perturbed_input, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    with pytest.raises(FloatingPointError):
        eval_numerical_gradient_array(lambda v: np.array([fails_on_perturbed_input(v)]), x, np.ones(1))
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- dictionary <-> vector
def test_dictionary_vector_round_trip(rng):
    params = _params(rng)
    theta, keys = dictionary_to_vector(params)
    assert theta.shape == (6 + 3 + 3 + 1, 1)
    assert keys == ["W1"] * 6 + ["b1"] * 3 + ["W2"] * 3 + ["b2"]
    np.testing.assert_array_equal(theta[:6, 0], params["W1"].ravel())
    back = vector_to_dictionary(theta, params)
    assert list(back) == ["W1", "b1", "W2", "b2"]
    for key in params:
        np.testing.assert_array_equal(back[key], params[key])
    grads = {"d" + k: v * 2 for k, v in params.items()}
    grads["dA1"] = np.ones((3, 7))  # ignored
    np.testing.assert_array_equal(gradients_to_vector(grads, params), 2 * theta)


def test_dictionary_vector_errors(rng):
    params = _params(rng)
    with pytest.raises(ValueError, match="parameters must hold 'W1', 'b1', ...; no 'W1' found"):
        dictionary_to_vector({"W2": params["W2"]})
    with pytest.raises(ValueError, match="parameters is missing key 'b2'"):
        dictionary_to_vector({k: v for k, v in params.items() if k != "b2"})
    with pytest.raises(TypeError, match=r"parameters\['W1'\] must hold real numbers"):
        dictionary_to_vector({**params, "W1": np.array([["a"]])})
    with pytest.raises(ValueError, match="theta has 14 entries, the parameters need 13"):
        vector_to_dictionary(np.ones((14, 1)), params)
    with pytest.raises(ValueError, match="theta has 5 entries, the parameters need 13"):
        vector_to_dictionary(np.ones(5), params)
    with pytest.raises(ValueError, match="like is missing key.*'b1'"):
        vector_to_dictionary(np.ones(6), {"W1": params["W1"]})
    with pytest.raises(ValueError, match="like must hold 'W1'"):
        vector_to_dictionary(np.ones(6), {})
    grads = {"d" + k: v for k, v in params.items()}
    with pytest.raises(ValueError, match="gradients is missing key 'db1'"):
        gradients_to_vector({k: v for k, v in grads.items() if k != "db1"}, params)
    with pytest.raises(ValueError, match=r"gradients\['dW2'\] must have shape \(1, 3\), got \(3, 1\)"):
        gradients_to_vector({**grads, "dW2": np.ones((3, 1))}, params)


# ----------------------------------------------------------------------------- gradient_check_n
def _quadratic_cost(params):
    """J = sum(W1**2) / 2 + sum(b1) + sum(W2 * W2 * W2) / 3 + 4 b2: gradients W1, 1, W2**2, 4."""
    return (np.sum(params["W1"] ** 2) / 2 + np.sum(params["b1"]) + np.sum(params["W2"] ** 3) / 3
            + 4 * float(params["b2"][0, 0]))


def _quadratic_grads(params):
    return {"dW1": params["W1"].copy(), "db1": np.ones_like(params["b1"]),
            "dW2": params["W2"] ** 2, "db2": np.full((1, 1), 4.0)}


def test_gradient_check_n_accepts_the_right_gradient(rng, capsys):
    params = _params(rng)
    difference = gradient_check_n(params, _quadratic_grads(params), _quadratic_cost, print_msg=True)
    assert difference < 1e-7
    assert capsys.readouterr().out.startswith("Your backward propagation works perfectly fine!")


def test_gradient_check_n_detects_a_wrong_gradient(rng, capsys):
    params = _params(rng)
    grads = _quadratic_grads(params)
    grads["db1"][1, 0] = 0.0  # one wrong entry
    difference = gradient_check_n(params, grads, _quadratic_cost, print_msg=True)
    assert difference > 1e-2
    assert capsys.readouterr().out.startswith("There is a mistake in the backward propagation!")


def test_gradient_check_n_errors(rng):
    params = _params(rng)
    with pytest.raises(ValueError, match="epsilon must be > 0.0, got -1e-07"):
        gradient_check_n(params, _quadratic_grads(params), _quadratic_cost, epsilon=-1e-7)
    with pytest.raises(ValueError, match="gradients is missing key 'dW1'"):
        gradient_check_n(params, {}, _quadratic_cost)


# ----------------------------------------------------------------------------- check_model (kinks)
def _dead_unit_model():
    """Dense(3, relu) -> Dense(2) whose first hidden unit has zero weights: its pre-activation is exactly 0
    for every input, so each of its weights and its bias sits on the ReLU's kink."""
    from deepstep.nn import Dense, Sequential

    model = Sequential([Dense(3, activation="relu"), Dense(2)], input_shape=(4,), dtype="float64", seed=0)
    model.layers[0].kernel.value[:, 0] = 0.0
    model.layers[0].bias.value[0] = 0.0
    x = np.random.default_rng(1).random((2, 4)) + 0.1  # positive: +h and -h flip the unit on and off
    return model, x, np.array([0, 1])


def test_check_model_leaves_out_entries_on_a_relu_kink():
    from deepstep.gradcheck import check_model

    model, x, y = _dead_unit_model()
    results = {(r.layer, r.parameter): r for r in check_model(model, x, y, entries=12)}
    hidden_kernel, hidden_bias = results["dense_1", "kernel"], results["dense_1", "bias"]
    assert hidden_kernel.kinks == (0, 3, 6, 9)  # column 0 of the (4, 3) kernel, flat indices
    assert hidden_bias.kinks == (0,)
    assert hidden_kernel.checked == 8 and hidden_bias.checked == 2
    assert results["dense_2", "kernel"].kinks == () and results["dense_2", "kernel"].checked == 6
    assert all(r.passed(1e-7) for r in results.values()), results


def test_a_kink_fails_the_plain_centred_check():
    """Without leaving kinks out, the centred difference at the dead unit's bias is half the one-sided
    slope, so a plain check of the same entry fails: the kink detection is what makes it pass."""
    model, x, y = _dead_unit_model()
    from deepstep.nn.functional import softmax_cross_entropy

    model.zero_grad()
    out, cache = model.forward(x, training=False)
    _, dout = softmax_cross_entropy(out, y)
    model.backward(dout, cache)
    analytic = model.layers[0].bias.grad[0]
    bias = model.layers[0].bias.value
    numeric = eval_numerical_gradient(
        lambda _: softmax_cross_entropy(model.forward(x, training=False)[0], y)[0], bias)[0]
    assert abs(numeric - analytic) > 1e-3 * max(abs(numeric), 1e-12)


def test_check_model_still_fails_a_wrong_backward_next_to_kinks(monkeypatch):
    from deepstep.gradcheck import check_model
    from deepstep.nn import Dense

    model, x, y = _dead_unit_model()
    real_backward = Dense.backward

    def broken(self, dout, cache):
        dx = real_backward(self, dout, cache)
        self.kernel.grad *= 1.01
        return dx

    monkeypatch.setattr(Dense, "backward", broken)
    results = check_model(model, x, y, entries=12)
    assert all(not r.passed(1e-6) for r in results if r.parameter == "kernel")
    assert [r.kinks for r in results if r.parameter == "kernel"] == [(0, 3, 6, 9), ()]


def test_check_model_on_a_max_pool_tie():
    """Two pixels tie in a max-pool window; nudging either 1x1 conv weight changes which one wins."""
    from deepstep.gradcheck import check_model
    from deepstep.nn import Conv2D, Dense, Flatten, MaxPooling2D, Sequential

    model = Sequential([Conv2D(1, 1, use_bias=False), MaxPooling2D(2), Flatten(), Dense(2)],
                       input_shape=(2, 2, 2), dtype="float64", seed=0)
    model.layers[0].kernel.value[...] = 1.0  # (1, 1, 2, 1): output = x0 + x1
    x = np.array([[[[1.0, 0.0], [0.0, 1.0]], [[0.1, 0.2], [0.3, 0.1]]]])  # 1.0 and 1.0 tie
    results = check_model(model, x, np.array([1]), entries=4)
    assert (results[0].layer, results[0].parameter, results[0].kinks) == ("conv2d_1", "kernel", (0, 1))
    assert results[0].checked == 0 and results[0].rel_error == 0.0
    assert all(r.kinks == () and r.passed(1e-7) for r in results[1:])


def test_check_model_argument_errors():
    from deepstep.gradcheck import check_model

    model, x, y = _dead_unit_model()
    with pytest.raises(ValueError, match="entries must be >= 1"):
        check_model(model, x, y, entries=0)
    with pytest.raises(ValueError, match="h"):
        check_model(model, x, y, h=0.0)
