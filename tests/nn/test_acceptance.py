"""Acceptance: the framework trains the zoo models on the real datasets in ../shared/data.

- cat_dnn from the application notebook's initial weights, batch gradient descent, reproduces the
  notebook's published numbers (cost 0.771749 at iteration 0, train accuracy 0.9856, test 0.8);
- mnist_cnn (float32) trained on the first 8,000 MNIST test-set images reaches >= 97% on the last 2,000;
- signs_convnet fits 100 SIGNS images (>= 95% accuracy on them);
- bad input on real data gets clear errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepstep.course.app import initialize_parameters_deep_app
from deepstep.data import load_h5, load_idx
from deepstep.models import cat_dnn, mnist_cnn, signs_convnet
from deepstep.nn import Conv2D, Dense, MaxPooling2D
from deepstep.optim import SGD, Adam

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Train with one BLAS thread: these products are too small for two threads to pay off on a
    loaded 2-core machine (OpenBLAS' spinning threads made them several times slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the test extra
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def read_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    x, y, _ = load_h5(path)
    return x, y


@pytest.fixture(scope="module")
def mnist(data_dir):
    x, y = load_idx(data_dir / "t10k-images-idx3-ubyte.gz", data_dir / "t10k-labels-idx1-ubyte.gz")
    x = x[..., None]
    assert x.shape == (10000, 28, 28, 1) and y.shape == (10000,)
    return (x / np.float32(255)).astype(np.float32), y


@pytest.fixture(scope="module")
def signs(data_dir):
    x, y = read_h5(data_dir / "test_signs.h5")
    return (x / np.float32(255)).astype(np.float32), y


def notebook_initial_weights(layers_dims) -> list[np.ndarray]:
    """The application notebook's initialization (deepstep.course.app, np.random.seed(1),
    ``W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1})``, ``b_l = 0``) as Dense kernels ``(n_{l-1}, n_l)``."""
    parameters = initialize_parameters_deep_app(list(layers_dims))  # seeds the global generator itself
    weights = []
    for layer in range(1, len(layers_dims)):
        weights += [parameters[f"W{layer}"].T, parameters[f"b{layer}"].reshape(-1)]
    return weights


def test_cat_dnn_reproduces_the_application_notebook(data_dir):
    x_train, y_train = read_h5(data_dir / "train_catvnoncat.h5")
    x_test, y_test = read_h5(data_dir / "test_catvnoncat.h5")
    x_train = x_train.reshape(len(x_train), -1) / 255.0
    x_test = x_test.reshape(len(x_test), -1) / 255.0
    dims = (12288, 20, 7, 5, 1)
    model = cat_dnn(dims, dtype="float64")
    model.set_weights(notebook_initial_weights(dims))
    model.compile(SGD(learning_rate=0.0075), "binary_crossentropy")
    # the notebook's "Cost after iteration 0: 0.771749"
    assert model.evaluate(x_train, y_train)["loss"] == pytest.approx(0.771749, abs=5e-7)
    history = model.fit(x_train, y_train, epochs=2500, batch_size=len(x_train), shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(0.771749, abs=5e-7)
    assert model.evaluate(x_train, y_train)["accuracy"] == pytest.approx(0.985645933014)  # published
    test_accuracy = model.evaluate(x_test, y_test)["accuracy"]
    assert test_accuracy >= 0.80  # published: 0.8
    np.testing.assert_array_equal(model.predict(x_test), (model.predict_proba(x_test)[:, 0] > 0.5))


def test_mnist_cnn_reaches_97_percent(mnist, tmp_path):
    x, y = mnist
    model = mnist_cnn(dtype="float32", seed=0)
    model.compile(Adam(learning_rate=0.002), "sparse_categorical_crossentropy")
    history = model.fit(x[:8000], y[:8000], epochs=5, batch_size=64, seed=0, verbose=0,
                        validation_data=(x[8000:], y[8000:]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x[8000:], y[8000:])
    assert result["accuracy"] >= 0.97
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    assert model.layers[0].kernel.value.dtype == np.float32
    model.class_names = [str(d) for d in range(10)]
    model.save(tmp_path / "mnist.npz")
    import deepstep

    loaded = deepstep.load(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(loaded.predict(x[8000:]), model.predict(x[8000:]))


def test_signs_convnet_fits_100_signs(signs):
    x, y = signs
    x, y = x[:100], y[:100]
    model = signs_convnet(dtype="float32", seed=0)
    model.compile(Adam(learning_rate=0.005), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=100, batch_size=10, seed=0, verbose=0)
    assert model.evaluate(x, y)["accuracy"] >= 0.95


def test_bad_input_on_real_data(mnist, signs):
    x_mnist, y_mnist = mnist
    x_signs, y_signs = signs
    model = signs_convnet(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x has the wrong shape for model 'signs_convnet': expected "
                                         r"\(N, 64, 64, 3\), got \(10, 28, 28, 1\)"):
        model.fit(x_mnist[:10], y_mnist[:10], verbose=0)
    with pytest.raises(ValueError, match=r"y holds labels out of range: expected 0 <= label < 6 .* max 9"):
        model.fit(x_signs[:20], y_mnist[:20], verbose=0)
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 20 and 19"):
        model.fit(x_signs[:20], y_signs[:19], verbose=0)
    with pytest.raises(ValueError, match="x has the wrong shape"):
        mnist_cnn().predict(x_signs[:2])
    with pytest.raises(ValueError, match="filters must be >= 1, got 0"):
        Conv2D(0, 4)
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'; got 'full'"):
        MaxPooling2D(2, padding="full")
    with pytest.raises(ValueError, match="activation must be None or one of"):
        Dense(6, activation="relux")
