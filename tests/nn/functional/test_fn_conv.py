"""deepstep.nn.functional.conv2d: against the course loops, PyTorch and numerical gradients."""

from __future__ import annotations

import os

import hypothesis
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.course import cnn as course_cnn
from deepstep.course import cs231n as course_cs231n
from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn.functional import (
    _registry,
    conv2d,
    conv2d_backward,
    get_workspace_limit,
    set_workspace_limit,
)
from deepstep.nn.functional import conv as conv_module
from deepstep.nn.functional._params import resolve_padding
from deepstep.nn.functional.conv import choose_internal_layout
from deepstep.nn.functional.im2col import NCHW, NHWC

DTYPES = [np.float32, np.float64]
FORMATS = ["NHWC", "NCHW"]


@pytest.fixture
def numpy_kernels(monkeypatch):
    """Pin the NumPy kernels (whatever DEEPSTEP_KERNELS says) for tests of their internals."""
    monkeypatch.setattr(_registry._state, "mode", "numpy")


def _make(rng, data_format, n, c, h, w, f, kh, kw, dtype=np.float64):
    """Random x, w, b in ``data_format``'s layout."""
    if data_format == "NHWC":
        x = rng.standard_normal((n, h, w, c))
        wt = rng.standard_normal((kh, kw, c, f))
    else:
        x = rng.standard_normal((n, c, h, w))
        wt = rng.standard_normal((f, c, kh, kw))
    return x.astype(dtype), wt.astype(dtype), rng.standard_normal(f).astype(dtype)


def _to_nchw(x, w, data_format):
    if data_format == "NHWC":
        return x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1)
    return x, w


def _torch_reference(x, w, b, stride, padding, data_format, dout, in_float64=False):
    """PyTorch forward and gradients of the same problem, returned in ``data_format``'s layout.

    ``in_float64`` computes the reference in float64 from (possibly float32) inputs: PyTorch's own
    float32 CPU kernel is wrong on some degenerate geometries (e.g. x (2, 1, 2, 1), 3x3 kernel,
    stride (1, 2), pad 1 gives a wrong second output row in torch 2.13), so the random-geometry
    test checks float32 against float64 truth.
    """
    torch = pytest.importorskip("torch")
    if in_float64:
        x, w, b, dout = (a.astype(np.float64) for a in (x, w, b, dout))
    tf = torch.nn.functional
    x_nchw, w_nchw = _to_nchw(x, w, data_format)
    kh, kw = w_nchw.shape[2:]
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    (top, bottom, left, right), _ = resolve_padding(padding, x_nchw.shape[2:], (kh, kw), (sh, sw))
    xt = torch.tensor(np.ascontiguousarray(x_nchw), requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w_nchw), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    # TensorFlow's SAME padding can be asymmetric: pad explicitly, then convolve unpadded
    out = tf.conv2d(tf.pad(xt, (left, right, top, bottom)), wt, bt, stride=(sh, sw))
    dout_nchw = dout.transpose(0, 3, 1, 2) if data_format == "NHWC" else dout
    out.backward(torch.tensor(np.ascontiguousarray(dout_nchw)))
    out, dx, dw = out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()
    if data_format == "NHWC":
        out, dx, dw = out.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1), dw.transpose(2, 3, 1, 0)
    return out, dx, dw, bt.grad.numpy()


def _out_shape(x, w, stride, padding, data_format):
    x_nchw, w_nchw = _to_nchw(x, w, data_format)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    _, (oh, ow) = resolve_padding(padding, x_nchw.shape[2:], w_nchw.shape[2:], (sh, sw))
    f = w_nchw.shape[0]
    return (x.shape[0], oh, ow, f) if data_format == "NHWC" else (x.shape[0], f, oh, ow)


# --------------------------------------------------------------------------- course loop references
def _explicit_pads(x_nchw_hw, kernel, stride, padding):
    (top, bottom, left, right), _ = resolve_padding(padding, x_nchw_hw, kernel, (stride, stride))
    return top, bottom, left, right


def _course_reference(x, w, b, stride, padding, data_format, dout):
    """Forward and gradients from the loops of deepstep.course, in ``data_format``'s layout.

    Square kernels with symmetric integer padding go through course.cnn (NHWC, the Coursera API);
    everything else through course.cs231n (NCHW, rectangular kernels). Padding the references cannot
    express (TensorFlow's asymmetric SAME, (ph, pw) pairs) is applied with np.pad beforehand and the
    reference is called with pad 0; the padded border of its dx is then cropped off.
    """
    x_nchw, w_nchw = _to_nchw(x, w, data_format)
    kh, kw = w_nchw.shape[2:]
    top, bottom, left, right = _explicit_pads(x_nchw.shape[2:], (kh, kw), stride, padding)
    symmetric = top == bottom == left == right
    if data_format == "NHWC" and kh == kw:
        pad = top if symmetric else 0
        x_ref = x if symmetric else np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        out, cache = course_cnn.conv_forward(x_ref, w, b.reshape(1, 1, 1, -1), {"stride": stride, "pad": pad})
        dx, dw, db = course_cnn.conv_backward(dout, cache)
        if not symmetric:
            dx = dx[:, top:top + x.shape[1], left:left + x.shape[2], :]
        return out, dx, dw, db.reshape(-1)
    pad = top if symmetric else 0
    x_ref = x_nchw if symmetric else np.pad(x_nchw, ((0, 0), (0, 0), (top, bottom), (left, right)))
    dout_nchw = dout.transpose(0, 3, 1, 2) if data_format == "NHWC" else dout
    out, cache = course_cs231n.conv_forward_naive(x_ref, w_nchw, b, {"stride": stride, "pad": pad})
    dx, dw, db = course_cs231n.conv_backward_naive(dout_nchw, cache)
    if not symmetric:
        dx = dx[:, :, top:top + x_nchw.shape[2], left:left + x_nchw.shape[3]]
    if data_format == "NHWC":
        out, dx, dw = out.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1), dw.transpose(2, 3, 1, 0)
    return out, dx, dw, db


@st.composite
def conv_problems(draw):
    """Small random convolutions that fit: shapes, kernel, stride, padding, layout, dtype."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    square = draw(st.booleans())
    kh = draw(st.integers(1, 4))
    kw = kh if square else draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["int", "pair", "valid", "same"]))
    if padding == "int":
        padding = draw(st.integers(0, 2))
    elif padding == "pair":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    ph, pw = (0, 0) if padding in ("valid", "same") else (
        padding if isinstance(padding, tuple) else (padding, padding))
    if padding != "same":
        hypothesis.assume(kh <= h + 2 * ph and kw <= w + 2 * pw)
    data_format = draw(st.sampled_from(FORMATS))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**16))
    return n, c, h, w, f, kh, kw, stride, padding, data_format, dtype, seed


@hypothesis.settings(max_examples=150)
@given(conv_problems())
def test_conv2d_matches_the_course_loops(problem):
    n, c, h, w, f, kh, kw, stride, padding, data_format, dtype, seed = problem
    rng = np.random.default_rng(seed)
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw)
    out_shape = _out_shape(x, wt, stride, padding, data_format)
    dout = rng.standard_normal(out_shape)
    want = _course_reference(x, wt, b, stride, padding, data_format, dout)

    # the fast kernel, at the requested dtype (the references always compute in float64)
    cast = [a.astype(dtype) for a in (x, wt, b, dout)]
    out, cache = conv2d(*cast[:3], stride, padding, data_format)
    got = (out, *conv2d_backward(cast[3], cache))
    # normwise relative error (elementwise would flag harmless rounding on entries that cancel to ~0);
    # db is a plain sum of dout per channel, so its rounding scales with the sum of |dout|, not with a
    # result that may itself cancel to ~0 (a float32 case with F = 1 did)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    channel = 3 if data_format == "NHWC" else 1
    db_terms = np.abs(dout).sum(axis=tuple(a for a in range(4) if a != channel)).max()
    for name, g, r in zip(("out", "dx", "dw", "db"), got, want, strict=True):
        assert g.dtype == dtype, name
        assert g.shape == r.shape, name
        scale = max(np.abs(r).max(), db_terms if name == "db" else 0.0, 1e-300)
        assert np.abs(g - r).max() <= tol * scale, name


# --------------------------------------------------------------------------- PyTorch cross-check
TORCH_GRID = [
    # (n, c, h, w, f, kh, kw, stride, padding)
    (2, 3, 8, 8, 4, 3, 3, 1, 1),
    (2, 3, 8, 8, 4, 3, 3, 1, "same"),
    (2, 3, 8, 8, 4, 4, 4, 1, "same"),          # even kernel: asymmetric SAME padding
    (2, 3, 9, 7, 4, 3, 3, 2, "same"),          # stride 2 SAME, odd sizes
    (2, 2, 9, 10, 3, 2, 3, (2, 1), "same"),    # rectangular kernel and stride
    (3, 2, 7, 9, 5, 3, 2, (1, 3), (2, 1)),
    (2, 4, 10, 10, 3, 5, 5, 3, "valid"),
    (1, 1, 5, 5, 1, 5, 5, 1, 0),               # kernel as large as the input
    (4, 3, 6, 6, 2, 1, 1, 2, 0),               # 1x1 kernel, stride 2
    (2, 3, 6, 6, 2, 2, 2, 4, 0),               # stride larger than the kernel: skipped pixels
    (2, 8, 8, 8, 16, 2, 2, 1, "same"),         # the course's second SIGNS layer
]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", TORCH_GRID, ids=str)
def test_conv2d_matches_pytorch(config, dtype, data_format):
    n, c, h, w, f, kh, kw, stride, padding = config
    rng = np.random.default_rng(abs(hash(str(config))) % 2**32)
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw, dtype)
    out, cache = conv2d(x, wt, b, stride, padding, data_format)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dw, db = conv2d_backward(dout, cache)
    ref = _torch_reference(x, wt, b, stride, padding, data_format, dout)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for name, got, want in zip(("out", "dx", "dw", "db"), (out, dx, dw, db), ref, strict=True):
        assert got.dtype == dtype, name
        assert got.shape == want.shape, name
        scale = max(np.abs(want).max(), 1.0)
        assert np.abs(got - want).max() / scale < tol, name


@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.integers(1, 4),
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
    st.sampled_from([0, 1, (2, 0), (0, 1), "valid", "same"]), st.sampled_from(FORMATS),
    st.sampled_from(DTYPES),
)
def test_conv2d_matches_pytorch_on_random_geometry(n, c, h, w, f, kh, kw, sh, sw, padding, data_format,
                                                    dtype):
    pad_h = padding[0] if isinstance(padding, tuple) else (padding if isinstance(padding, int) else 0)
    pad_w = padding[1] if isinstance(padding, tuple) else (padding if isinstance(padding, int) else 0)
    if padding != "same" and (kh > h + 2 * pad_h or kw > w + 2 * pad_w):
        return  # the window does not fit: covered by the error tests
    rng = np.random.default_rng(n * 1000 + c * 100 + h * 10 + w)
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw, dtype)
    out, cache = conv2d(x, wt, b, (sh, sw), padding, data_format)
    dout = rng.standard_normal(out.shape).astype(dtype)
    got = (out, *conv2d_backward(dout, cache))
    ref = _torch_reference(x, wt, b, (sh, sw), padding, data_format, dout, in_float64=True)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for g, r in zip(got, ref, strict=True):
        assert g.dtype == dtype
        assert np.abs(g - r).max() / max(np.abs(r).max(), 1.0) < tol


# --------------------------------------------------------------------------- numerical gradients
GRADCHECK_CASES = [
    ("NHWC", (2, 5, 5, 2), 3, (3, 3), 1, 1),
    ("NHWC", (2, 7, 6, 2), 2, (3, 3), 2, "same"),
    ("NHWC", (1, 6, 7, 3), 2, (2, 3), (2, 1), "same"),
    ("NHWC", (2, 4, 4, 2), 2, (2, 2), 1, "same"),
    ("NCHW", (2, 2, 6, 5), 3, (3, 2), (1, 2), (1, 0)),
    ("NCHW", (1, 3, 7, 7), 2, (3, 3), 2, "same"),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=str)
def test_conv2d_backward_matches_numerical_gradients(case):
    data_format, x_shape, f, (kh, kw), stride, padding = case
    rng = np.random.default_rng(7)
    if data_format == "NHWC":
        n, h, w, c = x_shape
    else:
        n, c, h, w = x_shape
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw)
    out, cache = conv2d(x, wt, b, stride, padding, data_format)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    num_dx, num_dw, num_db = numerical_gradients(
        lambda: conv2d(x, wt, b, stride, padding, data_format)[0], [x, wt, b], dout
    )
    assert rel_error(dx, num_dx) < 1e-7
    assert rel_error(dw, num_dw) < 1e-7
    assert rel_error(db, num_db) < 1e-7


# --------------------------------------------------------------------------- options
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("channels", [2, 3])
def test_need_dx_false_skips_dx_and_keeps_dw_db(data_format, channels, rng):
    x, wt, b = _make(rng, data_format, 3, channels, 6, 6, 4, 3, 3)
    out, cache = conv2d(x, wt, b, 1, "same", data_format)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    out2, cache2 = conv2d(x, wt, b, 1, "same", data_format, need_dx=False)
    dx2, dw2, db2 = conv2d_backward(dout, cache2)
    assert dx is not None and dx2 is None
    if type(cache) is type(cache2):  # the same kernels: the same bits
        np.testing.assert_array_equal(out, out2)
        np.testing.assert_array_equal(dw, dw2)
        np.testing.assert_array_equal(db, db2)
    else:  # compiled kernels: 1-2 input channels with dx run NumPy's, without dx the compiled ones
        assert channels <= 2
        for got, want in ((out2, out), (dw2, dw), (db2, db)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", FORMATS)
def test_no_bias_gives_db_none(data_format, rng):
    x, wt, b = _make(rng, data_format, 2, 2, 5, 5, 3, 3, 3)
    out, cache = conv2d(x, wt, None, 1, 1, data_format)
    out_b, _ = conv2d(x, wt, b, 1, 1, data_format)
    bias = b if data_format == "NHWC" else b[:, None, None]
    np.testing.assert_allclose(out + bias, out_b, rtol=1e-12, atol=1e-12)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert db is None and dx.shape == x.shape and dw.shape == wt.shape


def _count_im2col_calls(monkeypatch):
    calls = []
    real = conv_module.im2col

    def counting(*args, **kwargs):
        calls.append(args[0].shape[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(conv_module, "im2col", counting)
    return calls


@pytest.mark.usefixtures("numpy_kernels")  # tests of the NumPy implementation's internals
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("need_dx", [True, False])
def test_tiny_workspace_chunks_the_batch_with_identical_results(data_format, need_dx, rng, monkeypatch):
    x, wt, b = _make(rng, data_format, 7, 3, 9, 8, 4, 3, 2)
    calls = _count_im2col_calls(monkeypatch)
    out, cache = conv2d(x, wt, b, (2, 1), "same", data_format, need_dx=need_dx)
    dout = rng.standard_normal(out.shape)
    grads = conv2d_backward(dout, cache)
    assert calls == [7, 7]  # one chunk forward, one backward
    for limit in (1, 20000, 40000):  # one sample per chunk, then uneven chunks
        calls.clear()
        out_c, cache_c = conv2d(x, wt, b, (2, 1), "same", data_format, need_dx=need_dx,
                                workspace_bytes=limit)
        grads_c = conv2d_backward(dout, cache_c)
        assert sum(calls) == 14 and len(calls) > 2
        assert max(calls) == 1 if limit == 1 else max(calls) > 1
        np.testing.assert_array_equal(out_c, out)
        for g, g_c in zip(grads, grads_c, strict=True):
            if g is None:
                assert g_c is None
            else:  # dW sums over chunks in another order: equal up to rounding
                np.testing.assert_allclose(g_c, g, rtol=1e-13, atol=1e-13)

@pytest.mark.usefixtures("numpy_kernels")  # tests of the NumPy implementation's internals

def test_global_workspace_limit_is_used_and_restorable(rng, monkeypatch):
    old = get_workspace_limit()
    assert old == 256 * 2**20
    x, wt, b = _make(rng, "NHWC", 4, 2, 5, 5, 3, 3, 3)
    calls = _count_im2col_calls(monkeypatch)
    try:
        set_workspace_limit(10)
        assert get_workspace_limit() == 10
        _, cache = conv2d(x, wt, b, 1, 1)
        assert calls == [1, 1, 1, 1] and cache.workspace_bytes == 10
    finally:
        set_workspace_limit(old)
    calls.clear()
    conv2d(x, wt, b, 1, 1)
    assert calls == [4]
    with pytest.raises(ValueError, match="workspace limit"):
        set_workspace_limit(0)
    with pytest.raises(TypeError, match="workspace limit"):
        set_workspace_limit(1.5)


@pytest.mark.usefixtures("numpy_kernels")  # tests of the NumPy implementation's internals
@pytest.mark.parametrize("internal", [NHWC, NCHW], ids=["internal NHWC", "internal NCHW"])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_both_internal_layouts_match_pytorch(internal, data_format, dtype, rng, monkeypatch):
    """The column buffer may be built in either layout, whatever the caller's layout."""
    monkeypatch.setattr(conv_module, "choose_internal_layout", lambda *args: internal)
    for stride, padding in ((1, "same"), ((2, 1), (1, 0)), (2, "valid")):
        x, wt, b = _make(rng, data_format, 3, 3, 7, 8, 4, 3, 2, dtype)
        out, cache = conv2d(x, wt, b, stride, padding, data_format, workspace_bytes=3000)
        assert cache.geometry.internal == internal
        dout = rng.standard_normal(out.shape).astype(dtype)
        got = (out, *conv2d_backward(dout, cache))
        ref = _torch_reference(x, wt, b, stride, padding, data_format, dout, in_float64=True)
        tol = 1e-10 if dtype == np.float64 else 1e-4
        for g, r in zip(got, ref, strict=True):
            assert g.dtype == dtype and g.shape == r.shape
            assert np.abs(g - r).max() / max(np.abs(r).max(), 1.0) < tol


@pytest.mark.usefixtures("numpy_kernels")  # tests of the NumPy implementation's internals
@pytest.mark.parametrize("by_convolution", [True, False], ids=["dx by convolution", "dx by col2im"])
@pytest.mark.parametrize("data_format", FORMATS)
def test_both_dx_methods_match_pytorch(by_convolution, data_format, rng, monkeypatch):
    """Stride-1 dx as a convolution with the flipped filters, or by col2im: same numbers."""
    monkeypatch.setattr(conv_module, "DX_BY_CONVOLUTION", by_convolution)
    monkeypatch.setattr(conv_module, "DX_BY_CONVOLUTION_MIN_CHANNELS", 1)
    calls = _count_im2col_calls(monkeypatch)
    for kh, kw, padding in ((3, 3, 1), (4, 4, "same"), (2, 3, (1, 0)), (3, 2, "valid"), (1, 1, 1)):
        x, wt, b = _make(rng, data_format, 2, 3, 6, 7, 4, kh, kw)
        out, cache = conv2d(x, wt, b, 1, padding, data_format, workspace_bytes=2000)
        dout = rng.standard_normal(out.shape)
        calls.clear()
        got = (out, *conv2d_backward(dout, cache))
        # im2col runs on x (for dW) and, for dx by convolution, on dout; (1, 1, 1) pads more than
        # k - 1 and always falls back to col2im
        assert (sum(calls) == 4) == (by_convolution and kh > 1), (kh, kw, padding, calls)
        ref = _torch_reference(x, wt, b, 1, padding, data_format, dout)
        for g, r in zip(got, ref, strict=True):
            assert np.abs(g - r).max() / max(np.abs(r).max(), 1.0) < 1e-10


def test_internal_layout_follows_the_longer_copy_run():
    assert choose_internal_layout(3, 64, 1) == NCHW      # RGB image: rows are longer than channels
    assert choose_internal_layout(64, 32, 1) == NHWC     # deep feature map
    assert choose_internal_layout(3, 64, 2) == NHWC      # strided: NCHW copies single numbers


@pytest.mark.parametrize("data_format", FORMATS)
def test_float32_stays_float32_everywhere(data_format, rng):
    x, wt, b = _make(rng, data_format, 2, 3, 6, 6, 4, 3, 3, np.float32)
    out, cache = conv2d(x, wt, b, 2, "same", data_format, workspace_bytes=100)
    assert out.dtype == np.float32
    grads = conv2d_backward(np.ones_like(out), cache)
    assert all(g.dtype == np.float32 for g in grads)


def test_non_contiguous_inputs(rng):
    x, wt, b = _make(rng, "NCHW", 2, 3, 7, 6, 4, 3, 3)
    x_f, w_f = np.asfortranarray(x), np.asfortranarray(wt)
    out, cache = conv2d(x_f, w_f, b, 1, 0, "NCHW")
    dout = rng.standard_normal(out.shape)
    ref, ref_cache = conv2d(x, wt, b, 1, 0, "NCHW")
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-13)
    for g, r in zip(conv2d_backward(np.asfortranarray(dout), cache), conv2d_backward(dout, ref_cache),
                    strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------- errors
def _ok(**kw):
    rng = np.random.default_rng(0)
    args = dict(x=rng.standard_normal((2, 5, 5, 3)), w=rng.standard_normal((3, 3, 3, 4)),
                b=rng.standard_normal(4))
    args.update(kw)
    return args


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (_ok(x=np.zeros((5, 5, 3))), ValueError, r"x must be a 4-D array \(N, H, W, C_in\), got shape"),
        (_ok(w=np.zeros((3, 3, 3))), ValueError, r"w must be a 4-D array \(kh, kw, C_in, C_out\)"),
        (_ok(w=np.zeros((3, 3, 2, 4))), ValueError, r"w must have C_in = 3 .* got .* C_in = 2"),
        (_ok(b=np.zeros(3)), ValueError, r"b must have shape \(4,\).*got \(3,\)"),
        (_ok(b=np.zeros((1, 1, 1, 4))), ValueError, r"b must be a 1-D array"),
        (_ok(x=[[1.0]]), TypeError, "x must be a numpy.ndarray"),
        (_ok(x=np.zeros((2, 5, 5, 3), dtype=np.int64)), TypeError, "x must have dtype float32 or float64"),
        (_ok(w=np.zeros((3, 3, 3, 4), dtype=np.float32)), TypeError,
         r"w must have the same dtype as x \(float64\), got float32"),
        (_ok(b=np.zeros(4, dtype=np.float32)), TypeError, "b must have the same dtype as x"),
        (_ok(stride=0), ValueError, "stride must be >= 1, got 0"),
        (_ok(stride=(1, 0)), ValueError, r"stride\[1\] must be >= 1, got 0"),
        (_ok(stride=1.5), TypeError, "stride must be an integer"),
        (_ok(padding=-1), ValueError, "padding must be >= 0, got -1"),
        (_ok(padding="full"), ValueError, "padding must be one of 'valid', 'same'; got 'full'"),
        (_ok(padding=(1, 2, 3)), ValueError, "padding must be an int or a pair"),
        (_ok(w=np.zeros((6, 3, 3, 4))), ValueError, "window of height 6 does not fit"),
        (_ok(w=np.zeros((3, 7, 3, 4)), padding=(0, 0)), ValueError, "window of width 7 does not fit"),
        (_ok(data_format="NCWH"), ValueError, "data_format must be one of 'NHWC', 'NCHW'; got 'NCWH'"),
        (_ok(need_dx="yes"), TypeError, "need_dx must be a bool"),
        (_ok(workspace_bytes=0), ValueError, "workspace_bytes must be >= 1"),
        (_ok(x=np.zeros((0, 5, 5, 3))), ValueError, "must not have zero-length axes"),
    ],
)
def test_conv2d_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(**kwargs)


def test_nchw_errors_name_the_nchw_layout(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"w must be a 4-D array \(C_out, C_in, kh, kw\)"):
        conv2d(x, np.zeros((4, 3, 3)), data_format="NCHW")
    with pytest.raises(ValueError, match=r"w must have C_in = 3 .* got w of shape \(4, 2, 3, 3\)"):
        conv2d(x, np.zeros((4, 2, 3, 3)), data_format="NCHW")


def test_conv2d_backward_rejects_bad_dout_and_cache(rng):
    x, wt, b = _make(rng, "NHWC", 2, 3, 5, 5, 4, 3, 3)
    out, cache = conv2d(x, wt, b, 1, 1)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 5, 5, 4\), got"):
        conv2d_backward(np.zeros((2, 5, 5, 3)), cache)
    with pytest.raises(ValueError, match="dout must be a 4-D array"):
        conv2d_backward(np.zeros((2, 5, 5)), cache)
    with pytest.raises(TypeError, match=r"dout must have the same dtype as x \(float64\), got float32"):
        conv2d_backward(out.astype(np.float32), cache)
    with pytest.raises(TypeError, match="dout must be a numpy.ndarray"):
        conv2d_backward(out.tolist(), cache)
    with pytest.raises(TypeError, match="cache must be the ConvCache returned by conv2d, got dict"):
        conv2d_backward(out, {"x": x})


def test_blas_threads_reads_the_standard_variables(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert conv_module.blas_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert conv_module.blas_threads() == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert conv_module.blas_threads() == 2
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "garbage")
    assert conv_module.blas_threads() == 3

@pytest.mark.usefixtures("numpy_kernels")  # tests of the NumPy implementation's internals

def test_chunks_scale_with_blas_threads(monkeypatch, rng):
    monkeypatch.setattr(conv_module, "CHUNK_TARGET_BYTES_PER_THREAD", 4000)
    calls = _count_im2col_calls(monkeypatch)
    x, wt, b = _make(rng, "NHWC", 8, 2, 5, 5, 3, 3, 3)  # forward: (450 + 98) x 8 bytes per sample
    for threads, chunk in (("1", 1), ("4", 3)):
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", threads)
        calls.clear()
        conv2d(x, wt, b, 1, 1)
        assert calls[0] == chunk
