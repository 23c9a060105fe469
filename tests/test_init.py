"""Initializers: shapes, dtypes, determinism and their scales checked statistically on large draws.

Tolerances: for n independent draws the sample standard deviation has a relative standard error of
sqrt((kurtosis - 1) / (4n)): 1/sqrt(2n) for a normal, 0.45/sqrt(n) for a uniform. With n = 200,000
that is at most 0.16%, so a 1.5% band is ~9 standard errors wide (no flaky failures) yet catches any
wrong formula (the nearest wrong scales here, e.g. fan_out for fan_in, are off by >= 5%: sqrt(500/400)).
The mean is checked to 5 standard errors, std / sqrt(n).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepstep import init
from deepstep.init import (
    INITIALIZER_NAMES,
    compute_fans,
    course_normal,
    get_initializer,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    lecun_normal,
    ones,
    zeros,
)

SHAPE = (400, 500)  # Dense (Din, Dout): fan_in 400, fan_out 500, 200,000 draws
N = SHAPE[0] * SHAPE[1]

NORMAL_STDS = {
    "course_normal": 0.01,
    "lecun_normal": math.sqrt(1 / 400),
    "glorot_normal": math.sqrt(2 / 900),
    "he_normal": math.sqrt(2 / 400),
}
UNIFORM_LIMITS = {"glorot_uniform": math.sqrt(6 / 900), "he_uniform": math.sqrt(6 / 400)}


@pytest.mark.parametrize("name", sorted(NORMAL_STDS))
def test_normal_initializers_have_the_stated_std(name):
    w = get_initializer(name)(SHAPE, 400, 500, np.random.default_rng(0), np.float64)
    std = NORMAL_STDS[name]
    assert w.shape == SHAPE and w.dtype == np.float64
    assert abs(w.mean()) < 5 * std / math.sqrt(N)
    assert w.std() == pytest.approx(std, rel=0.015)
    # Untruncated normal (see the module doc): about 4.55% of the draws lie beyond 2 std.
    assert np.mean(np.abs(w) > 2 * std) == pytest.approx(0.0455, abs=0.004)


@pytest.mark.parametrize("name", sorted(UNIFORM_LIMITS))
def test_uniform_initializers_have_the_stated_limit(name):
    w = get_initializer(name)(SHAPE, 400, 500, np.random.default_rng(0), np.float64)
    limit = UNIFORM_LIMITS[name]
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit  # the whole interval is used
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.015)
    assert abs(w.mean()) < 5 * limit / math.sqrt(3 * N)


def test_fans_default_to_the_keras_layout():
    assert compute_fans((400, 500)) == (400, 500)
    assert compute_fans((3, 3, 16, 32)) == (144, 288)
    assert compute_fans((7,)) == (7, 7)
    assert compute_fans(()) == (1, 1)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(glorot_uniform((3, 3, 16, 32), rng=rng_a, dtype="float64"),
                                  glorot_uniform((3, 3, 16, 32), 144, 288, rng_b, "float64"))
    w = he_normal((5, 5, 64, 8), rng=np.random.default_rng(0), dtype=np.float64)  # fan_in 1600
    assert w.std() == pytest.approx(math.sqrt(2 / 1600), rel=0.015)


def test_course_formulas_exactly():
    """he_normal is the course's randn * sqrt(2 / n_prev); lecun_normal is randn / sqrt(n_prev)."""
    ref = np.random.default_rng(7).standard_normal((20, 30))
    he = he_normal((20, 30), 20, 30, np.random.default_rng(7), np.float64)
    np.testing.assert_array_equal(he, ref * math.sqrt(2 / 20))
    lecun = lecun_normal((20, 30), 20, 30, np.random.default_rng(7), np.float64)
    np.testing.assert_allclose(lecun, ref / math.sqrt(20), rtol=1e-15)
    small = course_normal((20, 30), rng=np.random.default_rng(7), dtype=np.float64)
    np.testing.assert_array_equal(small, ref * 0.01)


@pytest.mark.parametrize("name", INITIALIZER_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32"])
def test_dtype_shape_and_determinism(name, dtype):
    fn = get_initializer(name)
    a = fn((4, 6), 4, 6, np.random.default_rng(11), dtype)
    b = fn((4, 6), 4, 6, np.random.default_rng(11), dtype)
    assert a.shape == (4, 6) and a.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(a, b)
    if name not in ("zeros", "ones"):
        c = fn((4, 6), 4, 6, np.random.default_rng(12), dtype)
        assert not np.array_equal(a, c)
        # float32 weights are the float64 draw rounded: same seed, same model in both precisions.
        w64 = fn((4, 6), 4, 6, np.random.default_rng(11), np.float64)
        np.testing.assert_array_equal(fn((4, 6), 4, 6, np.random.default_rng(11), np.float32),
                                      w64.astype(np.float32))


def test_zeros_and_ones():
    np.testing.assert_array_equal(zeros((3,), dtype=np.float64), np.zeros(3))
    np.testing.assert_array_equal(ones((2, 2)), np.ones((2, 2), dtype=np.float32))
    assert zeros(5).shape == (5,)
    assert zeros((0, 3)).shape == (0, 3)


def test_get_initializer():
    assert get_initializer("He_Normal") is he_normal
    assert get_initializer(glorot_normal) is glorot_normal
    assert set(INITIALIZER_NAMES) == {"zeros", "ones", "course_normal", "lecun_normal", "glorot_normal",
                                      "glorot_uniform", "he_normal", "he_uniform"}
    assert all(getattr(init, n) is get_initializer(n) for n in INITIALIZER_NAMES)
    with pytest.raises(ValueError, match="unknown initializer 'xavier'; expected a callable or one of zeros"):
        get_initializer("xavier")
    with pytest.raises(ValueError, match="unknown initializer 3"):
        get_initializer(3)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: he_normal((3, 4)), TypeError, "rng must be a numpy.random.Generator"),
        (lambda: glorot_uniform((3, 4), rng=np.random.RandomState(0)), TypeError,
         "rng must be a numpy.random.Generator .* got RandomState"),
        (lambda: he_uniform((3, 4), rng=np.random.default_rng(), dtype=np.int32), TypeError,
         "dtype must be 'float32' or 'float64', got int32"),
        (lambda: zeros((3, 4), dtype="banana"), TypeError, "dtype must be 'float32' or 'float64'"),
        (lambda: ones((3, -4)), ValueError, r"shape\[1\] must be >= 0, got -4"),
        (lambda: ones((3, 2.5)), TypeError, r"shape\[1\] must be an integer"),
        (lambda: ones("3x4"), TypeError, "shape must be a tuple of ints"),
        (lambda: he_normal((3, 4), fan_in=0, rng=np.random.default_rng()), ValueError, "fan_in must be >= 1"),
        (lambda: glorot_normal((3, 4), fan_out=-2, rng=np.random.default_rng()), ValueError,
         "fan_out must be >= 1"),
        (lambda: glorot_normal((0, 4), rng=np.random.default_rng()), ValueError,
         r"fan_in and fan_out must be >= 1, got fan_in=0, fan_out=4 \(computed from shape \(0, 4\)\)"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
