"""deepstep.data.augment: against scipy.ndimage's affine resampling, exact cases and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.data import augment as A

ndimage = pytest.importorskip("scipy.ndimage")

SCIPY_MODES = {"reflect": "reflect", "wrap": "grid-wrap", "nearest": "nearest", "constant": "grid-constant"}


def _images(rng, n=3, h=7, w=6, c=2, dtype=np.float64):
    return rng.uniform(0.0, 1.0, (n, h, w, c)).astype(dtype)


@given(st.integers(0, 2**16), st.sampled_from(A.FILL_MODES), st.sampled_from(["bilinear", "nearest"]),
       st.integers(1, 9), st.integers(1, 9))
def test_affine_warp_matches_scipy_ndimage(seed, fill_mode, interpolation, h, w):
    rng = np.random.default_rng(seed)
    x = _images(rng, 2, h, w, 2)
    a = rng.uniform(-1.5, 1.5, (2, 2, 2))
    b = rng.uniform(-4, 4, (2, 2))
    got = A.affine_warp(x, a, b, fill_mode, fill_value=0.25, interpolation=interpolation)
    center = np.array([(h - 1) / 2, (w - 1) / 2])
    for n in range(2):
        for ch in range(2):
            want = ndimage.affine_transform(x[n, :, :, ch], a[n], offset=center - a[n] @ center + b[n],
                                            order=1 if interpolation == "bilinear" else 0,
                                            mode=SCIPY_MODES[fill_mode], cval=0.25)
            if interpolation == "bilinear":
                np.testing.assert_allclose(got[n, :, :, ch], want, atol=1e-12)
            else:  # rounding of exact .5 coordinates may differ: compare where they agree to 1e-9
                src = np.einsum("ij,jhw->ihw", a[n], np.indices((h, w)) - center[:, None, None])
                frac = np.abs((src + center[:, None, None] + b[n][:, None, None]) % 1 - 0.5)
                clear = np.all(frac > 1e-9, axis=0)
                np.testing.assert_array_equal(got[n, :, :, ch][clear], want[clear])


def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise(rng):
    x = _images(rng, 2, 5, 5, 3)
    for interpolation in ("nearest", "bilinear"):
        got = A.random_rotation(x, rng, factor=(0.25, 0.25), interpolation=interpolation)
        np.testing.assert_allclose(got, np.rot90(x, axes=(1, 2)), atol=1e-12)


def test_translation_by_whole_pixels_with_wrap_is_a_roll(rng):
    x = _images(rng, 1, 8, 10, 1)
    got = A.random_translation(x, rng, height_factor=(0.25, 0.25), width_factor=(-0.3, -0.3),
                               fill_mode="wrap")
    np.testing.assert_allclose(got, np.roll(x, (2, -3), axis=(1, 2)), atol=1e-12)  # down 2, left 3


def test_translation_constant_fill(rng):
    x = _images(rng, 1, 4, 4, 1)
    got = A.random_translation(x, rng, (0.5, 0.5), (0, 0), fill_mode="constant", fill_value=-1.0)
    np.testing.assert_allclose(got[0, :2], -1.0)
    np.testing.assert_allclose(got[0, 2:], x[0, :2])


def test_zoom_zero_is_the_identity_and_zoom_out_shrinks_the_content(rng):
    x = _images(rng, 2, 6, 6, 1)
    np.testing.assert_allclose(A.random_zoom(x, rng, 0.0), x, atol=1e-12)
    dot = np.zeros((1, 9, 9, 1))
    dot[0, 2, 2] = 1.0  # 2 pixels from the center (4, 4) on each axis
    out = A.random_zoom(dot, rng, (1.0, 1.0), fill_mode="constant", interpolation="nearest")  # field x2
    assert out[0, 3, 3, 0] == 1.0 and out.sum() == 1.0  # now 1 pixel from the center


@pytest.mark.parametrize("mode, axes", [("horizontal", (2,)), ("vertical", (1,)),
                                        ("horizontal_and_vertical", (1, 2))])
def test_flip_flips_about_half_of_the_images(mode, axes):
    rng = np.random.default_rng(0)
    x = _images(rng, 200, 3, 4, 1)
    out = A.random_flip(x, np.random.default_rng(1), mode)
    seen = set()
    for orig, new in zip(x, out, strict=True):
        variants = {"same": orig, "h": orig[:, ::-1], "v": orig[::-1], "hv": orig[::-1, ::-1]}
        match = [k for k, v in variants.items() if np.array_equal(v, new)]
        assert match
        seen.add(match[0])
    allowed = {(2,): {"same", "h"}, (1,): {"same", "v"}, (1, 2): {"same", "h", "v", "hv"}}[axes]
    assert seen == allowed


def test_brightness_adds_one_delta_per_image_within_the_range_and_clips():
    x = np.full((50, 2, 2, 3), 0.5)
    out = A.random_brightness(x, np.random.default_rng(0), factor=0.2)
    delta = out - x
    assert np.all(delta == delta[:, :1, :1, :1]) and np.all(np.abs(delta) <= 0.2 + 1e-12)
    assert delta.std() > 0.05
    bright = np.full((5, 1, 1, 1), 250.0)
    clipped = A.random_brightness(bright, np.random.default_rng(0), (0.5, 0.5), (0, 255))
    np.testing.assert_array_equal(clipped, 255.0)


def test_contrast_scales_the_deviation_from_the_channel_mean():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.4, 0.6, (20, 4, 4, 3))
    out = A.random_contrast(x, np.random.default_rng(1), factor=0.5)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, atol=1e-12)
    scale = (out - mean)[:, 0, 0, 0] / (x - mean)[:, 0, 0, 0]
    np.testing.assert_allclose((out - mean) / (x - mean), scale[:, None, None, None] * np.ones_like(x))
    assert np.all((scale >= 0.5) & (scale <= 1.5))
    np.testing.assert_allclose(A.random_contrast(x, rng, 0.0), x)


@pytest.mark.parametrize("transform", [
    A.RandomFlip("horizontal"), A.RandomTranslation(0.2, 0.1), A.RandomRotation(0.1), A.RandomZoom(0.2, 0.1),
    A.RandomBrightness(0.2), A.RandomContrast(0.3),
    A.Compose([A.RandomFlip("horizontal"), A.RandomRotation(0.05), A.RandomContrast(0.1)]),
])
def test_transforms_are_reproducible_keep_dtype_and_shape(transform):
    x = _images(np.random.default_rng(0), 4, 6, 5, 3, np.float32)
    a = transform(x, np.random.default_rng([7, 1]))
    b = transform(x, np.random.default_rng([7, 1]))
    c = transform(x, np.random.default_rng([8, 1]))
    assert a.dtype == np.float32 and a.shape == x.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert transform(x, np.random.default_rng(0)) is not x


@pytest.mark.parametrize("make, match", [
    (lambda: A.RandomFlip("diagonal"), "mode"),
    (lambda: A.RandomTranslation(1.5, 0.1), "height_factor"),
    (lambda: A.RandomTranslation(0.1, (0.2, 0.1)), "width_factor"),
    (lambda: A.RandomZoom(-1.0), "height_factor"),
    (lambda: A.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
    (lambda: A.RandomRotation(0.1, interpolation="cubic"), "interpolation"),
    (lambda: A.RandomBrightness(2.0), "factor"),
    (lambda: A.RandomContrast(-0.1), "factor"),
    (lambda: A.RandomBrightness(0.1, value_range=(1, 0)), "value_range"),
])
def test_bad_arguments_fail_at_construction_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_batches_are_rejected():
    with pytest.raises(TypeError, match="floats"):
        A.random_flip(np.zeros((1, 2, 2, 1), np.uint8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        A.random_flip(np.zeros((2, 2, 1)), np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        A.random_flip(np.zeros((1, 2, 2, 1)), 0)
    with pytest.raises(TypeError, match="callable"):
        A.Compose([A.RandomFlip(), 3])


def test_compose_fuses_geometric_transforms_exactly_where_warping_in_turn_is_exact(rng):
    x = _images(rng, 2, 8, 8, 2)
    shift = A.RandomTranslation((0.25, 0.25), (0, 0), fill_mode="wrap", interpolation="nearest")
    turn = A.RandomRotation((0.25, 0.25), fill_mode="wrap", interpolation="nearest")
    fused = A.Compose([shift, turn])(x, np.random.default_rng(0))
    np.testing.assert_array_equal(fused, np.rot90(np.roll(x, 2, axis=1), axes=(1, 2)))  # shift, then turn


def test_compose_fused_warp_equals_warping_in_turn_inside_the_image():
    # Bilinear interpolation of a linear ramp is exact, so both agree wherever no border is read.
    rows, cols = np.indices((16, 16))
    x = np.broadcast_to((0.03 * rows + 0.02 * cols)[None, :, :, None], (4, 16, 16, 1)).copy()
    steps = [A.RandomTranslation(0.1, 0.1), A.RandomRotation(0.02), A.RandomZoom(0.1)]
    fused = A.Compose(steps)(x, np.random.default_rng(3))
    in_turn = x
    rng = np.random.default_rng(3)
    for step in steps:
        in_turn = step(in_turn, rng)
    np.testing.assert_allclose(fused[:, 5:11, 5:11], in_turn[:, 5:11, 5:11], atol=1e-12)
    assert not np.allclose(fused, x)


def test_compose_does_not_fuse_transforms_with_other_resampling(rng):
    x = _images(rng, 3, 6, 6, 1)
    steps = [A.RandomTranslation(0.2, 0.2, fill_mode="constant"), A.RandomRotation(0.1)]
    composed = A.Compose(steps)(x, np.random.default_rng(4))
    g = np.random.default_rng(4)
    np.testing.assert_array_equal(composed, steps[1](steps[0](x, g), g))
