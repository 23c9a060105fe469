"""Layers: float64 gradient checks (input and parameters), shapes, configs, validation errors."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from deepstep.nn.layers import LAYER_CLASSES

TOL = 1e-6



def away_from_zero(x: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Move values off the kinks of ReLU-like functions (|x| >= margin)."""
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values far apart (no ties inside a max-pooling window)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n * 4.0 - 2.0).astype(np.float64)


def gradcheck_layer(layer: Layer, x: np.ndarray, rng: np.random.Generator, training: bool = False,
                    before_forward=None) -> None:
    """Analytic input and trainable-parameter gradients match centred differences (float64)."""

    def f():
        if before_forward is not None:
            before_forward()
        return layer.forward(x, training)[0]

    if before_forward is not None:
        before_forward()
    out, cache = layer.forward(x, training)
    dout = rng.standard_normal(out.shape)
    layer.zero_grad()
    dx = layer.backward(dout, cache)
    params = layer.trainable_parameters()
    analytic = [dx] + [p.grad.copy() for p in params]
    numeric = numerical_gradients(f, [x] + [p.value for p in params], dout)
    names = ["x"] + [p.name for p in params]
    for name, a, n in zip(names, analytic, numeric, strict=True):
        assert a.shape == n.shape, name
        assert rel_error(a, n) < TOL, (name, rel_error(a, n))


def build(layer: Layer, input_shape, seed: int = 0) -> Layer:
    layer.build(input_shape, rng=np.random.default_rng(seed), dtype="float64")
    return layer


# --------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("kernel_size,strides,padding", [(3, 1, "same"), ((2, 3), (2, 1), "valid"),
                                                         (4, 2, "same")])
def test_conv2d_gradcheck(rng, data_format, kernel_size, strides, padding):
    shape = (6, 7, 3) if data_format == "channels_last" else (3, 6, 7)
    layer = build(Conv2D(4, kernel_size, strides, padding, data_format=data_format,
                         bias_initializer="glorot_uniform"), shape)
    gradcheck_layer(layer, rng.standard_normal((2, *shape)), rng)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_without_bias_and_with_activation_gradcheck(rng, data_format):
    shape = (5, 5, 2) if data_format == "channels_last" else (2, 5, 5)
    layer = build(Conv2D(3, 3, padding="same", activation="tanh", use_bias=False, data_format=data_format),
                  shape)
    assert [p.name for p in layer.parameters()] == ["kernel"]
    gradcheck_layer(layer, rng.standard_normal((2, *shape)), rng)


def test_conv2d_channels_first_matches_channels_last(rng):
    last = build(Conv2D(5, 3, 2, "same"), (7, 8, 3), seed=1)
    first = build(Conv2D(5, 3, 2, "same", data_format="channels_first"), (3, 7, 8), seed=1)
    assert first.kernel.shape == last.kernel.shape == (3, 3, 3, 5)  # Keras layout for both
    first.bias.value[...] = last.bias.value = rng.standard_normal(5)
    x = rng.standard_normal((2, 7, 8, 3))
    out_last = last(x)
    out_first = first(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out_first, out_last.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)


def test_conv2d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = build(Conv2D(4, (3, 2), (2, 1), "valid", bias_initializer="glorot_uniform"), (9, 8, 3))
    x = rng.standard_normal((2, 9, 8, 3))
    want = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2)),
                                      torch.from_numpy(layer.kernel.value.transpose(3, 2, 0, 1).copy()),
                                      torch.from_numpy(layer.bias.value), stride=(2, 1)).numpy()
    np.testing.assert_allclose(layer(x), want.transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("pool_size,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                       ((2, 3), 1, "valid")])
def test_pooling_gradcheck(rng, cls, data_format, pool_size, strides, padding):
    shape = (5, 6, 2) if data_format == "channels_last" else (2, 5, 6)
    layer = build(cls(pool_size, strides, padding, data_format=data_format), shape)
    gradcheck_layer(layer, distinct(rng, (2, *shape)), rng)


def test_pooling_output_shapes():
    assert build(MaxPooling2D(8, 8, "same"), (64, 64, 8)).output_shape == (8, 8, 8)
    assert build(MaxPooling2D(4, 4, "same"), (8, 8, 16)).output_shape == (2, 2, 16)
    assert build(AveragePooling2D(2), (5, 5, 3)).output_shape == (2, 2, 3)
    assert build(MaxPooling2D(2, data_format="channels_first"), (3, 6, 4)).output_shape == (3, 3, 2)


@pytest.mark.parametrize("activation", [None, "sigmoid", "tanh", "softmax"])
def test_dense_gradcheck(rng, activation):
    layer = build(Dense(4, activation=activation, bias_initializer="glorot_uniform"), (6,))
    gradcheck_layer(layer, rng.standard_normal((3, 6)), rng)


def test_dense_relu_gradcheck(rng):
    layer = build(Dense(4, activation="relu", bias_initializer="glorot_uniform"), (6,))
    x = rng.standard_normal((3, 6))
    pre = x @ layer.kernel.value + layer.bias.value
    layer.bias.value += np.where(np.abs(pre) < 0.05, 0.2, 0.0).max(axis=0)  # keep away from the kink
    gradcheck_layer(layer, x, rng)


@pytest.mark.parametrize("make", [ReLU, lambda: LeakyReLU(0.2), Sigmoid, Tanh, Softmax,
                                  lambda: Softmax(axis=1)])
def test_activation_layers_gradcheck(rng, make):
    layer = build(make(), (3, 4))
    gradcheck_layer(layer, away_from_zero(rng.standard_normal((2, 3, 4))), rng)


def test_flatten_gradcheck_and_shape(rng):
    layer = build(Flatten(), (2, 3, 4))
    assert layer.output_shape == (24,)
    x = rng.standard_normal((2, 2, 3, 4))
    np.testing.assert_array_equal(layer(x), x.reshape(2, 24))
    gradcheck_layer(layer, x, rng)


def test_dropout_training_and_inference(rng):
    layer = build(Dropout(0.25), (1000,))
    x = np.ones((4, 1000))
    np.testing.assert_array_equal(layer(x, training=False), x)
    layer.rng = np.random.default_rng(3)
    out, cache = layer.forward(x, training=True)
    kept = out != 0
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}
    assert 0.70 < kept.mean() < 0.80
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(layer.backward(dout, cache), dout * (kept * (1 / 0.75)))
    # rate 0: identity even in training
    zero = build(Dropout(0.0), (5,))
    np.testing.assert_array_equal(zero(x[:, :5], training=True), x[:, :5])


def test_dropout_gradcheck(rng):
    layer = build(Dropout(0.5), (3, 4))

    def reseed():
        layer.rng = np.random.default_rng(7)

    gradcheck_layer(layer, rng.standard_normal((2, 3, 4)), rng, training=True, before_forward=reseed)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((4, 3, 2), -1), ((2, 4, 3), 1), ((3, 4, 2), 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(rng, shape, axis, training):
    layer = build(BatchNormalization(axis=axis), shape)
    c = shape[axis % (len(shape) + 1) - 1]
    layer.gamma.value[...] = rng.standard_normal(c)
    layer.beta.value[...] = rng.standard_normal(c)
    layer.moving_mean.value[...] = rng.standard_normal(c)
    layer.moving_variance.value[...] = rng.random(c) + 0.5
    gradcheck_layer(layer, rng.standard_normal((4, *shape)) * 2 + 1, rng, training=training)


def test_batchnorm_statistics_and_running_update(rng):
    layer = build(BatchNormalization(momentum=0.9, epsilon=1e-3), (3, 3, 2))
    x = rng.standard_normal((5, 3, 3, 2)) * 3 + 2
    out = layer(x, training=True)
    # training: per-channel zero mean, unit variance (up to epsilon)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    var = x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), var / (var + 1e-3))
    m = 5 * 3 * 3
    np.testing.assert_allclose(layer.moving_mean.value, 0.1 * x.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(layer.moving_variance.value, 0.9 + 0.1 * x.var(axis=(0, 1, 2)) * m / (m - 1))
    # inference: the running statistics
    want = (x - layer.moving_mean.value) / np.sqrt(layer.moving_variance.value + 1e-3)
    np.testing.assert_allclose(layer(x, training=False), want, rtol=1e-12)
    assert [(p.name, p.trainable) for p in layer.parameters()] == [
        ("gamma", True), ("beta", True), ("moving_mean", False), ("moving_variance", False)]


def test_batchnorm_channels_first_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = build(BatchNormalization(momentum=0.9, epsilon=1e-3, axis=1), (3, 4, 5))
    x = rng.standard_normal((6, 3, 4, 5))
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    want = torch.nn.functional.batch_norm(torch.from_numpy(x), rm, rv, training=True, momentum=0.1, eps=1e-3)
    np.testing.assert_allclose(layer(x, training=True), want.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.moving_mean.value, rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.value, rv.numpy(), rtol=1e-12)


def test_float32_layers_keep_dtype(rng):
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    layers = (Conv2D(2, 3), MaxPooling2D(2), AveragePooling2D(2), BatchNormalization(), ReLU(), Flatten())
    for layer in layers:
        layer.build((6, 6, 3), rng=np.random.default_rng(0), dtype="float32")
        out, cache = layer.forward(x, training=True)
        assert out.dtype == np.float32
        assert layer.backward(np.ones_like(out), cache).dtype == np.float32
        assert all(p.value.dtype == np.float32 for p in layer.parameters())


# --------------------------------------------------------------------------- building
def test_initializers_get_fan_in_and_fan_out_from_the_input_shape():
    seen = []

    def recorder(shape, fan_in, fan_out, rng, dtype):
        seen.append((tuple(shape), fan_in, fan_out))
        return np.zeros(shape, dtype)

    build(Conv2D(8, (4, 3), kernel_initializer=recorder, bias_initializer=recorder), (10, 10, 5))
    build(Conv2D(8, 2, kernel_initializer=recorder, data_format="channels_first"), (5, 10, 10))
    build(Dense(7, kernel_initializer=recorder), (12,))
    assert seen == [((4, 3, 5, 8), 60, 96), ((8,), 60, 96), ((2, 2, 5, 8), 20, 32), ((12, 7), 12, 7)]


def test_layers_build_themselves_from_the_first_input(rng):
    layer = Dense(3)
    out = layer(rng.standard_normal((2, 5)))
    assert layer.built and layer.input_shape == (5,) and layer.kernel.shape == (5, 3) and out.shape == (2, 3)
    assert out.dtype == np.float64 and layer.kernel.value.dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda: Conv2D(4, (3, 2), strides=2, padding="same", activation="relu", use_bias=False,
                   kernel_initializer="he_normal", data_format="channels_first", name="c"),
    lambda: MaxPooling2D(3, 2, "same"), lambda: AveragePooling2D((2, 3)), Flatten,
    lambda: Dense(5, activation="sigmoid"), lambda: Dropout(0.3), ReLU, lambda: LeakyReLU(0.1), Sigmoid, Tanh,
    lambda: Softmax(axis=1), lambda: BatchNormalization(0.9, 1e-5, 1),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = LAYER_CLASSES[type(layer).__name__].from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    import json

    assert json.loads(json.dumps(config)) == config


def test_zero_grad_and_parameters(rng):
    layer = build(Conv2D(2, 3), (5, 5, 1))
    out, cache = layer.forward(rng.standard_normal((1, 5, 5, 1)))
    layer.backward(np.ones_like(out), cache)
    assert np.any(layer.kernel.grad != 0)
    layer.zero_grad()
    assert all(np.all(p.grad == 0) for p in layer.parameters())
    assert layer.count_params() == 3 * 3 * 1 * 2 + 2


# --------------------------------------------------------------------------- validation errors
@pytest.mark.parametrize("make,exc,match", [
    (lambda: Conv2D(0, 3), ValueError, "filters must be >= 1"),
    (lambda: Conv2D(2.5, 3), TypeError, "filters must be an integer"),
    (lambda: Conv2D(4, 0), ValueError, "kernel_size must be >= 1"),
    (lambda: Conv2D(4, (3, 3, 3)), ValueError, "kernel_size must be an int or a pair"),
    (lambda: Conv2D(4, 3, strides=0), ValueError, "strides must be >= 1"),
    (lambda: Conv2D(4, 3, padding="full"), ValueError, "padding must be one of 'valid', 'same'; got 'full'"),
    (lambda: Conv2D(4, 3, padding=1), ValueError, "padding must be 'valid' or 'same'"),
    (lambda: Conv2D(4, 3, activation="swish"), ValueError, "activation must be None or one of"),
    (lambda: Conv2D(4, 3, data_format="NHWC"), ValueError, "data_format must be one of"),
    (lambda: Conv2D(4, 3, use_bias=1), TypeError, "use_bias must be a bool"),
    (lambda: Conv2D(4, 3, kernel_initializer="nope"), ValueError, "kernel_initializer"),
    (lambda: Dense(0), ValueError, "units must be >= 1"),
    (lambda: Dense(3, activation="gelu"), ValueError, "activation must be None or one of"),
    (lambda: Dense(3, bias_initializer="nope"), ValueError, "bias_initializer"),
    (lambda: MaxPooling2D(0), ValueError, "pool_size must be >= 1"),
    (lambda: MaxPooling2D(2, strides=0), ValueError, "strides must be >= 1"),
    (lambda: AveragePooling2D(2, padding="full"), ValueError, "padding must be one of"),
    (lambda: Dropout(1.0), ValueError, "rate must be < 1.0"),
    (lambda: Dropout(-0.1), ValueError, "rate must be >= 0.0"),
    (lambda: LeakyReLU(-1), ValueError, "alpha must be >= 0.0"),
    (lambda: BatchNormalization(momentum=1.0), ValueError, "momentum must be < 1.0"),
    (lambda: BatchNormalization(epsilon=0), ValueError, "epsilon must be > 0.0"),
    (lambda: BatchNormalization(axis=0), ValueError, "not the batch axis"),
    (lambda: Dense(3, name="a/b"), ValueError, "name must be a non-empty string without '/'"),
])
def test_invalid_layer_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("make,shape,match", [
    (lambda: Conv2D(2, 3, name="c1"), (10,), r"layer 'c1' \(Conv2D\) expects 4-D input"),
    (lambda: Conv2D(2, 5, name="c2"), (3, 3, 1),
     r"layer 'c2' \(Conv2D.*does not fit input_shape \(3, 3, 1\)"),
    (lambda: MaxPooling2D(4, name="p"), (3, 3, 1), r"layer 'p' \(MaxPooling2D.*does not fit"),
    (lambda: MaxPooling2D(2, name="p2"), (4, 4), r"layer 'p2' \(MaxPooling2D\) expects 4-D input"),
    (lambda: Dense(3, name="d"), (4, 4, 1), r"layer 'd' \(Dense\) expects 2-D input.*add a Flatten"),
    (lambda: BatchNormalization(axis=3, name="bn"), (4,), r"layer 'bn' \(BatchNormalization\) axis=3"),
])
def test_layers_that_do_not_fit_the_input_shape(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make().build(shape)


def test_bad_input_shapes(rng):
    with pytest.raises(ValueError, match="input_shape must hold positive ints"):
        Dense(2).build((0,))
    with pytest.raises(TypeError, match="input_shape must be a non-empty tuple"):
        Dense(2).build(())
    layer = build(Conv2D(2, 3, name="conv"), (6, 6, 3))
    with pytest.raises(ValueError, match=r"layer 'conv' \(Conv2D\) expects input of shape "
                                         r"\(batch, 6, 6, 3\), got \(2, 6, 6, 4\)"):
        layer.forward(rng.standard_normal((2, 6, 6, 4)))
    with pytest.raises(TypeError, match="layer 'conv' .* expects float64 input, got float32"):
        layer.forward(rng.standard_normal((2, 6, 6, 3)).astype(np.float32))
    with pytest.raises(TypeError, match="input must be a numpy.ndarray"):
        layer.forward([[1.0]])
    with pytest.raises(TypeError, match="cache must be the second value returned by its forward"):
        layer.backward(np.zeros((2, 4, 4, 2)), None)
    out, cache = layer.forward(rng.standard_normal((2, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 4, 4, 2\)"):
        layer.backward(np.zeros((2, 4, 4, 3)), cache)
    assert layer.backward(np.ones_like(out), cache).shape == (2, 6, 6, 3)
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64'"):
        Dense(2).build((3,), dtype="int32")


@pytest.mark.parametrize("make", [lambda: Conv2D(3, 2, activation="relu"),
                                  lambda: Dense(3, activation="relu")])
def test_fused_relu_overwrites_only_the_layers_own_output(rng, make):
    shape = (5, 5, 2) if isinstance(make(), Conv2D) else (4,)
    fused = build(make(), shape)
    plain = build(make(), shape)
    plain.activation = None
    assert fused.activation.overwrite_input and not ReLU().overwrite_input
    x = rng.standard_normal((2, *shape))
    x_before = x.copy()
    np.testing.assert_array_equal(fused(x), np.maximum(plain(x), 0))
    np.testing.assert_array_equal(x, x_before)
    standalone = build(ReLU(), shape)
    standalone.forward(x)
    np.testing.assert_array_equal(x, x_before)  # a ReLU layer of its own never writes into its input


def test_fused_relu_reuses_its_gradient_buffer_with_unchanged_results(rng):
    fused = build(Dense(3, activation="relu", bias_initializer="glorot_uniform"), (4,))
    x = rng.standard_normal((2, 4))
    dout = rng.standard_normal((2, 3))
    grads = []
    for _ in range(2):
        fused.zero_grad()
        out, cache = fused.forward(x)
        dx = fused.backward(dout, cache)
        grads.append((out.copy(), dx.copy(), fused.kernel.grad.copy(), fused.bias.grad.copy()))
    buffer = fused.activation._grad_buffer
    assert buffer is not None and buffer.shape == dout.shape
    for first, second in zip(*grads, strict=True):
        np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(buffer, dout * (grads[0][0] > 0))
    _, cache = fused.forward(x[:1])
    fused.backward(dout[:1], cache)  # another batch size: a new buffer
    assert fused.activation._grad_buffer.shape == (1, 3)
    # Conv2D fuses its ReLU into the kernel instead (F.conv2d(..., activation="relu")): no buffer
    conv = build(Conv2D(3, 2, activation="relu"), (5, 5, 2))
    _, cache = conv.forward(rng.standard_normal((2, 5, 5, 2)))
    conv.backward(rng.standard_normal((2, 4, 4, 3)), cache)
    assert conv.activation._grad_buffer is None


def test_float32_batch_norm_statistics_and_sums_are_accumulated_in_float64():
    """A 32x64x64x8 float32 batch with an offset: the batch mean/variance, the output and dgamma/dbeta match
    the float64 computation to float32 rounding (summing N*H*W = 131072 values in float32 left ~1e-5)."""
    from deepstep.nn.functional import batch_norm, batch_norm_backward

    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((32, 64, 64, 8)) * 3 + 5
    dout64 = rng.standard_normal(x64.shape) + 1
    gamma, beta = np.linspace(0.5, 2, 8), np.linspace(-1, 1, 8)
    want, want_cache = batch_norm(x64, gamma, beta)
    want_grads = batch_norm_backward(dout64, want_cache)
    got, cache = batch_norm(x64.astype(np.float32), gamma.astype(np.float32), beta.astype(np.float32))
    grads = batch_norm_backward(dout64.astype(np.float32), cache)
    for key in ("batch_mean", "batch_var"):
        np.testing.assert_allclose(cache[key], want_cache[key], rtol=3e-7, err_msg=key)
    np.testing.assert_allclose(got, want, atol=3e-6)
    for name, g, w in zip(("dx", "dgamma", "dbeta"), grads, want_grads, strict=True):
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=2e-5 if name == "dx" else 1e-2, err_msg=name)
