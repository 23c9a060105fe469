"""Dilated convolution (conv2d(..., dilation=d), Conv2D(dilation_rate=d)).

Oracles: the course loops on the equivalent undilated kernel (a dilated kernel is the kernel with
``d - 1`` zeros inserted between its taps, so the loops' forward and dx must agree and the loops' dW,
sampled at the taps, is ours), PyTorch's ``dilation``, and float64 numerical gradients.
"""

from __future__ import annotations

import hypothesis
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.course import cnn as course_cnn
from deepstep.course import cs231n as course_cs231n
from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn.functional import conv as conv_module
from deepstep.nn.functional import conv2d, conv2d_backward
from deepstep.nn.functional._params import resolve_padding
from deepstep.nn.layers import LAYER_CLASSES, Conv2D

FORMATS = ["NHWC", "NCHW"]


def _make(rng, data_format, n, c, h, w, f, kh, kw, dtype=np.float64):
    if data_format == "NHWC":
        x, wt = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, f))
    else:
        x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw))
    return x.astype(dtype), wt.astype(dtype), rng.standard_normal(f).astype(dtype)


def _nchw(x, w, data_format):
    return (x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1)) if data_format == "NHWC" else (x, w)


def _span(kernel, dilation):
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))


def _pads(hw, kernel, dilation, stride, padding):
    pads, _ = resolve_padding(padding, hw, _span(kernel, dilation), (stride, stride))
    return pads


def _course_reference(x, w, b, stride, padding, dilation, data_format, dout):
    """Forward and gradients from the course loops run on the zero-inserted (undilated) kernel.

    NHWC square kernels go through course.cnn (the Coursera API), the rest through course.cs231n
    (NCHW); padding the loops cannot express is applied with np.pad and cropped off dx again.
    """
    dh, dw = dilation
    x_nchw, w_nchw = _nchw(x, w, data_format)
    kh, kw = w_nchw.shape[2:]
    big = np.zeros((*w_nchw.shape[:2], *_span((kh, kw), dilation)))
    big[:, :, ::dh, ::dw] = w_nchw
    top, bottom, left, right = _pads(x_nchw.shape[2:], (kh, kw), dilation, stride, padding)
    dout_nchw = dout.transpose(0, 3, 1, 2) if data_format == "NHWC" else dout
    h, wd = x_nchw.shape[2:]
    if data_format == "NHWC" and big.shape[2] == big.shape[3]:
        x_pad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        out, cache = course_cnn.conv_forward(x_pad, big.transpose(2, 3, 1, 0), b.reshape(1, 1, 1, -1),
                                             {"stride": stride, "pad": 0})
        dx, dbig, db = course_cnn.conv_backward(dout, cache)
        return (out, dx[:, top:top + h, left:left + wd, :], dbig[::dh, ::dw], db.reshape(-1))
    x_pad = np.pad(x_nchw, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out, cache = course_cs231n.conv_forward_naive(x_pad, big, b, {"stride": stride, "pad": 0})
    dx, dbig, db = course_cs231n.conv_backward_naive(dout_nchw, cache)
    dx, dwt = dx[:, :, top:top + h, left:left + wd], dbig[:, :, ::dh, ::dw]
    if data_format == "NHWC":
        out, dx, dwt = out.transpose(0, 2, 3, 1), dx.transpose(0, 2, 3, 1), dwt.transpose(2, 3, 1, 0)
    return out, dx, dwt, db


@st.composite
def dilated_problems(draw):
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh = draw(st.integers(1, 3))
    kw = kh if draw(st.booleans()) else draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.integers(1, 3))
    padding = draw(st.sampled_from([0, 1, 2, (1, 2), "valid", "same"]))
    if isinstance(padding, str):
        ph, pw = 0, 0
    else:
        ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    span = _span((kh, kw), dilation)
    if padding != "same":
        hypothesis.assume(span[0] <= h + 2 * ph and span[1] <= w + 2 * pw)
    data_format = draw(st.sampled_from(FORMATS))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return n, c, h, w, f, kh, kw, stride, padding, dilation, data_format, dtype, draw(st.integers(0, 2**16))


@hypothesis.settings(max_examples=80)
@given(dilated_problems())
def test_dilated_conv2d_matches_the_course_loops_on_the_zero_inserted_kernel(problem):
    n, c, h, w, f, kh, kw, stride, padding, dilation, data_format, dtype, seed = problem
    rng = np.random.default_rng(seed)
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw)
    out64, _ = conv2d(x, wt, b, stride, padding, data_format, dilation=dilation)
    dout = rng.standard_normal(out64.shape)
    want = _course_reference(x, wt, b, stride, padding, dilation, data_format, dout)
    cast = [a.astype(dtype) for a in (x, wt, b, dout)]
    out, cache = conv2d(*cast[:3], stride, padding, data_format, dilation=dilation)
    got = (out, *conv2d_backward(cast[3], cache))
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for name, g, r in zip(("out", "dx", "dw", "db"), got, want, strict=True):
        assert g.dtype == dtype and g.shape == r.shape, name
        assert np.abs(g - r).max() <= tol * max(np.abs(r).max(), 1e-300), name


TORCH_GRID = [
    # (n, c, h, w, f, kh, kw, stride, padding, dilation)
    (2, 3, 9, 9, 4, 3, 3, 1, 2, 2),
    (2, 3, 10, 8, 4, 3, 3, 1, "same", 2),
    (2, 2, 11, 9, 3, 3, 2, 2, 1, (2, 3)),
    (2, 8, 8, 8, 5, 3, 3, 1, "same", 2),       # C_in >= 8, stride 1: dx by the flipped-filter convolution
    (2, 8, 9, 9, 4, 2, 2, 1, 3, (3, 2)),       # padding larger than the dilated span - 1: dx by col2im
    (1, 2, 7, 7, 2, 3, 3, 1, 0, 3),            # the dilated window covers the whole input
]


@pytest.mark.parametrize("dx_by_convolution", [True, False])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", TORCH_GRID, ids=str)
def test_dilated_conv2d_matches_pytorch(config, dtype, data_format, dx_by_convolution, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(conv_module, "DX_BY_CONVOLUTION", dx_by_convolution)
    n, c, h, w, f, kh, kw, stride, padding, dilation = config
    dil = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    rng = np.random.default_rng(abs(hash(str(config))) % 2**32)
    x, wt, b = _make(rng, data_format, n, c, h, w, f, kh, kw, dtype)
    out, cache = conv2d(x, wt, b, stride, padding, data_format, dilation=dilation)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dw, db = conv2d_backward(dout, cache)

    x_nchw, w_nchw = _nchw(x, wt, data_format)
    top, bottom, left, right = _pads((h, w), (kh, kw), dil, stride, padding)
    xt = torch.tensor(np.ascontiguousarray(x_nchw), requires_grad=True)
    wtt = torch.tensor(np.ascontiguousarray(w_nchw), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    tf = torch.nn.functional
    ref = tf.conv2d(tf.pad(xt, (left, right, top, bottom)), wtt, bt, stride=stride, dilation=dil)
    dout_nchw = dout.transpose(0, 3, 1, 2) if data_format == "NHWC" else dout
    ref.backward(torch.tensor(np.ascontiguousarray(dout_nchw)))
    want = [ref.detach().numpy(), xt.grad.numpy(), wtt.grad.numpy(), bt.grad.numpy()]
    if data_format == "NHWC":
        want[0], want[1] = want[0].transpose(0, 2, 3, 1), want[1].transpose(0, 2, 3, 1)
        want[2] = want[2].transpose(2, 3, 1, 0)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for name, g, r in zip(("out", "dx", "dw", "db"), (out, dx, dw, db), want, strict=True):
        assert g.dtype == dtype and g.shape == r.shape, name
        assert np.abs(g - r).max() / max(np.abs(r).max(), 1.0) < tol, name


@pytest.mark.parametrize("case", [
    ("NHWC", (2, 7, 8, 2), (3, 3), 1, "same", (2, 2)),
    ("NCHW", (2, 2, 9, 7), (2, 3), 2, 1, (3, 2)),
    ("NHWC", (1, 8, 8, 8), (3, 3), 1, 2, (2, 2)),  # dx by the flipped-filter convolution
])
def test_dilated_conv2d_backward_matches_numerical_gradients(case):
    data_format, x_shape, (kh, kw), stride, padding, dilation = case
    rng = np.random.default_rng(3)
    n, h, w, c = x_shape if data_format == "NHWC" else (x_shape[0], *x_shape[2:], x_shape[1])
    x, wt, b = _make(rng, data_format, n, c, h, w, 3, kh, kw)
    out, cache = conv2d(x, wt, b, stride, padding, data_format, dilation=dilation)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    num = numerical_gradients(lambda: conv2d(x, wt, b, stride, padding, data_format, dilation=dilation)[0],
                              [x, wt, b], dout)
    for got, want in zip((dx, dw, db), num, strict=True):
        assert rel_error(got, want) < 1e-7


def test_dilation_1_is_the_ordinary_convolution(rng):
    x, wt, b = _make(rng, "NHWC", 2, 3, 6, 6, 4, 3, 3)
    np.testing.assert_array_equal(conv2d(x, wt, b, 1, "same")[0], conv2d(x, wt, b, 1, "same", dilation=1)[0])


@pytest.mark.parametrize("bad", [0, -1, (1, 0), (2, 2, 2)])
def test_bad_dilation_is_rejected_naming_the_argument(bad, rng):
    x, wt, b = _make(rng, "NHWC", 1, 1, 6, 6, 1, 3, 3)
    with pytest.raises(ValueError, match="dilation"):
        conv2d(x, wt, b, dilation=bad)


def test_dilated_window_larger_than_the_input_is_rejected(rng):
    x, wt, b = _make(rng, "NHWC", 1, 1, 4, 4, 1, 3, 3)
    with pytest.raises(ValueError, match="height"):
        conv2d(x, wt, b, dilation=2)  # span 5 > 4


# --------------------------------------------------------------------------- the Conv2D layer
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_layer_dilation_rate_matches_the_kernel(data_format, rng):
    layer = Conv2D(4, 3, padding="same", dilation_rate=(2, 3), data_format=data_format)
    shape = (9, 10, 2) if data_format == "channels_last" else (2, 9, 10)
    layer.build(shape, rng)
    x = rng.standard_normal((2, *shape)).astype(np.float32)
    out, cache = layer.forward(x, training=True)
    assert out.shape[1:] == layer.compute_output_shape(shape)
    w = layer.kernel.value if data_format == "channels_last" else layer.kernel.value.transpose(3, 2, 0, 1)
    fmt = "NHWC" if data_format == "channels_last" else "NCHW"
    want, _ = conv2d(x, w, layer.bias.value, 1, "same", fmt, dilation=(2, 3))
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
    dx = layer.backward(np.ones_like(out), cache)
    assert dx.shape == x.shape


def test_conv2d_layer_valid_output_shape_uses_the_dilated_span():
    layer = Conv2D(2, 3, dilation_rate=2)
    assert layer.compute_output_shape((10, 12, 1)) == (6, 8, 2)  # 10 - 5 + 1, 12 - 5 + 1
    with pytest.raises(ValueError, match="dilation_rate"):
        layer.compute_output_shape((4, 12, 1))


def test_conv2d_layer_dilation_rate_config_round_trip():
    layer = Conv2D(3, (3, 2), dilation_rate=(2, 1), name="dil")
    config = layer.get_config()
    assert config["dilation_rate"] == [2, 1]
    clone = LAYER_CLASSES["Conv2D"].from_config(config)
    assert clone.dilation_rate == (2, 1) and clone.get_config() == config


@pytest.mark.parametrize("bad", [0, (1, -1)])
def test_conv2d_layer_rejects_bad_dilation_rate(bad):
    with pytest.raises(ValueError, match="dilation_rate"):
        Conv2D(2, 3, dilation_rate=bad)
