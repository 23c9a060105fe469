"""im2col / col2im: the gather equals an explicit loop, and col2im is its adjoint."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.nn.functional.im2col import NCHW, NHWC, col2im, im2col, layout_for, window_view


def _loop_im2col_nhwc(x_pad, kernel, stride, out):
    n, _, _, c = x_pad.shape
    col = np.zeros((n, out[0], out[1], kernel[0], kernel[1], c), dtype=x_pad.dtype)
    for oy in range(out[0]):
        for ox in range(out[1]):
            y0, x0 = oy * stride[0], ox * stride[1]
            col[:, oy, ox] = x_pad[:, y0:y0 + kernel[0], x0:x0 + kernel[1], :]
    return col


geometry = st.tuples(
    st.integers(1, 3),  # n
    st.integers(1, 3),  # c
    st.integers(1, 7),  # Hp
    st.integers(1, 7),  # Wp
    st.integers(1, 3),  # kh
    st.integers(1, 3),  # kw
    st.integers(1, 3),  # sh
    st.integers(1, 3),  # sw
).filter(lambda g: g[4] <= g[2] and g[5] <= g[3])


def _out(g):
    _, _, hp, wp, kh, kw, sh, sw = g
    return ((hp - kh) // sh + 1, (wp - kw) // sw + 1)


@given(geometry, st.sampled_from([np.float32, np.float64]))
def test_im2col_matches_loop_in_both_layouts(g, dtype):
    n, c, hp, wp, kh, kw, sh, sw = g
    rng = np.random.default_rng(sum(g))
    x = rng.standard_normal((n, hp, wp, c)).astype(dtype)
    expected = _loop_im2col_nhwc(x, (kh, kw), (sh, sw), _out(g))
    col = im2col(x, (kh, kw), (sh, sw), _out(g), NHWC)
    assert col.dtype == dtype
    np.testing.assert_array_equal(col, expected)
    # NCHW: same numbers, axes (N, C, kh, kw, oh, ow)
    col_nchw = im2col(x.transpose(0, 3, 1, 2), (kh, kw), (sh, sw), _out(g), NCHW)
    np.testing.assert_array_equal(col_nchw, expected.transpose(0, 5, 3, 4, 1, 2))


@given(geometry, st.sampled_from(["NHWC", "NCHW"]))
def test_col2im_is_the_adjoint_of_im2col(g, data_format):
    """<im2col(x), c> == <x, col2im(c)> for every x and c."""
    n, c, hp, wp, kh, kw, sh, sw = g
    layout = layout_for(data_format)
    rng = np.random.default_rng(sum(g) + 1)
    x = rng.standard_normal(layout.image_shape(n, c, hp, wp))
    col = im2col(x, (kh, kw), (sh, sw), _out(g), layout)
    c_arr = rng.standard_normal(col.shape)
    back = col2im(c_arr, (hp, wp), (sh, sw), layout)
    assert back.shape == x.shape
    assert np.isclose(np.sum(col * c_arr), np.sum(x * back), rtol=1e-12, atol=1e-12)


def test_col2im_counts_overlaps():
    """Summing a column buffer of ones counts how many windows cover each pixel."""
    ones = np.ones((1, 2, 2, 2, 2, 1))  # NHWC: out 2x2, kernel 2x2, 1 channel
    counts = col2im(ones, (3, 3), (1, 1), NHWC)[0, :, :, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_window_view_is_read_only_and_shares_memory():
    x = np.arange(2 * 5 * 5 * 3, dtype=np.float64).reshape(2, 5, 5, 3)
    view = window_view(x, (3, 2), (1, 2), (3, 2), NHWC)
    assert view.shape == (2, 3, 2, 3, 2, 3) and np.shares_memory(view, x)
    assert view[1, 2, 1, 0, 1, 2] == x[1, 2, 3, 2]
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0, 0, 0, 0, 0] = 1.0


def test_matrix_views_refuse_non_contiguous_arrays():
    maps = np.zeros((2, 4, 4, 3))[:, ::2]
    with pytest.raises(ValueError, match="feature maps must be C-contiguous"):
        NHWC.map_matrices(maps)
    with pytest.raises(ValueError, match="column buffer must be C-contiguous"):
        NCHW.col_matrices(np.zeros((2, 1, 2, 2, 3, 3))[..., ::2])
