"""deepstep.course.optim: one-step hand checks, mini-batches, learning-rate decay and errors."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.course import optim


def _params_and_grads(rng):
    params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": rng.standard_normal((1, 1))}
    grads = {"d" + k: rng.standard_normal(v.shape) for k, v in params.items()}
    return params, grads


def _copy(d):
    return {k: v.copy() for k, v in d.items()}


# ----------------------------------------------------------------------------- update rules
def test_gd_one_step(rng):
    params, grads = _params_and_grads(rng)
    before = _copy(params)
    out = optim.update_parameters_with_gd(params, grads, 0.01)
    assert list(out) == ["W1", "b1", "W2", "b2"]
    for key in params:
        np.testing.assert_array_equal(out[key], before[key] - 0.01 * grads["d" + key])
        np.testing.assert_array_equal(params[key], before[key])


def test_gd_by_hand():
    out = optim.update_parameters_with_gd({"W1": np.array([[1.0, 2.0]]), "b1": np.array([[0.5]])},
                                          {"dW1": np.array([[10.0, -20.0]]), "db1": np.array([[1.0]])}, 0.1)
    np.testing.assert_allclose(out["W1"], [[0.0, 4.0]])
    np.testing.assert_allclose(out["b1"], [[0.4]])


def test_initialize_velocity_and_adam_are_zeros_with_gradient_keys(rng):
    params, _ = _params_and_grads(rng)
    v = optim.initialize_velocity(params)
    va, sa = optim.initialize_adam(params)
    for state in (v, va, sa):
        assert list(state) == ["dW1", "db1", "dW2", "db2"]
        for key, value in state.items():
            assert value.shape == params[key[1:]].shape
            assert not value.any()
    assert va["dW1"] is not sa["dW1"]


def test_momentum_two_steps_by_hand():
    params = {"W1": np.array([[1.0, -1.0]]), "b1": np.array([[0.0]])}
    grads = {"dW1": np.array([[2.0, 4.0]]), "db1": np.array([[-1.0]])}
    v = optim.initialize_velocity(params)
    p1, v1 = optim.update_parameters_with_momentum(params, grads, v, beta=0.9, learning_rate=0.1)
    np.testing.assert_allclose(v1["dW1"], [[0.2, 0.4]])
    np.testing.assert_allclose(v1["db1"], [[-0.1]])
    np.testing.assert_allclose(p1["W1"], [[0.98, -1.04]])
    np.testing.assert_allclose(p1["b1"], [[0.01]])
    p2, v2 = optim.update_parameters_with_momentum(p1, grads, v1, beta=0.9, learning_rate=0.1)
    np.testing.assert_allclose(v2["dW1"], [[0.9 * 0.2 + 0.2, 0.9 * 0.4 + 0.4]])
    np.testing.assert_allclose(p2["W1"], [[0.98 - 0.1 * 0.38, -1.04 - 0.1 * 0.76]])
    assert not v["dW1"].any()  # the input velocity is not modified
    np.testing.assert_array_equal(params["W1"], [[1.0, -1.0]])


def test_momentum_with_beta_zero_is_gd(rng):
    params, grads = _params_and_grads(rng)
    p, _ = optim.update_parameters_with_momentum(params, grads, optim.initialize_velocity(params), 0.0, 0.05)
    gd = optim.update_parameters_with_gd(params, grads, 0.05)
    for key in gd:
        np.testing.assert_array_equal(p[key], gd[key])


def test_adam_one_step_by_hand():
    params = {"W1": np.array([[1.0, -1.0]]), "b1": np.array([[0.0]])}
    grads = {"dW1": np.array([[2.0, -0.5]]), "db1": np.array([[0.0]])}
    v, s = optim.initialize_adam(params)
    p, v1, s1, v_hat, s_hat = optim.update_parameters_with_adam(params, grads, v, s, t=1, learning_rate=0.01)
    np.testing.assert_allclose(v1["dW1"], [[0.2, -0.05]])
    np.testing.assert_allclose(s1["dW1"], [[0.001 * 4.0, 0.001 * 0.25]])
    # At t = 1 the bias correction recovers the gradient and its square exactly,
    np.testing.assert_allclose(v_hat["dW1"], [[2.0, -0.5]])
    np.testing.assert_allclose(s_hat["dW1"], [[4.0, 0.25]])
    # so the step is lr * g / (|g| + eps): almost exactly lr * sign(g).
    np.testing.assert_allclose(p["W1"], [[1.0 - 0.01 * 2.0 / (2.0 + 1e-8), -1.0 + 0.01 * 0.5 / (0.5 + 1e-8)]],
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(p["b1"], [[0.0]])  # zero gradient: no step


def test_adam_two_steps_match_the_formulas(rng):
    params, grads = _params_and_grads(rng)
    _, grads2 = _params_and_grads(rng)
    v, s = optim.initialize_adam(params)
    lr, b1, b2, eps = 0.02, 0.8, 0.99, 1e-7
    p1, v1, s1, _, _ = optim.update_parameters_with_adam(params, grads, v, s, 1, lr, b1, b2, eps)
    p2, v2, s2, vc, sc = optim.update_parameters_with_adam(p1, grads2, v1, s1, 2, lr, b1, b2, eps)
    for key in params:
        g1, g2 = grads["d" + key], grads2["d" + key]
        m1, r1 = (1 - b1) * g1, (1 - b2) * g1**2
        m2, r2 = b1 * m1 + (1 - b1) * g2, b2 * r1 + (1 - b2) * g2**2
        mc, rc = m2 / (1 - b1**2), r2 / (1 - b2**2)
        np.testing.assert_allclose(v2["d" + key], m2, rtol=1e-14)
        np.testing.assert_allclose(s2["d" + key], r2, rtol=1e-14)
        np.testing.assert_allclose(vc["d" + key], mc, rtol=1e-14)
        np.testing.assert_allclose(sc["d" + key], rc, rtol=1e-14)
        want = params[key] - lr * g1 / (np.abs(g1) + eps) - lr * mc / (np.sqrt(rc) + eps)
        np.testing.assert_allclose(p2[key], want, rtol=1e-12, atol=1e-14)


def test_adam_agrees_with_torch_over_several_steps(rng):
    torch = pytest.importorskip("torch")
    params, _ = _params_and_grads(rng)
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam(list(tensors.values()), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    v, s = optim.initialize_adam(params)
    for t in range(1, 6):
        grads = {"d" + k: rng.standard_normal(x.shape) for k, x in params.items()}
        params, v, s, _, _ = optim.update_parameters_with_adam(params, grads, v, s, t, 0.01)
        for key, tensor in tensors.items():
            tensor.grad = torch.tensor(grads["d" + key])
        opt.step()
    for key, tensor in tensors.items():
        np.testing.assert_allclose(params[key], tensor.detach().numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- mini-batches
def test_random_mini_batches_expected_output():
    np.random.seed(1)  # noqa: NPY002 - the notebook's test case
    X = np.random.randn(12288, 148)  # noqa: NPY002
    Y = np.random.randn(1, 148) < 0.5  # noqa: NPY002
    batches = optim.random_mini_batches(X, Y, 64)
    assert [bx.shape for bx, _ in batches] == [(12288, 64), (12288, 64), (12288, 20)]
    assert [by.shape for _, by in batches] == [(1, 64), (1, 64), (1, 20)]
    np.testing.assert_allclose(batches[0][0][0][0:3], [0.90085595, -0.7612069, 0.2344157], atol=5e-9)


@pytest.mark.parametrize(("m", "size", "sizes"), [(10, 3, [3, 3, 3, 1]), (9, 3, [3, 3, 3]), (5, 8, [5]),
                                                  (4, 1, [1, 1, 1, 1])])
def test_random_mini_batches_partition_the_columns_consistently(m, size, sizes):
    X = np.vstack([np.arange(m), 10 * np.arange(m)]).astype(float)  # column j holds (j, 10 j)
    Y = np.arange(m)[None, :] * 100
    batches = optim.random_mini_batches(X, Y, mini_batch_size=size, seed=3)
    assert [bx.shape[1] for bx, _ in batches] == sizes
    all_x = np.concatenate([bx for bx, _ in batches], axis=1)
    all_y = np.concatenate([by for _, by in batches], axis=1)
    assert sorted(all_x[0].astype(int)) == list(range(m))  # a permutation of the columns
    np.testing.assert_array_equal(all_x[1], 10 * all_x[0])
    np.testing.assert_array_equal(all_y[0], 100 * all_x[0])  # X and Y shuffled together
    np.random.seed(3)  # noqa: NPY002 - one permutation from the seeded global generator
    np.testing.assert_array_equal(all_x[0], np.random.permutation(m))  # noqa: NPY002


def test_random_mini_batches_is_deterministic_per_seed(rng):
    X = rng.standard_normal((3, 50))
    Y = rng.standard_normal((2, 50))
    a = optim.random_mini_batches(X, Y, 16, seed=5)
    b = optim.random_mini_batches(X, Y, 16, seed=5)
    c = optim.random_mini_batches(X, Y, 16, seed=6)
    for (ax, ay), (bx, by) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ax, bx)
        np.testing.assert_array_equal(ay, by)
    assert not np.array_equal(a[0][0], c[0][0])


# ----------------------------------------------------------------------------- learning-rate decay
def test_update_lr_expected_output():
    assert optim.update_lr(0.5, 2, 1) == pytest.approx(0.5 / 3, rel=1e-15)
    assert optim.update_lr(0.5, 0, 1) == 0.5
    assert optim.update_lr(0.1, 10, 0.3) == pytest.approx(0.1 / 4, rel=1e-15)


def test_schedule_lr_decay_is_a_staircase():
    assert optim.schedule_lr_decay(0.5, 100, 1, 100) == pytest.approx(0.25)
    assert optim.schedule_lr_decay(0.5, 99, 1, 100) == 0.5
    assert optim.schedule_lr_decay(0.5, 1999, 1) == pytest.approx(0.5 / 2)
    assert optim.schedule_lr_decay(0.3, 2000, 0.5) == pytest.approx(0.3 / 2)


# ----------------------------------------------------------------------------- errors
def test_update_errors(rng):
    params, grads = _params_and_grads(rng)
    v, s = optim.initialize_adam(params)
    with pytest.raises(ValueError, match="grads is missing required key.*'dW2'"):
        optim.update_parameters_with_gd(params, {k: g for k, g in grads.items() if k != "dW2"}, 0.1)
    with pytest.raises(ValueError, match=r"grads\['db1'\] must have shape \(3, 1\) \(like b1\)"):
        optim.update_parameters_with_gd(params, {**grads, "db1": np.zeros((1, 3))}, 0.1)
    with pytest.raises(ValueError, match="parameters is missing required key.*'b2'"):
        optim.update_parameters_with_gd({k: p for k, p in params.items() if k != "b2"}, grads, 0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got 0.0"):
        optim.update_parameters_with_gd(params, grads, 0)
    with pytest.raises(ValueError, match=r"beta must be < 1.0, got 1.0"):
        optim.update_parameters_with_momentum(params, grads, v, 1.0, 0.1)
    with pytest.raises(ValueError, match=r"beta must be >= 0.0, got -0.1"):
        optim.update_parameters_with_momentum(params, grads, v, -0.1, 0.1)
    with pytest.raises(ValueError, match="v is missing required key.*'db2'"):
        v_partial = {k: x for k, x in v.items() if k != "db2"}
        optim.update_parameters_with_momentum(params, grads, v_partial, 0.9, 0.1)
    with pytest.raises(TypeError, match="v must be a dict, got NoneType"):
        optim.update_parameters_with_momentum(params, grads, None, 0.9, 0.1)
    with pytest.raises(ValueError, match="t must be >= 1, got 0"):
        optim.update_parameters_with_adam(params, grads, v, s, 0)
    with pytest.raises(TypeError, match="t must be an integer"):
        optim.update_parameters_with_adam(params, grads, v, s, 1.0)
    with pytest.raises(ValueError, match="beta1 must be < 1.0, got 1.0"):
        optim.update_parameters_with_adam(params, grads, v, s, 1, beta1=1.0)
    with pytest.raises(ValueError, match="beta2 must be < 1.0, got 1.5"):
        optim.update_parameters_with_adam(params, grads, v, s, 1, beta2=1.5)
    with pytest.raises(ValueError, match="epsilon must be > 0.0, got 0.0"):
        optim.update_parameters_with_adam(params, grads, v, s, 1, epsilon=0.0)
    with pytest.raises(ValueError, match=r"s\['dW1'\] must have shape \(3, 2\) \(like W1\), got \(2, 3\)"):
        optim.update_parameters_with_adam(params, grads, v, {**s, "dW1": np.zeros((2, 3))}, 1)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0"):
        optim.update_parameters_with_adam(params, grads, v, s, 1, learning_rate=-1.0)
    with pytest.raises(ValueError, match="parameters must hold 'W1', 'b1'"):
        optim.initialize_velocity({})
    with pytest.raises(TypeError, match="parameters must be a dict, got list"):
        optim.initialize_adam([])


def test_mini_batch_errors():
    X, Y = np.zeros((2, 5)), np.zeros((1, 5))
    with pytest.raises(ValueError, match="X and Y must have the same number of columns .* got 5 and 4"):
        optim.random_mini_batches(X, Y[:, :4])
    with pytest.raises(ValueError, match="mini_batch_size must be >= 1, got 0"):
        optim.random_mini_batches(X, Y, 0)
    with pytest.raises(TypeError, match="mini_batch_size must be an integer"):
        optim.random_mini_batches(X, Y, 2.5)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        optim.random_mini_batches(X, Y, 2, seed=-1)
    with pytest.raises(ValueError, match=r"X must be a 2-D array \(n_x, m\), got shape \(5,\)"):
        optim.random_mini_batches(X[0], Y)
    with pytest.raises(ValueError, match=r"Y must be a 2-D array \(n_y, m\), got shape \(5,\)"):
        optim.random_mini_batches(X, Y[0])


def test_decay_errors():
    with pytest.raises(ValueError, match="learning_rate0 must be > 0.0, got 0.0"):
        optim.update_lr(0.0, 1, 1)
    with pytest.raises(ValueError, match="epoch_num must be >= 0, got -1"):
        optim.update_lr(0.1, -1, 1)
    with pytest.raises(ValueError, match="decay_rate must be >= 0.0, got -1.0"):
        optim.schedule_lr_decay(0.1, 1, -1.0)
    with pytest.raises(ValueError, match="time_interval must be >= 1, got 0"):
        optim.schedule_lr_decay(0.1, 1, 1, 0)
    with pytest.raises(TypeError, match="epoch_num must be an integer"):
        optim.schedule_lr_decay(0.1, 1.5, 1)
