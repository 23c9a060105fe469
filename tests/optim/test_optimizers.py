"""Optimizers: pure maths, stateful classes, PyTorch agreement, serialisation and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from deepstep.nn import Parameter
from deepstep.optim import (
    OPTIMIZER_NAMES,
    SGD,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    adam_update,
    adamw_update,
    get_optimizer,
    momentum_update,
    nesterov_update,
    optimizer_from_config,
    rmsprop_update,
    sgd_update,
)

SHAPES = [(3, 4), (4,), (2, 3, 3, 2)]


def make_params(rng, dtype=np.float64, shapes=SHAPES):
    return [Parameter(rng.standard_normal(s).astype(dtype), f"p{i}") for i, s in enumerate(shapes)]


def gradient_sequence(rng, steps, dtype=np.float64, shapes=SHAPES):
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]


def run(optimizer, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad[...] = g
        optimizer.step(params)


# ---------------------------------------------------------------------------------------------
# Pure update functions against the formulas written out independently
# ---------------------------------------------------------------------------------------------

def test_sgd_update_formula(rng):
    w, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    out = sgd_update(w, g, 0.1)
    np.testing.assert_allclose(out, w - 0.1 * g, rtol=0, atol=1e-15)
    assert out is not w


def test_momentum_and_nesterov_formulas_over_steps(rng):
    lr, mu = 0.05, 0.9
    w_m = w_n = w_ref_m = w_ref_n = rng.standard_normal(6)
    v_m = v_n = v_ref_m = v_ref_n = np.zeros(6)
    for _ in range(4):
        g = rng.standard_normal(6)
        w_m, v_m = momentum_update(w_m, g, v_m, lr, mu)
        w_n, v_n = nesterov_update(w_n, g, v_n, lr, mu)
        v_ref_m = mu * v_ref_m - lr * g
        w_ref_m = w_ref_m + v_ref_m
        # Nesterov (Sutskever / Keras): look ahead along the new velocity.
        v_ref_n = mu * v_ref_n - lr * g
        w_ref_n = w_ref_n + mu * v_ref_n - lr * g
    np.testing.assert_allclose(w_m, w_ref_m, rtol=1e-14)
    np.testing.assert_allclose(v_m, v_ref_m, rtol=1e-14)
    np.testing.assert_allclose(w_n, w_ref_n, rtol=1e-14)
    np.testing.assert_allclose(v_n, v_ref_n, rtol=1e-14)
    assert not np.allclose(w_m, w_n)  # the two rules really differ


def test_rmsprop_formula(rng):
    w, g, s = rng.standard_normal(7), rng.standard_normal(7), rng.random(7)
    w_new, s_new = rmsprop_update(w, g, s, 0.01, rho=0.8, epsilon=1e-6)
    s_ref = 0.8 * s + 0.2 * g**2
    np.testing.assert_allclose(s_new, s_ref, rtol=1e-14)
    np.testing.assert_allclose(w_new, w - 0.01 * g / (np.sqrt(s_ref) + 1e-6), rtol=1e-14)


def test_adam_formula_course_form(rng):
    """The course's update_parameters_with_adam: bias-corrected moments, epsilon outside the root."""
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    w = rng.standard_normal((3, 2))
    m, v = np.zeros_like(w), np.zeros_like(w)
    w_ref, m_ref, v_ref = w.copy(), m.copy(), v.copy()
    for t in range(1, 6):
        g = rng.standard_normal(w.shape)
        w, m, v = adam_update(w, g, m, v, t, lr, b1, b2, eps)
        m_ref = b1 * m_ref + (1 - b1) * g
        v_ref = b2 * v_ref + (1 - b2) * g * g
        m_hat, v_hat = m_ref / (1 - b1**t), v_ref / (1 - b2**t)
        w_ref = w_ref - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(w, w_ref, rtol=1e-13)
    np.testing.assert_allclose(m, m_ref, rtol=1e-13)
    np.testing.assert_allclose(v, v_ref, rtol=1e-13)


def test_adam_keras_epsilon_hat_relation(rng):
    """Keras adds epsilon to sqrt(v) before bias correction; that equals ours with a rescaled epsilon."""
    b1, b2, eps, lr, t = 0.9, 0.999, 1e-3, 0.01, 3
    w, g = rng.standard_normal(5), rng.standard_normal(5)
    m, v = rng.standard_normal(5) * 0.1, rng.random(5) * 0.01
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    keras_w = w - alpha * m_new / (np.sqrt(v_new) + eps)
    ours, _, _ = adam_update(w, g, m, v, t, lr, b1, b2, epsilon=eps / math.sqrt(1 - b2**t))
    np.testing.assert_allclose(ours, keras_w, rtol=1e-13)
    same_eps, _, _ = adam_update(w, g, m, v, t, lr, b1, b2, epsilon=eps)
    assert not np.allclose(same_eps, keras_w, rtol=1e-6)  # the placements really differ


def test_adamw_formula_is_decay_then_adam(rng):
    w, g = rng.standard_normal(6), rng.standard_normal(6)
    m, v = np.zeros(6), np.zeros(6)
    lr, wd = 0.01, 0.1
    got, m1, v1 = adamw_update(w, g, m, v, 1, lr, wd, 0.9, 0.999, 1e-7)
    adam_w, m2, v2 = adam_update(w - lr * wd * w, g, m, v, 1, lr, 0.9, 0.999, 1e-7)
    np.testing.assert_allclose(got, adam_w, rtol=1e-14)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(v1, v2)
    plain, _, _ = adamw_update(w, g, m, v, 1, lr, 0.0, 0.9, 0.999, 1e-7)
    np.testing.assert_array_equal(plain, adam_update(w, g, m, v, 1, lr, 0.9, 0.999, 1e-7)[0])


def test_pure_functions_do_not_modify_inputs(rng):
    w, g, m, v = (rng.standard_normal(4) for _ in range(4))
    v = np.abs(v)
    copies = [a.copy() for a in (w, g, m, v)]
    adamw_update(w, g, m, v, 2, 0.01, 0.1)
    rmsprop_update(w, g, v, 0.01)
    nesterov_update(w, g, m, 0.01, 0.9)
    for a, c in zip((w, g, m, v), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_pure_updates_compute_in_float32(rng):
    """float32 inputs give float32 results and state (hyper-parameters are cast, nothing upcasts)."""
    w, g, m = (rng.standard_normal(5).astype(np.float32) for _ in range(3))
    v = np.abs(m)
    outputs = [
        sgd_update(w, g, 0.1),
        *momentum_update(w, g, m, 0.1, 0.9),
        *nesterov_update(w, g, m, 0.1, 0.9),
        *rmsprop_update(w, g, v, 0.1),
        *adam_update(w, g, m, v, 3, 0.1),
        *adamw_update(w, g, m, v, 3, 0.1, 0.01),
    ]
    assert all(o.dtype == np.float32 for o in outputs)
    w64, _, _ = adamw_update(w.astype(np.float64), g.astype(np.float64), m.astype(np.float64),
                             v.astype(np.float64), 3, 0.1, 0.01)
    np.testing.assert_allclose(outputs[-3], w64, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda w, g: sgd_update(w, g[:2], 0.1), ValueError,
         r"g must have the shape of w \(3,\), got \(2,\)"),
        (lambda w, g: sgd_update(w, g.astype(np.float32), 0.1), TypeError, "g must have the dtype of w"),
        (lambda w, g: sgd_update(w.astype(np.int64), g, 0.1), TypeError, "w must be a float32 or float64"),
        (lambda w, g: sgd_update(w, g, 0.0), ValueError, "learning_rate must be > 0"),
        (lambda w, g: sgd_update(w, list(g), 0.1), TypeError, "g must be a numpy.ndarray"),
        (lambda w, g: momentum_update(w, g, np.zeros(4), 0.1, 0.9), ValueError,
         "velocity must have the shape"),
        (lambda w, g: nesterov_update(w, g, np.zeros(3), 0.1, 1.0), ValueError, "momentum must be < 1.0"),
        (lambda w, g: rmsprop_update(w, g, np.zeros(3), 0.1, rho=-0.1), ValueError, "rho must be >= 0.0"),
        (lambda w, g: rmsprop_update(w, g, np.zeros(3), 0.1, epsilon=0), ValueError, "epsilon must be > 0"),
        (lambda w, g: adam_update(w, g, np.zeros(3), np.zeros(3), 0), ValueError, "t must be >= 1"),
        (lambda w, g: adam_update(w, g, np.zeros(3), np.zeros(3), 1.0), TypeError, "t must be an integer"),
        (lambda w, g: adam_update(w, g, np.zeros(3), np.zeros(3), 1, beta_2=1.0), ValueError,
         "beta_2 must be < 1.0"),
        (lambda w, g: adamw_update(w, g, np.zeros(3), np.zeros(3), 1, weight_decay=-1), ValueError,
         "weight_decay must be >= 0.0"),
        (lambda w, g: adam_update(w, g, np.zeros(3), np.zeros(2), 1), ValueError, "v must have the shape"),
    ],
)
def test_pure_function_errors(rng, call, exc, match):
    with pytest.raises(exc, match=match):
        call(rng.standard_normal(3), rng.standard_normal(3))


# ---------------------------------------------------------------------------------------------
# Stateful optimizers against torch.optim on the same gradients (float64, several steps)
# ---------------------------------------------------------------------------------------------

TORCH_CASES = [
    ("sgd", dict(learning_rate=0.1), lambda t, ps: t.optim.SGD(ps, lr=0.1)),
    (
        "momentum",
        dict(learning_rate=0.05, momentum=0.9),
        lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9),
    ),
    (
        "nesterov",
        dict(learning_rate=0.05, momentum=0.8, nesterov=True),
        lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
    ),
    # torch's RMSprop calls the decay "alpha" and adds eps outside the square root, like ours.
    (
        "rmsprop",
        dict(learning_rate=0.01, rho=0.9, epsilon=1e-7),
        lambda t, ps: t.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7),
    ),
    (
        "adam",
        dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-7),
        lambda t, ps: t.optim.Adam(ps, lr=0.01, betas=(0.8, 0.95), eps=1e-7),
    ),
    (
        "adamw",
        dict(learning_rate=0.01, weight_decay=0.05, beta_1=0.9, beta_2=0.999, epsilon=1e-6),
        lambda t, ps: t.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.05),
    ),
]


@pytest.mark.parametrize(("label", "kwargs", "make_torch"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_optim(rng, label, kwargs, make_torch):
    torch = pytest.importorskip("torch")
    name = "sgd" if label in ("momentum", "nesterov") else label
    ours = get_optimizer(name, **kwargs)
    params = make_params(rng)
    tparams = [torch.tensor(p.value.copy(), requires_grad=True) for p in params]
    topt = make_torch(torch, tparams)
    for step_grads in gradient_sequence(rng, 6):
        for p, tp, g in zip(params, tparams, step_grads, strict=True):
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        ours.step(params)
        topt.step()
        for p, tp in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p.value, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ours.iterations == 6


@pytest.mark.parametrize("label", ["sgd", "rmsprop", "adam", "adamw"])
def test_matches_torch_optim_when_the_learning_rate_changes(rng, label):
    """Scheduled rates: same iterates as torch (SGD with momentum differs by design, see the module doc)."""
    torch = pytest.importorskip("torch")
    _, kwargs, make_torch = next(c for c in TORCH_CASES if c[0] == label)
    ours = get_optimizer(label, **kwargs)
    params = make_params(rng)
    tparams = [torch.tensor(p.value.copy(), requires_grad=True) for p in params]
    topt = make_torch(torch, tparams)
    for step, step_grads in enumerate(gradient_sequence(rng, 5)):
        lr = 0.02 / (1 + step)
        ours.learning_rate = lr
        for group in topt.param_groups:
            group["lr"] = lr
        for p, tp, g in zip(params, tparams, step_grads, strict=True):
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        ours.step(params)
        topt.step()
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.value, tp.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classes_apply_exactly_the_pure_functions(rng, dtype):
    """The in-place class updates and the pure functions are the same arithmetic, bit for bit."""
    grads = gradient_sequence(rng, 3, dtype, shapes=[(4, 5)])
    w0 = rng.standard_normal((4, 5)).astype(dtype)
    cases = [
        (SGD(0.1), lambda w, g, s, t: (sgd_update(w, g, 0.1), s)),
        (SGD(0.1, 0.9), lambda w, g, s, t: momentum_update(w, g, s, 0.1, 0.9)),
        (SGD(0.1, 0.9, nesterov=True), lambda w, g, s, t: nesterov_update(w, g, s, 0.1, 0.9)),
        (RMSprop(0.01, 0.8, 1e-6), lambda w, g, s, t: rmsprop_update(w, g, s, 0.01, 0.8, 1e-6)),
    ]
    for opt, pure in cases:
        param = Parameter(w0.copy(), "w")
        w, state = w0.copy(), np.zeros_like(w0)
        for t, (g,) in enumerate(grads, start=1):
            w, state = pure(w, g, state, t)
        run(opt, [param], grads)
        np.testing.assert_array_equal(param.value, w)
    for opt, wd in ((Adam(0.01, 0.8, 0.9, 1e-6), None), (AdamW(0.01, 0.1, 0.8, 0.9, 1e-6), 0.1)):
        param = Parameter(w0.copy(), "w")
        w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        for t, (g,) in enumerate(grads, start=1):
            if wd is None:
                w, m, v = adam_update(w, g, m, v, t, 0.01, 0.8, 0.9, 1e-6)
            else:
                w, m, v = adamw_update(w, g, m, v, t, 0.01, wd, 0.8, 0.9, 1e-6)
        run(opt, [param], grads)
        np.testing.assert_array_equal(param.value, w)
        np.testing.assert_array_equal(opt.state_dict()["m/0"], m)
        np.testing.assert_array_equal(opt.state_dict()["v/0"], v)


def test_float32_updates_stay_float32_and_match_float64(rng):
    for make in (lambda: Adam(0.01), lambda: AdamW(0.01, 0.1), lambda: RMSprop(0.01),
                 lambda: SGD(0.05, momentum=0.9, nesterov=True)):
        p64 = make_params(np.random.default_rng(1))
        p32 = make_params(np.random.default_rng(1), dtype=np.float32)
        grads = gradient_sequence(np.random.default_rng(2), 4)
        o64, o32 = make(), make()
        run(o64, p64, grads)
        run(o32, p32, [[g.astype(np.float32) for g in gs] for gs in grads])
        for a, b in zip(p32, p64, strict=True):
            assert a.value.dtype == np.float32
            np.testing.assert_allclose(a.value, b.value, rtol=1e-4, atol=1e-5)
        assert all(arr.dtype == np.float32 for k, arr in o32.state_dict().items() if k != "iterations")


def test_values_are_updated_in_place(rng):
    params = make_params(rng)
    arrays = [p.value for p in params]
    before = [a.copy() for a in arrays]
    run(Adam(0.1), params, gradient_sequence(rng, 1))
    for p, a, b in zip(params, arrays, before, strict=True):
        assert p.value is a
        assert not np.array_equal(a, b)


def test_non_trainable_parameters_are_skipped(rng):
    params = make_params(rng)
    params[1].trainable = False
    frozen = params[1].value.copy()
    opt = Adam(0.1)
    run(opt, params, gradient_sequence(rng, 3))
    np.testing.assert_array_equal(params[1].value, frozen)
    assert "m/1" not in opt.state_dict() and "m/0" in opt.state_dict() and "v/2" in opt.state_dict()


def test_learning_rate_change_takes_effect(rng):
    params = make_params(rng)
    opt = SGD(0.1)
    grads = gradient_sequence(rng, 1)
    before = params[0].value.copy()
    opt.learning_rate = 0.5
    run(opt, params, grads)
    np.testing.assert_allclose(params[0].value, before - 0.5 * grads[0][0], rtol=1e-14)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        opt.learning_rate = -1.0
    assert opt.learning_rate == 0.5


def test_plain_sgd_has_no_state(rng):
    opt = SGD(0.1)
    run(opt, make_params(rng), gradient_sequence(rng, 2))
    assert set(opt.state_dict()) == {"iterations"}


# ---------------------------------------------------------------------------------------------
# step() validation
# ---------------------------------------------------------------------------------------------

def test_step_rejects_bad_gradients_and_layout_changes(rng):
    params = make_params(rng)
    opt = Adam()
    with pytest.raises(TypeError, match="params must be a list of Parameter"):
        opt.step(params[0])
    with pytest.raises(TypeError, match=r"params\[1\] must be a Parameter"):
        opt.step([params[0], np.zeros(3)])
    params[0].grad = np.zeros((4, 3))
    with pytest.raises(ValueError,
                       match=r"params\[0\] \('p0'\): grad shape \(4, 3\) does not match value shape"):
        opt.step(params)
    params[0].grad = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(TypeError, match="grad dtype float32 does not match value dtype float64"):
        opt.step(params)
    params[0].grad = None
    with pytest.raises(TypeError, match=r"params\[0\]\.grad must be a numpy.ndarray"):
        opt.step(params)
    params[0].grad = np.zeros((3, 4))
    opt.step(params)
    with pytest.raises(ValueError, match="same layout"):
        opt.step(params[:2])
    with pytest.raises(ValueError, match="same layout"):
        opt.step([params[1], params[0], params[2]])
    assert opt.iterations == 1


# ---------------------------------------------------------------------------------------------
# state_dict / config round trips
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: SGD(0.05, 0.9), lambda: RMSprop(0.01), lambda: Adam(0.01),
                                  lambda: AdamW(0.01, 0.1)])
def test_state_dict_round_trip_through_npz(tmp_path, rng, make):
    params = make_params(rng)
    grads = gradient_sequence(rng, 5)
    opt = make()
    run(opt, params, grads[:3])
    state = opt.state_dict()
    assert state["iterations"].dtype == np.int64 and int(state["iterations"]) == 3
    np.savez(tmp_path / "opt.npz", **state)
    with np.load(tmp_path / "opt.npz") as f:
        loaded = {k: f[k] for k in f.files}
    clone_params = [Parameter(p.value.copy(), p.name) for p in params]
    clone = optimizer_from_config(json.loads(json.dumps(opt.get_config())))
    clone.load_state_dict(loaded)
    assert clone.iterations == 3
    for k, arr in clone.state_dict().items():
        np.testing.assert_array_equal(arr, state[k])
    run(opt, params, grads[3:])
    run(clone, clone_params, grads[3:])
    for a, b in zip(params, clone_params, strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def test_state_dict_is_a_copy(rng):
    params = make_params(rng)
    opt = Adam(0.1)
    run(opt, params, gradient_sequence(rng, 1))
    state = opt.state_dict()
    state["m/0"][...] = 123.0
    assert not np.any(opt.state_dict()["m/0"] == 123.0)


def test_load_state_dict_errors(rng):
    opt = Adam()
    with pytest.raises(TypeError, match="state must be a dict"):
        opt.load_state_dict([1, 2])
    with pytest.raises(ValueError, match="missing required key 'iterations'"):
        opt.load_state_dict({"m/0": np.zeros(3)})
    with pytest.raises(ValueError, match="non-negative integer scalar"):
        opt.load_state_dict({"iterations": np.array(-1)})
    with pytest.raises(ValueError, match="non-negative integer scalar"):
        opt.load_state_dict({"iterations": np.array(1.5)})
    with pytest.raises(ValueError,
                       match=r"unexpected key 'velocity/0' in adam state \(expected 'iterations'"):
        opt.load_state_dict({"iterations": np.array(1), "velocity/0": np.zeros(3)})
    with pytest.raises(ValueError, match="unexpected key 'm/'"):
        opt.load_state_dict({"iterations": np.array(1), "m/": np.zeros(3)})
    with pytest.raises(TypeError, match=r"state\['m/0'\] must be a float32/float64 ndarray"):
        opt.load_state_dict({"iterations": np.array(1), "m/0": [0.0, 0.0]})
    uneven = {"iterations": np.array(1), "m/0": np.zeros(3), "m/1": np.zeros(3), "v/0": np.zeros(3)}
    with pytest.raises(ValueError, match=r"adam state must hold every slot for the same parameters, "
                                         r"got names m: \['0', '1'\], v: \['0'\]"):
        opt.load_state_dict(uneven)
    with pytest.raises(ValueError,
                       match=r"unexpected key 'velocity/0' in sgd state \(expected 'iterations' and none"):
        SGD(0.1).load_state_dict({"iterations": np.array(1), "velocity/0": np.zeros(3)})
    # A state made for other parameters is caught at the next step.
    opt.load_state_dict({"iterations": np.array(1), "m/0": np.zeros(5), "v/0": np.zeros(5)})
    params = make_params(rng)
    with pytest.raises(ValueError, match=r"optimizer state m/0 has shape \(5,\) float64 but params\[0\] has"):
        opt.step(params)
    opt.load_state_dict({"iterations": np.array(1), "m/7": np.zeros(5), "v/7": np.zeros(5)})
    with pytest.raises(ValueError, match="params\\[7\\] has no parameter"):
        opt.step(params)


def test_get_config_round_trip_and_json():
    for opt in (SGD(0.02, 0.5, True), RMSprop(0.003, 0.8, 1e-6), Adam(0.004, 0.85, 0.99, 1e-8),
                AdamW(0.005, 0.01, 0.8, 0.9, 1e-5)):
        cfg = opt.get_config()
        assert cfg["name"] in OPTIMIZER_NAMES
        rebuilt = optimizer_from_config(json.loads(json.dumps(cfg)))
        assert type(rebuilt) is type(opt) and rebuilt.get_config() == cfg
    assert AdamW().get_config() == {"name": "adamw", "learning_rate": 0.001, "weight_decay": 0.004,
                                    "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    assert repr(SGD()) == "SGD(learning_rate=0.01, momentum=0.0, nesterov=False)"


def test_get_optimizer():
    assert isinstance(get_optimizer("ADAM"), Adam)
    assert get_optimizer("sgd", learning_rate=0.5, momentum=0.9).get_config()["momentum"] == 0.9
    opt = RMSprop()
    assert get_optimizer(opt) is opt
    assert isinstance(get_optimizer({"name": "adamw", "weight_decay": 0.1}), AdamW)
    assert isinstance(opt, Optimizer)
    with pytest.raises(ValueError,
                       match="unknown optimizer 'adagrad'; expected one of sgd, rmsprop, adam, adamw"):
        get_optimizer("adagrad")
    with pytest.raises(ValueError, match="unknown optimizer 3"):
        get_optimizer(3)
    with pytest.raises(ValueError, match=r"unexpected argument\(s\) 'rho' for Adam; allowed: learning_rate"):
        get_optimizer("adam", rho=0.9)
    with pytest.raises(ValueError, match="keyword arguments are only allowed with an optimizer name"):
        get_optimizer(opt, learning_rate=0.1)
    with pytest.raises(ValueError, match="keyword arguments are only allowed"):
        get_optimizer({"name": "sgd"}, learning_rate=0.1)
    with pytest.raises(ValueError, match="config is missing required key 'name'"):
        optimizer_from_config({"learning_rate": 0.1})
    with pytest.raises(TypeError, match="config must be a dict"):
        optimizer_from_config("adam")


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: SGD(learning_rate=0), ValueError, "learning_rate must be > 0"),
        (lambda: SGD(learning_rate="fast"), TypeError, "learning_rate must be a real number"),
        (lambda: SGD(learning_rate=float("nan")), ValueError, "learning_rate must be finite"),
        (lambda: SGD(momentum=1.0), ValueError, "momentum must be < 1.0"),
        (lambda: SGD(momentum=-0.5), ValueError, "momentum must be >= 0.0"),
        (lambda: SGD(nesterov=True), ValueError, "nesterov=True requires momentum > 0"),
        (lambda: SGD(momentum=0.9, nesterov="yes"), TypeError, "nesterov must be a bool"),
        (lambda: RMSprop(rho=1.0), ValueError, "rho must be < 1.0"),
        (lambda: RMSprop(epsilon=-1e-7), ValueError, "epsilon must be > 0"),
        (lambda: Adam(beta_1=1.0), ValueError, "beta_1 must be < 1.0"),
        (lambda: Adam(beta_2=-0.1), ValueError, "beta_2 must be >= 0.0"),
        (lambda: Adam(epsilon=0.0), ValueError, "epsilon must be > 0"),
        (lambda: AdamW(weight_decay=-0.1), ValueError, "weight_decay must be >= 0.0"),
    ],
)
def test_hyper_parameter_validation(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
