"""deepstep.course.app: the cat classifier reproduces the notebook's published numbers."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from deepstep.course import app, dnn
from deepstep.data import DataFormatError


@pytest.fixture
def one_blas_thread():
    """Run the two real trainings with one BLAS thread.

    Their products (20 x 12288 by 12288 x 209) are too small for two threads to pay off, and
    on a loaded 2-core machine OpenBLAS' waiting threads made the pair about 5x slower
    (260 s instead of 52 s measured with the machine shared by other jobs). threadpoolctl
    comes with scikit-learn (the ``data`` extra); without it the tests run unchanged.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def cat_data(data_dir):
    train_x_orig, train_y, test_x_orig, test_y, classes = app.load_data(
        data_dir / "train_catvnoncat.h5", data_dir / "test_catvnoncat.h5")
    train_x = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255
    test_x = test_x_orig.reshape(test_x_orig.shape[0], -1).T / 255
    return train_x, train_y, test_x, test_y, classes


def _toy_problem(rng, n_x=6, m=30):
    X = rng.standard_normal((n_x, m))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(np.int64)
    return X, Y


def _accuracy(X, Y, parameters):
    return float(np.mean(dnn.predict(X, Y, parameters) == Y))


# ----------------------------------------------------------------------------- data
def test_load_data_shapes(data_dir):
    train_x_orig, train_y, test_x_orig, test_y, classes = app.load_data(
        data_dir / "train_catvnoncat.h5", str(data_dir / "test_catvnoncat.h5"))
    assert train_x_orig.shape == (209, 64, 64, 3) and train_x_orig.dtype == np.uint8
    assert test_x_orig.shape == (50, 64, 64, 3)
    assert train_y.shape == (1, 209) and test_y.shape == (1, 50)
    assert set(np.unique(train_y)) == {0, 1}
    assert list(classes) == [b"non-cat", b"cat"]


def test_load_data_errors(tmp_path, data_dir, monkeypatch):
    missing = tmp_path / "nope.h5"
    with pytest.raises(FileNotFoundError, match="dataset file not found: .*nope.h5"):
        app.load_data(missing, data_dir / "test_catvnoncat.h5")
    h5py = pytest.importorskip("h5py")
    partial = tmp_path / "partial.h5"
    with h5py.File(partial, "w") as f:
        f["test_set_x"] = np.zeros((2, 4, 4, 3), dtype=np.uint8)
        f["test_set_y"] = np.zeros(2, dtype=np.int64)
    with pytest.raises(DataFormatError, match="partial.h5 has no dataset 'list_classes'"):
        app.load_data(data_dir / "train_catvnoncat.h5", partial)
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("hello")
    with pytest.raises(DataFormatError, match="cannot read .*text.h5 as an HDF5 file"):
        app.load_data(not_h5, partial)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install 'deepstep\[data\]'"):
        app.load_data(data_dir / "train_catvnoncat.h5", data_dir / "test_catvnoncat.h5")


# ----------------------------------------------------------------------------- published numbers (real data)
def test_two_layer_model_reproduces_the_notebook(cat_data, capsys, one_blas_thread):
    train_x, train_y, test_x, test_y, _ = cat_data
    parameters, costs = app.two_layer_model(train_x, train_y, (12288, 7, 1), num_iterations=2500,
                                            print_cost=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Cost after iteration 0: 0.69304973565998")
    assert out[1].startswith("Cost after iteration 100: 0.64643209534288")
    assert costs[0] == pytest.approx(0.6930497356599888, abs=1e-8)
    assert costs[1] == pytest.approx(0.6464320953428849, abs=1e-8)
    # The notebook keeps iterations 0, 100, ..., 2400 (25 costs, 0-d arrays) and prints the last one too.
    assert len(costs) == 25 and all(isinstance(c, np.ndarray) and c.ndim == 0 for c in costs)
    assert out[-1].startswith("Cost after iteration 2499: ")
    assert _accuracy(train_x, train_y, parameters) == 1.0
    assert _accuracy(test_x, test_y, parameters) == 0.72


def test_L_layer_model_reproduces_the_notebook(cat_data, capsys, one_blas_thread):
    train_x, train_y, test_x, test_y, _ = cat_data
    parameters, costs = app.L_layer_model(train_x, train_y, [12288, 20, 7, 5, 1], num_iterations=2500,
                                          print_cost=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Cost after iteration 0: 0.77174932842376")
    assert costs[0] == pytest.approx(0.7717493284237686, abs=1e-8)
    assert costs[1] == pytest.approx(0.6720534400822914, abs=1e-8)
    assert len(costs) == 25
    assert _accuracy(train_x, train_y, parameters) == pytest.approx(0.985645933014, abs=1e-12)
    assert _accuracy(test_x, test_y, parameters) == 0.8


# ----------------------------------------------------------------------------- behaviour on a toy problem
def test_two_layer_model_equals_the_public_step_functions(rng):
    """The training loop (which skips the unused dA0) matches the public API step by step, bitwise."""
    X, Y = _toy_problem(rng)
    parameters, costs = app.two_layer_model(X, Y, (6, 4, 1), learning_rate=0.1, num_iterations=120)
    ref = dnn.initialize_parameters(6, 4, 1)
    ref_costs = []
    for i in range(120):
        AL, caches = dnn.L_model_forward(X, ref)
        if i % 100 == 0:
            ref_costs.append(dnn.compute_cost(AL, Y))
        ref = dnn.update_parameters(ref, dnn.L_model_backward(AL, Y, caches), 0.1)
    assert costs == ref_costs
    for key in ref:
        np.testing.assert_array_equal(parameters[key], ref[key])


def test_L_layer_model_equals_the_public_step_functions(rng):
    X, Y = _toy_problem(rng)
    parameters, costs = app.L_layer_model(X, Y, [6, 5, 3, 1], learning_rate=0.05, num_iterations=101)
    ref = app.initialize_parameters_deep_app([6, 5, 3, 1])
    ref_costs = []
    for i in range(101):
        AL, caches = dnn.L_model_forward(X, ref)
        if i in (0, 100):
            ref_costs.append(dnn.compute_cost(AL, Y))
        ref = dnn.update_parameters(ref, dnn.L_model_backward(AL, Y, caches), 0.05)
    assert costs == ref_costs
    for key in ref:
        np.testing.assert_array_equal(parameters[key], ref[key])
    assert costs[-1] < costs[0]


def test_costs_are_recorded_every_100_iterations_as_the_notebook(rng, capsys):
    """Kept at i % 100 == 0 only (the notebook's ``i == num_iterations`` is never true); printed
    there and at the last iteration, and only with print_cost (the notebook's precedence slip
    prints the last one even without it)."""
    X, Y = _toy_problem(rng)
    _, costs = app.L_layer_model(X, Y, [6, 3, 1], num_iterations=250, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 100, 200, 249)]
    assert [float(line.split(": ")[1]) for line in lines[:3]] == [float(c) for c in costs]
    assert len(costs) == 3 and all(isinstance(c, np.ndarray) and c.shape == () for c in costs)
    _, costs = app.two_layer_model(X, Y, (6, 3, 1), num_iterations=1)
    assert len(costs) == 1 and capsys.readouterr().out == ""
    _, costs = app.two_layer_model(X, Y, (6, 3, 1), num_iterations=250)
    assert len(costs) == 3 and capsys.readouterr().out == ""


def test_initialize_parameters_deep_app_draws_randn_over_sqrt_fan_in():
    p = app.initialize_parameters_deep_app([4, 3, 2])
    np.random.seed(1)  # noqa: NPY002 - the notebook's draws, in its order
    W1 = np.random.randn(3, 4) / np.sqrt(4)  # noqa: NPY002
    W2 = np.random.randn(2, 3) / np.sqrt(3)  # noqa: NPY002
    assert list(p) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_array_equal(p["W1"], W1)
    np.testing.assert_array_equal(p["W2"], W2)
    np.testing.assert_array_equal(p["b1"], np.zeros((3, 1)))
    np.testing.assert_array_equal(p["b2"], np.zeros((2, 1)))


# ----------------------------------------------------------------------------- errors
def test_training_errors(rng):
    X, Y = _toy_problem(rng)
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 30\)"):
        app.two_layer_model(X, Y[:, :10], (6, 3, 1))
    with pytest.raises(ValueError, match=r"X must be a 2-D array \(n_x, m\)"):
        app.L_layer_model(X[0], Y, [6, 3, 1])
    with pytest.raises(ValueError, match=r"layers_dims must be \(n_x, n_h, n_y\), got 4 entries"):
        app.two_layer_model(X, Y, (6, 3, 2, 1))
    with pytest.raises(ValueError, match=r"layers_dims\[0\] must equal X.shape\[0\] = 6, got 5"):
        app.two_layer_model(X, Y, (5, 3, 1))
    with pytest.raises(ValueError, match=r"layers_dims\[2\] must be 1 \(one sigmoid output\), got 2"):
        app.two_layer_model(X, Y, (6, 3, 2))
    with pytest.raises(ValueError, match=r"layers_dims\[0\] must equal X.shape\[0\] = 6, got 7"):
        app.L_layer_model(X, Y, [7, 3, 1])
    with pytest.raises(ValueError, match=r"layers_dims\[-1\] must be 1 \(one sigmoid output\), got 3"):
        app.L_layer_model(X, Y, [6, 3])
    with pytest.raises(ValueError, match="layers_dims must have at least 2 entries"):
        app.L_layer_model(X, Y, [6])
    with pytest.raises(ValueError, match=r"Y must be finite, got a value nan"):
        app.L_layer_model(X, np.full(Y.shape, np.nan), [6, 1], num_iterations=1)
    with pytest.raises(ValueError, match=r"X must hold at least one example \(m >= 1 columns\)"):
        app.L_layer_model(X[:, :0], Y[:, :0], [6, 1], num_iterations=1)
    with pytest.raises(ValueError, match="num_iterations must be >= 1, got 0"):
        app.L_layer_model(X, Y, [6, 1], num_iterations=0)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got -0.1"):
        app.two_layer_model(X, Y, (6, 3, 1), learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"layer_dims\[1\] must be >= 1, got 0"):
        app.initialize_parameters_deep_app([3, 0])
