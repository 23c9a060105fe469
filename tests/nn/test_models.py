"""The model zoo: architectures, parameter counts, shapes, seeds, dtypes and argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep
from deepstep.models import (
    DEFAULT_LOSS,
    MODEL_NAMES,
    cat_dnn,
    digits_cnn,
    get_model,
    mnist_cnn,
    signs_convnet,
)
from deepstep.nn import Conv2D, Dense, MaxPooling2D


def test_signs_convnet_matches_the_course():
    model = signs_convnet(seed=0)
    conv1, pool1, conv2, pool2, flatten, dense = model.layers
    assert (conv1.filters, conv1.kernel_size, conv1.strides, conv1.padding) == (8, (4, 4), (1, 1), "same")
    assert (pool1.pool_size, pool1.strides, pool1.padding) == ((8, 8), (8, 8), "same")
    assert (conv2.filters, conv2.kernel_size, conv2.strides, conv2.padding) == (16, (2, 2), (1, 1), "same")
    assert (pool2.pool_size, pool2.strides, pool2.padding) == ((4, 4), (4, 4), "same")
    assert conv1.activation_name == conv2.activation_name == "relu" and dense.activation is None
    assert [layer.output_shape for layer in model.layers] == [
        (64, 64, 8), (8, 8, 8), (8, 8, 16), (2, 2, 16), (64,), (6,)]
    assert conv1.count_params() == 4 * 4 * 3 * 8 + 8 == 392
    assert conv2.count_params() == 2 * 2 * 8 * 16 + 16 == 528
    assert dense.count_params() == 2 * 2 * 16 * 6 + 6 == 390
    text = model.summary()
    for row in ("conv2d_1 (Conv2D)", "(None, 64, 64, 8)", "392", "528", "390", "Total params: 1,310"):
        assert row in text


def test_mnist_and_digits_architectures():
    mnist = mnist_cnn(seed=0)
    assert mnist.input_shape == (28, 28, 1) and mnist.output_shape == (10,)
    assert [layer.count_params() for layer in mnist.layers] == [208, 0, 3216, 0, 0, 7850]
    digits = digits_cnn(seed=0)
    assert digits.input_shape == (8, 8, 1) and digits.output_shape == (10,)
    assert digits.count_params() == 160 + 4640 + 1290


def test_cat_dnn_layers_and_initialization():
    model = cat_dnn(seed=1, dtype="float64")
    assert [type(layer) for layer in model.layers] == [Dense] * 4
    assert [layer.units for layer in model.layers] == [20, 7, 5, 1]
    assert [layer.activation_name for layer in model.layers] == ["relu", "relu", "relu", None]
    kernel = model.layers[0].kernel.value
    assert kernel.shape == (12288, 20)
    assert kernel.std() == pytest.approx(1 / np.sqrt(12288), rel=0.05)  # randn / sqrt(n_prev)
    assert np.all(model.layers[0].bias.value == 0)
    small = cat_dnn((4, 3, 1))
    assert small.input_shape == (4,) and small.count_params() == 4 * 3 + 3 + 3 + 1


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_builds_runs_and_round_trips(name, tmp_path):
    model = get_model(name, seed=3, dtype="float64")
    assert model.dtype == np.float64 and model.built and name in DEFAULT_LOSS
    x = np.random.default_rng(0).random((2, *model.input_shape))
    out = model(x)
    assert out.shape == (2, *model.output_shape) and out.dtype == np.float64
    same = get_model(name, seed=3, dtype="float64")
    for a, b in zip(model.get_weights(), same.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    model.compile("adam", DEFAULT_LOSS[name])
    model.save(tmp_path / f"{name}.npz")
    np.testing.assert_array_equal(deepstep.load(tmp_path / f"{name}.npz")(x), out)
    assert all(p.value.dtype == np.float32 for p in get_model(name, dtype="float32").parameters())


def test_zoo_argument_errors():
    with pytest.raises(ValueError, match="name must be one of 'signs_convnet', 'cat_dnn'"):
        get_model("resnet50")
    with pytest.raises(TypeError, match=r"get_model\('mnist_cnn'\): .*unexpected keyword argument 'units'"):
        get_model("mnist_cnn", units=3)
    with pytest.raises(ValueError, match="layers_dims must be a sequence of >= 2 layer sizes"):
        cat_dnn((5,))
    with pytest.raises(ValueError, match=r"layers_dims\[-1\] must be 1"):
        cat_dnn((5, 3, 2))
    with pytest.raises(ValueError, match=r"layers_dims\[1\] must be >= 1"):
        cat_dnn((5, 0, 1))
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64'"):
        mnist_cnn(dtype="int8")
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        signs_convnet(num_classes=1)


def test_conv_and_pool_layers_are_the_zoo_building_blocks():
    model = digits_cnn()
    assert [type(layer) for layer in model.layers[:4]] == [Conv2D, MaxPooling2D, Conv2D, MaxPooling2D]
