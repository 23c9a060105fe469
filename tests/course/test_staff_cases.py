"""The course staff's own test cases (C4W1A1, C1W4A1, C1W4A2, C2W2), run against deepstep.course.

Each test builds the inputs from the staff test's recipe (seed, then the same ``np.random``
draws in the same order) and compares with the outputs the notebooks publish in their
"Expected output" cells and staff tests: same values (to the 6 decimals the staff checks
use), same types (tuples, dicts, ndarrays, 0-d array costs) and same shapes. The staff
checks accept inputs a network would not produce (``AL = randn``, real-valued ``Y``,
parameters whose shapes do not chain); deepstep must compute the notebook's formula on them.
"""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.course import app, cnn, dnn, optim


def assert_like(expected, actual, where="output"):
    """``actual`` has ``expected``'s types, shapes and values (6 decimals), recursively."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a dict, got {type(actual).__name__}"
        assert set(expected) <= set(actual), f"{where}: missing keys {set(expected) - set(actual)}"
        for key in expected:
            assert_like(expected[key], actual[key], f"{where}[{key!r}]")
    elif isinstance(expected, tuple | list):
        assert isinstance(actual, type(expected)), f"{where}: expected a {type(expected).__name__}"
        assert len(actual) == len(expected), f"{where}: expected {len(expected)} items, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_like(e, a, f"{where}[{i}]")
    else:
        assert isinstance(actual, np.ndarray), f"{where}: expected an ndarray, got {type(actual).__name__}"
        assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
        np.testing.assert_array_almost_equal(actual, expected, err_msg=where)


# ----------------------------------------------------------------------------- C1W4A1
def test_initialize_parameters():
    expected = {"W1": np.array([[0.01624345, -0.00611756, -0.00528172],
                                [-0.01072969, 0.00865408, -0.02301539]]),
                "b1": np.zeros((2, 1)), "W2": np.array([[0.01744812, -0.00761207]]), "b2": np.zeros((1, 1))}
    assert_like(expected, dnn.initialize_parameters(3, 2, 1))


def test_initialize_parameters_deep():
    expected = {
        "W1": np.array([[0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
                        [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
                        [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
                        [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]]),
        "b1": np.zeros((4, 1)),
        "W2": np.array([[-0.01185047, -0.0020565, 0.01486148, 0.00236716],
                        [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
                        [-0.00768836, -0.00230031, 0.00745056, 0.01976111]]),
        "b2": np.zeros((3, 1)),
    }
    assert_like(expected, dnn.initialize_parameters_deep([5, 4, 3]))


def _seeded(seed, *shapes):
    np.random.seed(seed)  # noqa: NPY002 - the staff recipes draw from the global generator
    return [np.random.randn(*shape) for shape in shapes]  # noqa: NPY002


def test_linear_forward():
    A, W, b = _seeded(1, (3, 2), (1, 3), (1, 1))
    assert_like((np.array([[3.26295337, -1.23429987]]), (A, W, b)), dnn.linear_forward(A, W, b))


def test_linear_activation_forward():
    A, W, b = _seeded(2, (3, 2), (1, 3), (1, 1))
    Z = np.array([[3.43896131, -2.08938436]])
    assert_like((np.array([[0.96890023, 0.11013289]]), ((A, W, b), Z)),
                dnn.linear_activation_forward(A, W, b, "sigmoid"))
    assert_like((np.array([[3.43896131, 0.0]]), ((A, W, b), Z)),
                dnn.linear_activation_forward(A, W, b, "relu"))


def test_L_model_forward():
    X, W1, b1, W2, b2, W3, b3 = _seeded(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
    AL, caches = dnn.L_model_forward(X, parameters)
    assert_like(np.array([[0.03921668, 0.70498921, 0.19734387, 0.04728177]]), AL)
    assert isinstance(caches, list) and len(caches) == 3
    assert_like(np.array([[-3.19864676, 0.87117055, -1.40297864, -3.00319435]]), caches[2][1], "Z3")
    assert_like(np.array([[2.2644603, 1.09971298, 0.0, 1.54036335],
                          [6.33722569, 0.0, 0.0, 4.48582383],
                          [10.37508342, 0.0, 1.63635185, 8.17870169]]), caches[2][0][0], "A2")


def test_compute_cost_returns_the_notebooks_0d_array():
    AL, Y = np.array([[0.8, 0.9, 0.4]]), np.asarray([[1, 1, 0]])
    cost = dnn.compute_cost(AL, Y)
    assert_like(np.array(0.27977656), cost)
    assert cost.ndim == 0 and cost.dtype == np.float64
    assert cost == np.squeeze((-1 / 3) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL), axis=1))


def test_linear_backward():
    dZ, A, W, b = _seeded(1, (3, 4), (5, 4), (3, 5), (3, 1))
    expected = (
        np.array([[-1.15171336, 0.06718465, -0.3204696, 2.09812712],
                  [0.60345879, -3.72508701, 5.81700741, -3.84326836],
                  [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
                  [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
                  [-2.52214926, 2.67882552, -0.67947465, 1.48119548]]),
        np.array([[0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
                  [0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808],
                  [0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907]]),
        np.array([[-0.14713786], [-0.11313155], [-0.13209101]]),
    )
    assert_like(expected, dnn.linear_backward(dZ, (A, W, b)))


def test_linear_activation_backward():
    dA, A, W, b, Z = _seeded(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    cache = ((A, W, b), Z)
    sigmoid = (np.array([[0.11017994, 0.01105339], [0.09466817, 0.00949723], [-0.05743092, -0.00576154]]),
               np.array([[0.10266786, 0.09778551, -0.01968084]]), np.array([[-0.05729622]]))
    relu = (np.array([[0.44090989, 0.0], [0.37883606, 0.0], [-0.2298228, 0.0]]),
            np.array([[0.44513824, 0.37371418, -0.10478989]]), np.array([[-0.20837892]]))
    assert_like(sigmoid, dnn.linear_activation_backward(dA, cache, "sigmoid"))
    assert_like(relu, dnn.linear_activation_backward(dA, cache, "relu"))


def _L_model_backward_case():
    """The staff case (C1W4A1 public tests and testCases_v4a): AL is randn, not probabilities."""
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = _seeded(3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2),
                                                 (3, 2), (1, 3), (1, 1), (1, 2))
    caches = (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))
    return AL, np.array([[1, 0]]), caches


def test_L_model_backward_on_the_staff_case_with_AL_outside_0_1():
    AL, Y, caches = _L_model_backward_case()
    np.testing.assert_array_almost_equal(AL, [[1.78862847, 0.43650985]])
    expected = {
        "dA1": np.array([[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]]),
        "dW2": np.array([[-0.39202432, -0.13325855, -0.04601089]]),
        "db2": np.array([[0.15187861]]),
        "dA0": np.array([[0.0, 0.52257901], [0.0, -0.3269206], [0.0, -0.32070404], [0.0, -0.74079187]]),
        "dW1": np.array([[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                         [0.0, 0.0, 0.0, 0.0],
                         [0.05283652, 0.01005865, 0.01777766, 0.0135308]]),
        "db1": np.array([[-0.22007063], [0.0], [-0.02835349]]),
    }
    grads = dnn.L_model_backward(AL, Y, caches)
    assert_like(expected, grads)
    assert set(grads) == set(expected)


def test_L_model_backward_is_the_notebook_formula_bit_for_bit():
    AL, Y, caches = _L_model_backward_case()
    grads = dnn.L_model_backward(AL, Y, caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))  # the notebook's line, unclipped
    (A2, W2, _), Z2 = caches[1]
    s = 1 / (1 + np.exp(-Z2))
    dZ2 = dAL * s * (1 - s)
    np.testing.assert_array_equal(grads["dW2"], 1 / 2 * np.dot(dZ2, A2.T))
    np.testing.assert_array_equal(grads["dA1"], np.dot(W2.T, dZ2))


def test_update_parameters():
    W1, b1, W2, b2 = _seeded(2, (3, 4), (3, 1), (1, 3), (1, 1))
    dW1, db1, dW2, db2 = _seeded(3, (3, 4), (3, 1), (1, 3), (1, 1))
    expected = {"W1": np.array([[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
                                [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
                                [-1.0535704, -0.86128581, 0.68284052, 2.20374577]]),
                "b1": np.array([[-0.04659241], [-1.28888275], [0.53405496]]),
                "W2": np.array([[-0.55569196, 0.0354055, 1.32964895]]),
                "b2": np.array([[-0.84610769]])}
    out = dnn.update_parameters({"W1": W1, "b1": b1, "W2": W2, "b2": b2},
                                {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}, 0.1)
    assert_like(expected, out)


# ----------------------------------------------------------------------------- C1W4A2
def test_two_layer_model_with_real_valued_labels():
    X, Y = _seeded(1, (10, 10), (1, 10))  # Y = randn: not labels, as in the staff test
    expected1 = ({"W1": np.array([[0.01624965, -0.00610741, -0.00528734, -0.01072836, 0.008664,
                                   -0.02301103, 0.01745639, -0.00760949, 0.0031934, -0.00248971],
                                  [0.01462848, -0.02057904, -0.00326745, -0.00383625, 0.01138176,
                                   -0.01097596, -0.00171974, -0.00877601, 0.00043022, 0.00584423],
                                  [-0.01098272, 0.01148209, 0.00902102, 0.00500958, 0.00900571,
                                   -0.00683188, -0.00123491, -0.00937164, -0.00267157, 0.00532808],
                                  [-0.00693465, -0.00400047, -0.00684685, -0.00844447, -0.00670397,
                                   -0.00014731, -0.01113977, 0.00238846, 0.0165895, 0.00738212]]),
                  "b1": np.array([[1.10437111e-05], [1.78437869e-05], [3.74879549e-05], [-4.42988824e-05]]),
                  "W2": np.array([[-0.00200283, -0.00888593, -0.00751122, 0.01688162]]),
                  "b2": np.array([[-0.00689018]])},
                 [np.array(0.69315968)])
    assert_like(expected1, app.two_layer_model(X, Y, (10, 4, 1), 0.0075, 2, False))
    expected2 = ({"W1": np.array([[0.01640028, -0.00585699, -0.00542633, -0.01069332, 0.0089055,
                                   -0.02290418, 0.01765388, -0.00754616, 0.00326712, -0.00239159],
                                  [0.01476737, -0.02014461, -0.0040947, -0.0037457, 0.01221714,
                                   -0.01054049, -0.00164111, -0.00872507, 0.00058592, 0.00615077],
                                  [-0.01051621, 0.01216499, 0.009119, 0.0047126, 0.00894761,
                                   -0.00672568, -0.00134921, -0.0096428, -0.00253223, 0.00580758],
                                  [-0.00728552, -0.00461461, -0.00638113, -0.00831084, -0.00654136,
                                   -0.00053186, -0.01052771, 0.00320719, 0.01643914, 0.00667123]]),
                  "b1": np.array([[0.00027478], [0.00034477], [0.00076016], [-0.00084497]]),
                  "W2": np.array([[-0.00358725, -0.00911995, -0.00831979, 0.01615845]]),
                  "b2": np.array([[-0.13451354]])},
                 [np.array(0.69315968)])
    assert_like(expected2, app.two_layer_model(X, Y, (10, 4, 1), 0.1, 3, False))


def test_L_layer_model_records_costs_as_the_notebook():
    (X,) = _seeded(1, (10, 10))
    Y = np.array([1, 1, 1, 1, 0, 0, 0, 1, 1, 0]).reshape(1, 10)
    parameters, costs = app.L_layer_model(X, Y, (10, 5, 6, 1), 0.0075, 2)
    assert_like([np.array(0.70723944)], costs)
    assert_like({"W3": np.array([[-0.09079199, -0.08117381, 0.07667568, 0.16665535, 0.08029575, 0.04805811]]),
                 "b3": np.array([[0.0013201]]),
                 "b2": np.array([[1.80215514e-07], [-1.07935097e-04], [1.63081605e-04],
                                 [-3.51202008e-05], [-7.40012619e-05], [-4.43814901e-05]]),
                 "W1": np.array([[0.51384638, -0.19333098, -0.16705238, -0.33923196, 0.273477,
                                  -0.72775498, 0.55170785, -0.24077478, 0.10082452, -0.07882423],
                                 [0.46227786, -0.65153639, -0.10192959, -0.12150984, 0.35855025,
                                  -0.34787253, -0.05455001, -0.27767163, 0.01337835, 0.1843845],
                                 [-0.34790478, 0.36200264, 0.28511245, 0.15868454, 0.284931,
                                  -0.21645471, -0.03877896, -0.29584578, -0.08480802, 0.16760667],
                                 [-0.21835973, -0.12531366, -0.21720823, -0.26764975, -0.21214946,
                                  -0.00438229, -0.35316347, 0.07432144, 0.52474685, 0.23453653],
                                 [-0.06060968, -0.28061463, -0.23624839, 0.53526844, 0.01597194,
                                  -0.20136496, 0.06021639, 0.66414167, 0.03804666, 0.19528599]])},
                parameters)
    parameters, costs = app.L_layer_model(X, Y, (10, 5, 6, 1), 0.02, 3)
    assert_like([np.array(0.70723944)], costs)  # iteration 0 only: the last one is not kept
    assert_like({"W3": np.array([[-0.09087434, -0.07882982, 0.07821609, 0.16442826, 0.0783229, 0.04648216]]),
                 "b3": np.array([[0.00525865]]),
                 "b1": np.array([[-8.61228305e-04], [6.08187689e-04], [3.53075377e-05],
                                 [2.21291877e-04], [-1.13591429e-04]])}, parameters)


# ----------------------------------------------------------------------------- C2W2
def test_adam_on_the_old_staff_case_whose_shapes_do_not_chain():
    W1, b1, W2, b2, dW1, db1, dW2, db2 = _seeded(1, (2, 3), (2, 1), (3, 3), (3, 1),
                                                 (2, 3), (2, 1), (3, 3), (3, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}  # W1 (2, 3) then W2 (3, 3): not a network
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    v, s = optim.initialize_adam(parameters)
    out, v, s, _, _ = optim.update_parameters_with_adam(parameters, grads, v, s, t=2, learning_rate=0.01,
                                                        beta1=0.9, beta2=0.999, epsilon=1e-8)
    expected = {"W1": np.array([[1.63178673, -0.61919778, -0.53561312],
                                [-1.08040999, 0.85796626, -2.29409733]]),
                "b1": np.array([[1.75225313], [-0.75376553]]),
                "W2": np.array([[0.32648046, -0.25681174, 1.46954931],
                                [-2.05269934, -0.31497584, -0.37661299],
                                [1.14121081, -1.09244991, -0.16498684]]),
                "b2": np.array([[-0.88529979], [0.03477238], [0.57537385]])}
    assert_like(expected, out)
    assert_like({"dW1": np.array([[-0.11006192, 0.11447237, 0.09015907],
                                  [0.05024943, 0.09008559, -0.06837279]]),
                 "db1": np.array([[-0.01228902], [-0.09357694]])}, v)
    np.testing.assert_allclose(s["db2"][0, 0], 5.49507194e-05, rtol=1e-7)


@pytest.mark.parametrize("update", ["gd", "momentum"])
def test_other_updates_accept_shapes_that_do_not_chain(update):
    W1, b1, W2, b2 = _seeded(1, (2, 3), (2, 1), (3, 3), (3, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    grads = {f"d{k}": np.ones_like(p) for k, p in parameters.items()}
    if update == "gd":
        out = optim.update_parameters_with_gd(parameters, grads, 0.5)
    else:
        v = optim.initialize_velocity(parameters)
        out, _ = optim.update_parameters_with_momentum(parameters, grads, v, 0.9, 0.5)
    step = 0.5 if update == "gd" else 0.5 * (1 - 0.9)
    for key, p in parameters.items():
        np.testing.assert_array_equal(out[key], p - step * 1.0)


# ----------------------------------------------------------------------------- C4W1A1
def test_conv_single_step_returns_a_numpy_float64():
    a_slice_prev, W, b = _seeded(3, (4, 4, 3), (4, 4, 3), (1, 1, 1))
    assert type(cnn.conv_single_step(a_slice_prev, W, b)) is np.float64


def test_conv_forward_output_shapes_for_pad_and_stride():
    A_prev, W, b = _seeded(3, (2, 5, 7, 4), (3, 3, 4, 8), (1, 1, 1, 8))
    assert cnn.conv_forward(A_prev, W, b, {"pad": 3, "stride": 1})[0].shape == (2, 9, 11, 8)
    assert cnn.conv_forward(A_prev, W, b, {"pad": 0, "stride": 2})[0].shape == (2, 2, 3, 8)
    W, b = np.random.randn(5, 5, 4, 8), np.random.randn(1, 1, 1, 8)  # noqa: NPY002 - the recipe's next draws
    Z, cache = cnn.conv_forward(A_prev, W, b, {"pad": 6, "stride": 1})
    assert Z.shape == (2, 13, 15, 8) and isinstance(cache, tuple) and len(cache) == 4


def test_pool_forward_shapes_and_values_with_stride_1():
    small, wide = _seeded(0, (2, 5, 7, 3), (4, 5, 7, 4))  # shapes only: any values
    assert cnn.pool_forward(small, {"stride": 2, "f": 2}, mode="average")[0].shape == (2, 2, 3, 3)
    assert cnn.pool_forward(wide, {"stride": 1, "f": 5})[0].shape == (4, 1, 3, 4)
    (A_prev,) = _seeded(1, (2, 5, 5, 3))
    A, cache = cnn.pool_forward(A_prev, {"stride": 1, "f": 2}, mode="max")
    assert_like(np.array([[1.19891788, 0.74055645, 0.07734007], [0.31515939, 0.84616065, 0.07734007],
                          [0.69803203, 0.84616065, 1.2245077], [0.69803203, 1.12141771, 1.2245077]]), A[1, 1])
    assert_like(np.array([[0.16938243, 0.74055645, -0.9537006], [-0.26621851, 0.03261455, -1.37311732],
                          [0.31515939, 0.84616065, -0.85951594], [0.35054598, -1.31228341, -0.03869551],
                          [-1.61577235, 1.12141771, 0.40890054]]), cache[0][1, 2], "cache")
    A, _ = cnn.pool_forward(A_prev, {"stride": 1, "f": 2}, mode="average")
    assert_like(np.array([[0.11583785, 0.34545544, -0.6561907], [-0.2334108, 0.3364666, -0.69382351],
                          [0.25497093, -0.21741362, -0.07342615], [-0.04092568, -0.01110394, 0.12495022]]),
                A[1, 1])


def test_create_mask_and_distribute_value():
    mask = cnn.create_mask_from_window(np.array([[-1, 2, 3], [2, -3, 2], [1, 5, -2]]))
    assert isinstance(mask, np.ndarray) and mask.shape == (3, 3) and np.argwhere(mask).tolist() == [[2, 1]]
    for dz, shape in ((2, (2, 2)), (100, (10, 10))):
        a = cnn.distribute_value(dz, shape)
        assert isinstance(a, np.ndarray) and a.shape == shape and np.sum(a) == dz
