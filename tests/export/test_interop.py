"""Weights to and from PyTorch (equal outputs of the equivalent torch network) and Keras 3 files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from export_graphs import random_dag, residual_graph

from deepstep.export import ExportError
from deepstep.interop import (
    from_torch_state_dict,
    keras_layer_names,
    load_keras_weights,
    save_keras_weights,
    to_torch_state_dict,
    torch_module,
)
from deepstep.io import ModelFormatError
from deepstep.models import MODEL_NAMES, get_model
from deepstep.nn import (
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    LeakyReLU,
    MaxPooling2D,
    Model,
    Sequential,
    Softmax,
    Tanh,
)

torch = pytest.importorskip("torch")

TOL = {"float32": 1e-5, "float64": 1e-10}


def nchw(model, x):
    return x.transpose(0, 3, 1, 2) if x.ndim == 4 and model.layers[0].get_config().get(
        "data_format", "channels_last") == "channels_last" else x


def torch_forward(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def randomize(model, seed):
    """Non-trivial values for every parameter (BatchNormalization's variances positive)."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        p.value[...] = rng.uniform(0.5, 1.5, p.shape) if "variance" in name else rng.normal(0, 0.5, p.shape)


def mixed_model(dtype, fmt="channels_last"):
    cf = fmt == "channels_first"
    return Sequential([
        Conv2D(4, 3, strides=2, padding="same", activation="relu", data_format=fmt),
        BatchNormalization(axis=1 if cf else -1),
        Conv2D(3, (2, 3), padding="same", activation="softmax", data_format=fmt),
        AveragePooling2D(3, strides=2, padding="same", data_format=fmt),
        LeakyReLU(0.2),
        MaxPooling2D(2, strides=1, padding="same", data_format=fmt),
        Flatten(),
        BatchNormalization(),
        Dropout(0.5),
        Tanh(),
        Dense(6, activation="leaky_relu"),
        Dense(3),
        Softmax(),
    ], input_shape=(2, 9, 7) if cf else (9, 7, 2), dtype=dtype, seed=0)


CASES = [(name, "float32") for name in MODEL_NAMES] + [("mixed", "float32"), ("mixed", "float64"),
                                                         ("mixed_cf", "float32"), ("mixed_cf", "float64"),
                                                         ("resnet_small", "float64"),
                                                         ("resnet_mnist", "float64")]


def build(name, dtype):
    if name.startswith("mixed"):
        model = mixed_model(dtype, "channels_first" if name.endswith("_cf") else "channels_last")
    else:
        model = get_model(name, dtype=dtype, seed=0)
    randomize(model, 1)
    return model


@pytest.mark.parametrize("name,dtype", CASES)
def test_torch_network_gives_the_same_outputs(name, dtype):
    model = build(name, dtype)
    x = np.random.default_rng(2).random((3, *model.input_shape)).astype(dtype)
    module = torch_module(model)
    got = torch_forward(module, nchw(model, x))
    np.testing.assert_allclose(got, model(x), rtol=TOL[dtype], atol=TOL[dtype])
    assert set(module.state_dict()) == set(to_torch_state_dict(model))


@pytest.mark.parametrize("name,dtype", CASES)
def test_state_dict_round_trip(name, dtype):
    model = build(name, dtype)
    state = to_torch_state_dict(model)
    other = build(name, dtype)
    randomize(other, 7)
    from_torch_state_dict(other, state)
    for (key, a), (_, b) in zip(model.named_parameters(), other.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value, err_msg=key)


GRAPH_CASES = [(fmt, dtype) for fmt in ("channels_last", "channels_first")
               for dtype in ("float32", "float64")]


def graph_input(model, x, fmt):
    return x.transpose(0, 3, 1, 2) if fmt == "channels_last" else x


@pytest.mark.parametrize("fmt,dtype", GRAPH_CASES)
def test_torch_graph_network_gives_the_same_outputs(fmt, dtype):
    """Shortcuts, merges, padding, GAP, a dilated and a shared (twice-called) convolution."""
    model = residual_graph(dtype, fmt)
    x = np.random.default_rng(2).normal(size=(3, *model.input_shape)).astype(dtype)
    module = torch_module(model)
    np.testing.assert_allclose(torch_forward(module, graph_input(model, x, fmt)), model(x),
                               rtol=TOL[dtype], atol=TOL[dtype])
    state = to_torch_state_dict(model)
    assert set(module.state_dict()) == set(state)
    assert "shared.weight" in state and "conv_dilated.weight" in state and "bn.running_var" in state
    other = residual_graph(dtype, fmt)
    randomize(other, 9)
    from_torch_state_dict(other, module.state_dict())
    np.testing.assert_array_equal(other(x), model(x))


@pytest.mark.parametrize("case", range(6))
def test_torch_random_dags(case):
    rng = np.random.default_rng(300 + case)
    dtype = "float64" if case % 3 == 2 else "float32"
    model = random_dag(rng, dtype)
    fmt = next(layer.get_config()["data_format"] for layer in model.layers
               if "data_format" in layer.get_config())
    x = rng.normal(size=(2, *model.input_shape)).astype(dtype)
    module = torch_module(model)
    want = model(x)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(torch_forward(module, graph_input(model, x, fmt)), want, rtol=TOL[dtype],
                               atol=TOL[dtype] * scale)
    state = to_torch_state_dict(model)
    rng2 = np.random.default_rng(case)
    other = random_dag(np.random.default_rng(300 + case), dtype)
    randomize(other, int(rng2.integers(100)))
    from_torch_state_dict(other, state)
    for (key, a), (_, b) in zip(model.named_parameters(), other.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value, err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_concatenated_flatten_features_are_permuted(dtype):
    """A channels_last Flatten concatenated with GAP features and with itself: the permutation of each
    part moves into the Dense weights at its offset."""
    inputs = Input((3, 4, 2))
    x = Conv2D(3, 2, padding="same", activation="tanh")(inputs)
    flat = Flatten()(x)
    features = Concatenate()([GlobalAveragePooling2D()(x), flat, flat])
    features = BatchNormalization()(features)
    model = Model(inputs, Dense(5)(features), dtype=dtype, seed=0)
    randomize(model, 3)
    x = np.random.default_rng(4).normal(size=(2, 3, 4, 2)).astype(dtype)
    np.testing.assert_allclose(torch_forward(torch_module(model), x.transpose(0, 3, 1, 2)), model(x),
                               rtol=TOL[dtype], atol=TOL[dtype])


def test_torch_graph_errors_name_the_layer():
    inputs = Input((4, 4, 2))
    flat = Flatten()(inputs)                            # (h, w, c) order: torch's is (c, h, w)
    dense = Dense(32)(flat)
    model = Model(inputs, Add(name="mixed_orders")([flat, dense]), seed=0)
    with pytest.raises(ExportError, match=r"'mixed_orders' \(Add\).*different orders"):
        torch_module(model)
    with pytest.raises(ExportError, match="mixed_orders"):
        to_torch_state_dict(model)
    inputs = Input((4, 4, 2))
    flat = Flatten()(inputs)
    shared = Dense(3, name="shared_head")           # reads features in two orders: one torch weight can't
    model = Model(inputs, Add()([shared(flat), shared(Dense(32)(flat))]), seed=0)
    with pytest.raises(ExportError, match=r"'shared_head' \(Dense\) is shared.*feature order"):
        torch_module(model)


def test_flatten_order_is_permuted_into_the_dense_weights():
    model = get_model("digits_cnn", seed=0)
    state = to_torch_state_dict(model)
    kernel = model.get_layer("dense_1").kernel.value  # (2*2*32, 10), rows in (h, w, c) order
    weight = state["dense_1.weight"].numpy()          # (10, 32*2*2), columns in (c, h, w) order
    np.testing.assert_array_equal(weight[:, 1 * 4 + 0 * 2 + 1], kernel[(0 * 2 + 1) * 32 + 1])
    assert state["conv2d_1.weight"].shape == (16, 1, 3, 3)


def test_trained_torch_weights_come_back():
    """A torch network trained one step: its weights, loaded into deepstep, give torch's outputs."""
    model = build("mixed", "float64")
    module = torch_module(model)
    module.train()
    x = np.random.default_rng(3).random((4, 9, 7, 2))
    loss = module(torch.from_numpy(nchw(model, x).copy())).square().sum()
    loss.backward()
    with torch.no_grad():
        for p in module.parameters():
            p -= 0.1 * p.grad
    module.eval()
    from_torch_state_dict(model, module.state_dict())
    want = torch_forward(module, nchw(model, x))
    np.testing.assert_allclose(model(x), want, rtol=1e-10, atol=1e-10)


RESNETS = ["resnet_small", "resnet_mnist"]


def resnet_twin(name, lr=0.05, optimizer="sgd"):
    """A float64 zoo ResNet (ZeroPadding2D stem, BatchNormalization, shortcuts, GAP), randomized and
    compiled, and its torch twin with the same optimizer (torch's Adam in deepstep's form: eps 1e-7)."""
    from deepstep.optim import get_optimizer

    model = build(name, "float64")
    model.compile(optimizer=get_optimizer(optimizer, learning_rate=lr))
    module = torch_module(model)
    params = module.parameters()
    opt = torch.optim.SGD(params, lr=lr) if optimizer == "sgd" else torch.optim.Adam(params, lr=lr, eps=1e-7)
    return model, module, opt


def resnet_batch(model, seed, n=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *model.input_shape)), rng.integers(0, model.output_shape[-1], n)


@pytest.mark.parametrize("name", RESNETS)
def test_resnet_twin_predicts_alike(name):
    """Inference mode (moving statistics): torch's logits are deepstep's, so are the classes."""
    model, module, _ = resnet_twin(name)
    x, _ = resnet_batch(model, 11, 7)
    logits = torch_forward(module, x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(logits, model(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(logits), 1).numpy(), model.predict_proba(x),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(logits.argmax(1), model.predict(x))
    assert not module.training


@pytest.mark.parametrize("name", RESNETS)
def test_resnet_twin_training_forward_backward(name):
    """Training mode (batch statistics): equal logits, equal gradients of every weight and of the input,
    and equal running statistics after the step (momentum m in deepstep is 1 - m in torch)."""
    model, module, _ = resnet_twin(name)
    module.train()
    x, y = resnet_batch(model, 12)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(True)
    logits = module(xt)
    torch.nn.functional.cross_entropy(logits, torch.from_numpy(y)).backward()
    model.zero_grad()
    out, cache = model.forward(x, training=True)
    np.testing.assert_allclose(logits.detach().numpy(), out, rtol=1e-10, atol=1e-10)
    _, dout = model.loss(out, model.loss.prepare_targets(y, model.output_shape, model.dtype, "y"))
    dx = model.backward(dout, cache)
    np.testing.assert_allclose(xt.grad.numpy().transpose(0, 2, 3, 1), dx, rtol=1e-9, atol=1e-12)
    grads = {key: p.grad for key, p in module.named_parameters()}
    for _, p in model.named_parameters():  # put the gradients in place of the weights to convert them
        p.value[...] = p.grad if p.trainable else p.value
    converted = to_torch_state_dict(model)
    for key, grad in grads.items():
        np.testing.assert_allclose(grad.numpy(), converted[key].numpy(), rtol=1e-8, atol=1e-12, err_msg=key)
    for key, value in module.state_dict().items():
        if key.endswith(("running_mean", "running_var")):
            np.testing.assert_allclose(value.numpy(), converted[key].numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=key)


@pytest.mark.parametrize("name", RESNETS)
@pytest.mark.parametrize("optimizer,tol", [("sgd", 1e-10), ("adam", 1e-8)])
def test_resnet_twin_trains_alike(name, optimizer, tol):
    """Three training steps on the same batches: the same losses and the same weights and running
    statistics afterwards; the twin's weights, loaded back, give its outputs.

    Adam's tolerance is looser: a convolution's bias before a BatchNormalization has a zero gradient up to
    rounding (about 1e-17 here), which Adam scales up by ``lr / eps`` differently in the two libraries."""
    model, module, opt = resnet_twin(name, lr=0.05 if optimizer == "sgd" else 0.01, optimizer=optimizer)
    module.train()
    for step in range(3):
        x, y = resnet_batch(model, 20 + step)
        loss = model.train_on_batch(x, y)["loss"]
        opt.zero_grad()
        logits = module(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))
        twin_loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        twin_loss.backward()
        opt.step()
        assert twin_loss.item() == pytest.approx(loss, rel=1e-10)
    ours = to_torch_state_dict(model)
    for key, value in module.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            np.testing.assert_allclose(value.numpy(), ours[key].numpy(), rtol=tol, atol=tol, err_msg=key)
    module.eval()
    from_torch_state_dict(model, module.state_dict())
    x, _ = resnet_batch(model, 30)
    np.testing.assert_allclose(model(x), torch_forward(module, x.transpose(0, 3, 1, 2)), rtol=1e-10,
                               atol=1e-10)


def test_state_dict_errors_name_the_key():
    model = get_model("digits_cnn", seed=0)
    state = to_torch_state_dict(model)
    bad = dict(state, **{"dense_1.weight": torch.zeros(3, 3)})
    with pytest.raises(ValueError, match=r"dense_1\.weight.*\(3, 3\)"):
        from_torch_state_dict(model, bad)
    with pytest.raises(ValueError, match="missing keys.*conv2d_1.bias"):
        from_torch_state_dict(model, {k: v for k, v in state.items() if k != "conv2d_1.bias"})
    with pytest.raises(ValueError, match="unexpected keys.*'extra.weight'"):
        from_torch_state_dict(model, dict(state, **{"extra.weight": torch.zeros(1)}))
    with pytest.raises(TypeError, match="mapping"):
        from_torch_state_dict(model, [1, 2])


# ---------------------------------------------------------------------------------------- Keras
def write_keras_file(path, arrays_by_layer):
    """A Keras 3 ``.weights.h5``, written with h5py in Keras' layout: ``layers/<name>/vars/<i>``."""
    with h5py.File(path, "w") as f:
        f.create_group("vars").attrs["name"] = "sequential"
        for name, arrays in arrays_by_layer.items():
            group = f.create_group(f"layers/{name}/vars")
            group.attrs["name"] = name
            for i, value in enumerate(arrays):
                group.create_dataset(str(i), data=value)


def keras_arrays(model, seed):
    """Random arrays for each Keras path of ``model`` (the layout Keras' own layers use)."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer, path in keras_layer_names(model):
        out[path.split("/", 1)[1]] = [rng.uniform(0.5, 1.5, p.shape) if "variance" in p.name
                                      else rng.normal(0, 0.5, p.shape) for p in layer.parameters()]
    return out


def test_keras_names_follow_class_order():
    names = [path for _, path in keras_layer_names(mixed_model("float32"))]
    assert names == ["layers/conv2d", "layers/batch_normalization", "layers/conv2d_1",
                     "layers/average_pooling2d", "layers/leaky_re_lu", "layers/max_pooling2d",
                     "layers/flatten",
                     "layers/batch_normalization_1", "layers/dropout", "layers/tanh", "layers/dense",
                     "layers/dense_1", "layers/softmax"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_keras_weights_file(tmp_path, dtype):
    model = mixed_model(dtype)
    arrays = keras_arrays(model, 4)
    write_keras_file(tmp_path / "m.weights.h5", arrays)
    load_keras_weights(model, tmp_path / "m.weights.h5")
    got = {path.split("/", 1)[1]: [p.value for p in layer.parameters()]
           for layer, path in keras_layer_names(model)}
    for name, values in arrays.items():
        for a, b in zip(values, got[name], strict=True):
            np.testing.assert_allclose(b, a.astype(dtype), err_msg=name)
    save_keras_weights(model, tmp_path / "again.weights.h5")
    other = mixed_model(dtype)
    load_keras_weights(other, tmp_path / "again.weights.h5")
    x = np.random.default_rng(0).random((2, 9, 7, 2)).astype(dtype)
    np.testing.assert_array_equal(other(x), model(x))


def test_keras_file_errors(tmp_path):
    model = get_model("digits_cnn", seed=0)
    arrays = keras_arrays(model, 0)
    with pytest.raises(FileNotFoundError, match="missing.weights.h5"):
        load_keras_weights(model, tmp_path / "missing.weights.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ModelFormatError, match="not an HDF5 file"):
        load_keras_weights(model, tmp_path / "text.h5")
    write_keras_file(tmp_path / "short.weights.h5", {**arrays, "dense": arrays["dense"][:1]})
    with pytest.raises(ModelFormatError, match="layers/dense/vars' holds 1 variables"):
        load_keras_weights(model, tmp_path / "short.weights.h5")
    write_keras_file(tmp_path / "shape.weights.h5", {**arrays, "conv2d_1": [np.zeros((3, 3, 2, 32)),
                                                                           arrays["conv2d_1"][1]]})
    before = [p.value.copy() for p in model.parameters()]
    with pytest.raises(ModelFormatError, match=r"conv2d_1/vars/0' has shape \(3, 3, 2, 32\)"):
        load_keras_weights(model, tmp_path / "shape.weights.h5")
    for a, p in zip(before, model.parameters(), strict=True):  # nothing copied
        np.testing.assert_array_equal(a, p.value)
    write_keras_file(tmp_path / "extra.weights.h5", {**arrays, "dense_7": [np.zeros(2)]})
    with pytest.raises(ModelFormatError, match="dense_7"):
        load_keras_weights(model, tmp_path / "extra.weights.h5")
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.create_dataset("x", data=np.zeros(2))
    with pytest.raises(ModelFormatError, match="no 'layers' group"):
        load_keras_weights(model, tmp_path / "plain.h5")
