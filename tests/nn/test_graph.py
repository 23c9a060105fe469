"""The functional API: graphs with shortcuts, shared layers and merges; gradients, PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep
from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.models import identity_block, signs_convnet, signs_convnet_functional
from deepstep.nn import (
    Activation,
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    Model,
    Multiply,
    ReLU,
    Sequential,
    ZeroPadding2D,
)

TOL = 1e-6  # whole graphs (ReLU kinks near the finite-difference step), as in test_sequential


def gradcheck_model(model: Model, x: np.ndarray, rng: np.random.Generator, training: bool = True) -> None:
    """d sum(logits * dout) / d (input and every trainable parameter) against centred differences."""
    out, cache = model.forward(x, training=training)
    dout = rng.standard_normal(out.shape)
    model.zero_grad()
    dx = model.backward(dout, cache)
    named = [(n, p) for n, p in model.named_parameters() if p.trainable]
    analytic = [dx] + [p.grad.copy() for _, p in named]
    numeric = numerical_gradients(lambda: model(x, training=training), [x] + [p.value for _, p in named],
                                  dout)
    for name, a, n in zip(["x"] + [n for n, _ in named], analytic, numeric, strict=True):
        assert a.shape == n.shape, name
        # a conv bias before BatchNormalization has a zero gradient: compare it absolutely
        assert rel_error(a, n) < TOL or np.max(np.abs(a - n)) < 1e-9, (name, rel_error(a, n))


def residual_model(seed: int = 0) -> Model:
    x = Input((5, 5, 3))
    y = Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    y = BatchNormalization(name="bn")(y)
    y = Conv2D(3, 3, padding="same", name="conv_b")(y)
    y = ReLU(name="out")(Add(name="add")([y, x]))
    y = Dense(3, name="logits")(Flatten()(y))
    return Model(x, y, dtype="float64", seed=seed)


def test_gradcheck_residual_block_with_batchnorm_in_training_mode(rng):
    gradcheck_model(residual_model(), rng.standard_normal((4, 5, 5, 3)), rng)


def test_gradcheck_shared_layer_sums_both_uses(rng):
    x = Input((6,))
    shared = Dense(6, activation="tanh", name="shared")
    y = shared(shared(x))  # the same weights twice in a row
    z = shared(Dense(6, name="side")(x))  # and a third time on another branch
    model = Model(x, Dense(2)(Average()([y, z])), dtype="float64", seed=1)
    assert [n for n, _ in model.named_parameters()][:2] == ["shared/kernel", "shared/bias"]
    assert sum(layer is shared for layer in model.layers) == 1 and len(model.nodes) == 6
    gradcheck_model(model, rng.standard_normal((3, 6)), rng)


def test_gradcheck_concatenate_multiply_and_a_tensor_used_three_times(rng):
    x = Input((4, 4, 2))
    a = Conv2D(3, 1, name="a")(x)
    b = Conv2D(2, 3, padding="same", activation="sigmoid", name="b")(x)
    c = Concatenate(name="cat")([a, b, x])  # x feeds a, b and the concatenation
    m = Multiply(name="mul")([Conv2D(7, 1, name="c")(c), c])
    y = Dense(3)(GlobalAveragePooling2D()(ZeroPadding2D(((1, 0), (0, 2)))(m)))
    model = Model(x, y, dtype="float64", seed=2)
    assert model.output_shape == (3,) and c.shape == (4, 4, 7)
    gradcheck_model(model, rng.standard_normal((2, 4, 4, 2)), rng)


def test_identity_block_from_the_zoo_gradcheck(rng):
    x = Input((4, 4, 6))
    y = identity_block(x, 3, (2, 3, 6), name="res")
    model = Model(x, Dense(2)(Flatten()(y)), dtype="float64", seed=0)
    assert "res_conv2/kernel" in dict(model.named_parameters())
    gradcheck_model(model, rng.standard_normal((3, 4, 4, 6)), rng)


def test_two_forwards_then_two_backwards_give_each_input_its_own_gradient(rng):
    """The 0.1 bug: a layer kept only its last cache, so the first backward used the second input."""
    model = residual_model()
    x1, x2 = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((2, 5, 5, 3))
    dout = rng.standard_normal((2, 3))
    _, c1 = model.forward(x1)
    _, c2 = model.forward(x2)
    dx1 = model.backward(dout, c1)
    dx2 = model.backward(dout, c2)
    _, fresh = model.forward(x1)
    np.testing.assert_array_equal(dx1, model.backward(dout, fresh))
    assert not np.allclose(dx1, dx2)


def test_functional_signs_convnet_equals_the_sequential_one(rng):
    seq, fun = signs_convnet(seed=5), signs_convnet_functional(seed=5)
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in fun.named_parameters()]
    for a, b in zip(seq.get_weights(), fun.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = rng.random((8, 64, 64, 3), dtype=np.float32)
    y = rng.integers(0, 6, 8)
    np.testing.assert_array_equal(seq(x), fun(x))
    for model in (seq, fun):
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=4, verbose=0, seed=0)
    for a, b in zip(seq.get_weights(), fun.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_residual_block_matches_pytorch_in_float64(rng):
    torch = pytest.importorskip("torch")
    model = residual_model(seed=3)
    model.get_layer("bn").gamma.value[...] = rng.uniform(0.5, 1.5, 4)
    model.get_layer("bn").beta.value[...] = rng.standard_normal(4)
    x = rng.standard_normal((4, 5, 5, 3))
    out, cache = model.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    model.zero_grad()
    dx = model.backward(dout, cache)

    def conv(layer):
        return (torch.tensor(layer.kernel.value.transpose(3, 2, 0, 1).copy(), requires_grad=True),
                torch.tensor(layer.bias.value.copy(), requires_grad=True))

    wa, ba = conv(model.get_layer("conv_a"))
    wb, bb = conv(model.get_layer("conv_b"))
    bn = model.get_layer("bn")
    gamma = torch.tensor(bn.gamma.value.copy(), requires_grad=True)
    beta = torch.tensor(bn.beta.value.copy(), requires_grad=True)
    dense = model.get_layer("logits")
    wd = torch.tensor(dense.kernel.value.copy(), requires_grad=True)
    bd = torch.tensor(dense.bias.value.copy(), requires_grad=True)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    tf = torch.nn.functional
    h = tf.relu(tf.conv2d(xt, wa, ba, padding=1))
    h = tf.batch_norm(h, None, None, gamma, beta, training=True, eps=bn.epsilon)
    h = tf.relu(tf.conv2d(h, wb, bb, padding=1) + xt)
    logits = h.permute(0, 2, 3, 1).flatten(1) @ wd + bd
    (logits * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    pairs = {
        "conv_a/kernel": wa.grad.numpy().transpose(2, 3, 1, 0), "conv_a/bias": ba.grad.numpy(),
        "conv_b/kernel": wb.grad.numpy().transpose(2, 3, 1, 0), "conv_b/bias": bb.grad.numpy(),
        "bn/gamma": gamma.grad.numpy(), "bn/beta": beta.grad.numpy(),
        "logits/kernel": wd.grad.numpy(), "logits/bias": bd.grad.numpy(),
    }
    params = dict(model.named_parameters())
    for name, want in pairs.items():
        np.testing.assert_allclose(params[name].grad, want, rtol=1e-10, atol=1e-12, err_msg=name)


def test_training_skips_only_the_gradients_nobody_needs(rng):
    """The first-layer need_dx skip, generalized: off where the input also feeds the shortcut."""
    model = residual_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    conv_a = model.get_layer("conv_a")
    original = conv_a._backward
    conv_a._backward = lambda dout, cache: seen.append(original(dout, cache)) or seen[-1]
    x, y = rng.standard_normal((4, 5, 5, 3)), rng.integers(0, 3, 4)
    model.train_on_batch(x, y)
    assert seen == [None]  # the input needs no gradient in training
    _, cache = model.forward(x, training=True)
    assert model.backward(np.ones((4, 3)), cache).shape == x.shape  # outside training it is computed
    assert seen[-1] is not None


def test_summary_shows_the_connections():
    text = residual_model().summary()
    assert "Connected to" in text
    assert "add (Add)" in text and "conv_b, input" in text.replace("input_", "input")


# --------------------------------------------------------------------------- bad graphs
def test_disconnected_inputs_and_outputs_name_the_layer():
    x, other = Input((4,), name="x"), Input((4,), name="other")
    with pytest.raises(ValueError,
                       match="layer 'mix' .*reads the Input 'other', which is not the model's input"):
        Model(x, Add(name="mix")([Dense(4)(x), other]))
    with pytest.raises(ValueError, match="the output does not depend on the input 'x'"):
        Model(x, Dense(2)(other))


def test_shape_mismatch_at_add_names_the_layer():
    x = Input((6, 6, 3))
    with pytest.raises(ValueError, match=r"layer 'join' \(Add\) needs inputs of one shape, got "
                                         r"\(None, 6, 6, 8\), \(None, 6, 6, 3\)"):
        Add(name="join")([Conv2D(8, 3, padding="same")(x), x])
    with pytest.raises(ValueError, match=r"layer 'cat' \(Concatenate, axis=-1\) needs inputs that agree"):
        Concatenate(name="cat")([Conv2D(2, 3)(x), x])
    with pytest.raises(ValueError, match=r"layer 'd' \(Dense\) expects 2-D input"):
        Dense(3, name="d")(x)
    with pytest.raises(TypeError, match=r"layer 'add' \(Add\) takes a list of tensors"):
        Add()(x)


def test_a_shared_layer_needs_one_input_shape():
    x = Input((4,))
    shared = Dense(4, name="shared")
    y = shared(Dense(5)(x))
    with pytest.raises(ValueError, match="layer 'shared' .*is shared but called on input shapes"):
        Model(x, Add()([shared(x), y]))


def test_files_with_a_cycle_or_an_unknown_layer_give_one_clear_error(tmp_path):
    config = residual_model().get_config()
    cyclic = dict(config, nodes=[dict(n) for n in config["nodes"]])
    first = cyclic["nodes"][0]
    cyclic["nodes"][0] = dict(first, inputs=["out:0"])  # conv_a now reads the block's output
    with pytest.raises(ValueError, match=r"the graph has a cycle through layers \[.*'conv_a'"):
        Model.from_config(cyclic)
    unknown = dict(config, layers=[dict(e) for e in config["layers"]])
    unknown["layers"][1] = {"class_name": "Conv9D", "config": {"name": "bn"}}
    with pytest.raises(ValueError, match=r"layer 'bn'.*unknown layer class 'Conv9D'"):
        Model.from_config(unknown)
    dangling = dict(config, nodes=[dict(n) for n in config["nodes"]])
    dangling["nodes"][1] = dict(dangling["nodes"][1], inputs=["nowhere:0"])
    with pytest.raises(ValueError, match="layer 'bn' reads tensor 'nowhere:0', which no node produces"):
        Model.from_config(dangling)


def test_config_round_trip_rebuilds_the_same_graph():
    model = residual_model(seed=4)
    clone = Model.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed, same build order: same initial weights


# --------------------------------------------------------------------------- misc
def test_activation_layer_and_module_protocol_on_layers(rng):
    layer = Activation("tanh")
    x = rng.standard_normal((2, 3))
    out, cache = layer.forward(x)
    np.testing.assert_allclose(out, np.tanh(x))
    np.testing.assert_allclose(layer.backward(np.ones_like(x), cache), 1 - np.tanh(x) ** 2)
    with pytest.raises(ValueError, match="activation must be one of"):
        Activation("linear")


def test_sequential_rejects_merge_layers():
    with pytest.raises(TypeError, match="use the functional API"):
        Sequential([Add()])


def test_set_weights_by_name_and_model_call(rng):
    a, b = residual_model(seed=0), residual_model(seed=1)
    b.set_weights(a.get_weight_dict())
    x = rng.standard_normal((2, 5, 5, 3))
    np.testing.assert_array_equal(a(x), b(x))
    with pytest.raises(ValueError, match=r"missing \['conv_a/kernel'\]"):
        b.set_weights({k: v for k, v in a.get_weight_dict().items() if k != "conv_a/kernel"})


def test_graph_model_save_load_and_cli_gradcheck(tmp_path, rng):
    from deepstep.commands.gradcheck import check_model_gradients

    model = residual_model()
    model.compile("adam", "sparse_categorical_crossentropy", weight_decay=0.01,
                  weight_decay_params=("kernel", "gamma"))
    x, y = rng.standard_normal((8, 5, 5, 3)), rng.integers(0, 3, 8)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, seed=0)
    model.save(tmp_path / "g.npz")
    with np.load(tmp_path / "g.npz") as f:
        assert "optimizer/m/conv_a/kernel" in f.files and "weights/bn/moving_mean" in f.files
    loaded = deepstep.load(tmp_path / "g.npz")
    assert type(loaded) is Model and loaded.weight_decay_params == ("kernel", "gamma")
    np.testing.assert_array_equal(loaded(x), model(x))
    for m in (model, loaded):
        m.fit(x, y, epochs=3, initial_epoch=2, batch_size=4, verbose=0, seed=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    checks = check_model_gradients(loaded, x[:2], y[:2])
    assert {c.layer for c in checks} == {"conv_a", "conv_b", "bn", "logits"}
    assert max(c.rel_error for c in checks) < 1e-6
