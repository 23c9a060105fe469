"""Tests of deepstep.nn.functional.pool2d / pool2d_backward."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.course import cnn, cs231n
from deepstep.gradcheck import eval_numerical_gradient_array, rel_error
from deepstep.nn.functional import pool2d, pool2d_backward
from deepstep.nn.functional._params import resolve_padding

# --------------------------------------------------------------------------- helpers


def distinct_values(rng: np.random.Generator, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """Values with no ties (pairwise gaps 1/16), so max-pool is differentiable everywhere.

    They are binary fractions, so window sums are exact: no cancellation noise near 0.
    """
    n = int(np.prod(shape))
    return ((rng.permutation(n).reshape(shape) - n // 2) / 16 + 1 / 32).astype(dtype)


def to_layout(x_nhwc: np.ndarray, data_format: str) -> np.ndarray:
    return x_nhwc if data_format == "NHWC" else np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))


def to_nhwc(a: np.ndarray, data_format: str) -> np.ndarray:
    return a if data_format == "NHWC" else a.transpose(0, 2, 3, 1)


def loop_pool(x, pool, stride, pads, mode, dout):
    """Independent loop reference (NHWC): forward and backward with explicit pads.

    Max: padding is -inf, gradient to the first maximum in row-major order.
    Average: mean over the real pixels of each window.
    """
    n, h, w, c = x.shape
    kh, kw = pool
    sh, sw = stride
    top, bottom, left, right = pads
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    out = np.zeros((n, oh, ow, c))
    dx = np.zeros(x.shape)
    for b, i, j, ch in itertools.product(range(n), range(oh), range(ow), range(c)):
        r0, c0 = i * sh - top, j * sw - left
        rows = [r for r in range(r0, r0 + kh) if 0 <= r < h]
        cols = [q for q in range(c0, c0 + kw) if 0 <= q < w]
        if mode == "max":
            best, arg = -np.inf, None
            for r in rows:
                for q in cols:
                    if x[b, r, q, ch] > best:
                        best, arg = x[b, r, q, ch], (r, q)
            out[b, i, j, ch] = best
            dx[b, arg[0], arg[1], ch] += dout[b, i, j, ch]
        else:
            cnt = len(rows) * len(cols)
            out[b, i, j, ch] = sum(x[b, r, q, ch] for r in rows for q in cols) / cnt
            for r in rows:
                for q in cols:
                    dx[b, r, q, ch] += dout[b, i, j, ch] / cnt
    return out, dx


def run_pool(x, pool, stride, padding, mode, data_format, dout=None):
    out, cache = pool2d(x, pool, stride, padding, mode, data_format)
    if dout is None:
        dout = np.ones_like(out)
    return out, pool2d_backward(dout, cache)


@st.composite
def pool_configs(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
    padding = draw(st.sampled_from(["valid", "same", 0, 1, (0, 1), (1, 0)]))
    if not isinstance(padding, str):
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        if ph >= kh or pw >= kw:  # each side's padding must be smaller than the window
            padding = "valid"
    mode = draw(st.sampled_from(["max", "average"]))
    data_format = draw(st.sampled_from(["NHWC", "NCHW"]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return (n, h, w, c), (kh, kw), (sh, sw), padding, mode, data_format, seed


# --------------------------------------------------------------------------- loop references


@given(pool_configs())
def test_matches_loop_reference(config):
    shape, pool, stride, padding, mode, data_format, seed = config
    rng = np.random.default_rng(seed)
    x = distinct_values(rng, shape)
    pads, _ = resolve_padding(padding, shape[1:3], pool, stride)
    out, cache = pool2d(to_layout(x, data_format), pool, stride, padding, mode, data_format)
    dout_nhwc = rng.standard_normal(to_nhwc(out, data_format).shape)
    dx = pool2d_backward(to_layout(dout_nhwc, data_format), cache)
    ref_out, ref_dx = loop_pool(x, pool, stride, pads, mode, dout_nhwc)
    assert rel_error(to_nhwc(out, data_format), ref_out) < 1e-10
    assert rel_error(to_nhwc(dx, data_format), ref_dx) < 1e-10


@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 7), st.integers(1, 7), st.integers(1, 3)),
    f=st.integers(1, 3),
    stride=st.integers(1, 3),
    mode=st.sampled_from(["max", "average"]),
    data_format=st.sampled_from(["NHWC", "NCHW"]),
    seed=st.integers(0, 2**16),
)
def test_matches_course_cnn(shape, f, stride, mode, data_format, seed):
    """Square windows, valid padding: the Deep Learning Specialization's loops (tie-free input)."""
    if f > min(shape[1], shape[2]):
        f = min(shape[1], shape[2])
    rng = np.random.default_rng(seed)
    x = distinct_values(rng, shape)
    ref_out, ref_cache = cnn.pool_forward(x, {"f": f, "stride": stride}, mode=mode)
    dout_nhwc = rng.standard_normal(ref_out.shape)
    ref_dx = cnn.pool_backward(dout_nhwc, ref_cache, mode=mode)
    out, cache = pool2d(to_layout(x, data_format), f, stride, "valid", mode, data_format)
    dx = pool2d_backward(to_layout(dout_nhwc, data_format), cache)
    assert rel_error(to_nhwc(out, data_format), ref_out) < 1e-10
    assert rel_error(to_nhwc(dx, data_format), ref_dx) < 1e-10


@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7)),
    pool=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.integers(1, 3),
    ties=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_matches_course_cs231n_max_pool(shape, pool, stride, ties, seed):
    """NCHW max pooling with rectangular windows; CS231n's backward also picks the first maximum,
    so inputs with ties must agree too."""
    pool = (min(pool[0], shape[2]), min(pool[1], shape[3]))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=shape).astype(np.float64) if ties else distinct_values(rng, shape)
    param = {"pool_height": pool[0], "pool_width": pool[1], "stride": stride}
    ref_out, ref_cache = cs231n.max_pool_forward_naive(x, param)
    dout = rng.standard_normal(ref_out.shape)
    ref_dx = cs231n.max_pool_backward_naive(dout, ref_cache)
    out, cache = pool2d(x, pool, stride, "valid", "max", "NCHW")
    dx = pool2d_backward(dout, cache)
    assert rel_error(out, ref_out) < 1e-10
    assert rel_error(dx, ref_dx) < 1e-10


@given(pool_configs())
def test_float32_matches_float64(config):
    shape, pool, stride, padding, mode, data_format, seed = config
    rng = np.random.default_rng(seed)
    x = to_layout(distinct_values(rng, shape), data_format)  # exact in float32 too: same argmax
    out64, dx64 = run_pool(x, pool, stride, padding, mode, data_format)
    out32, dx32 = run_pool(x.astype(np.float32), pool, stride, padding, mode, data_format)
    assert out32.dtype == dx32.dtype == np.float32
    assert out64.dtype == dx64.dtype == np.float64
    assert dx32.shape == x.shape
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx32, dx64, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- numerical gradients

GRAD_CASES = [
    # pool, stride, padding
    ((2, 2), (2, 2), "valid"),
    ((3, 3), (1, 1), "valid"),      # overlapping
    ((3, 2), (2, 1), "same"),       # overlapping, rectangular, padded
    ((3, 3), (2, 2), "same"),
    ((2, 3), (3, 2), 1),            # gaps between windows, explicit padding
    ((3, 3), (1, 2), (1, 2)),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "stride", "padding"), GRAD_CASES)
def test_numerical_gradient(pool, stride, padding, mode, data_format, rng):
    x = to_layout(distinct_values(rng, (2, 6, 7, 2)), data_format)
    out, cache = pool2d(x, pool, stride, padding, mode, data_format)
    dout = rng.standard_normal(out.shape)
    dx = pool2d_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda v: pool2d(v, pool, stride, padding, mode, data_format)[0],
                                        x, dout)
    assert rel_error(dx, num) < 1e-7


# --------------------------------------------------------------------------- PyTorch


def torch_pool(torch, x_nchw, pool, stride, pads, mode):
    """PyTorch reference with explicit (possibly asymmetric) padding: -inf for max,
    padding excluded from the average's divisor (sum over the window / real-pixel count)."""
    functional = torch.nn.functional
    top, bottom, left, right = pads
    xt = torch.tensor(x_nchw, requires_grad=True)
    if mode == "max":
        padded = functional.pad(xt, (left, right, top, bottom), value=-float("inf"))
        out = functional.max_pool2d(padded, pool, stride)
    elif top == bottom and left == right and 2 * top <= pool[0] and 2 * left <= pool[1]:
        out = functional.avg_pool2d(xt, pool, stride, padding=(top, left), count_include_pad=False)
    else:
        padded = functional.pad(xt, (left, right, top, bottom))
        ones = functional.pad(torch.ones_like(xt), (left, right, top, bottom))
        out = (functional.avg_pool2d(padded, pool, stride, divisor_override=1)
               / functional.avg_pool2d(ones, pool, stride, divisor_override=1))
    return xt, out


TORCH_GRID = list(itertools.product(
    [(2, 2), (3, 3), (2, 3)],                      # pool
    [None, 1, (2, 1)],                             # stride (None: = pool)
    ["valid", "same", 1],                          # padding
    ["max", "average"],
))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_matches_torch(dtype, data_format, rng):
    torch = pytest.importorskip("torch")
    tol = 1e-10 if dtype == np.float64 else 1e-4
    checked = 0
    for pool, stride, padding, mode in TORCH_GRID:
        x_nhwc = rng.standard_normal((2, 7, 8, 3)).astype(dtype)
        stride_hw = pool if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
        pads, _ = resolve_padding(padding, (7, 8), pool, stride_hw)
        if max(pads[:2]) >= pool[0] or max(pads[2:]) >= pool[1]:
            continue
        out, cache = pool2d(to_layout(x_nhwc, data_format), pool, stride, padding, mode, data_format)
        xt, out_t = torch_pool(torch, np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), pool, stride_hw,
                               pads, mode)
        dout_nchw = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
        out_t.backward(torch.tensor(dout_nchw))
        dout = dout_nchw if data_format == "NCHW" else np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1))
        dx = pool2d_backward(dout, cache)
        assert out.dtype == dx.dtype == dtype
        assert rel_error(to_nhwc(out, data_format), out_t.detach().numpy().transpose(0, 2, 3, 1)) < tol
        assert rel_error(to_nhwc(dx, data_format), xt.grad.numpy().transpose(0, 2, 3, 1)) < tol
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "stride"), [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((2, 3), (1, 2))])
def test_ties_match_torch(pool, stride, data_format, rng):
    torch = pytest.importorskip("torch")
    x_nhwc = rng.integers(0, 3, size=(2, 6, 7, 3)).astype(np.float64)  # many ties
    out, cache = pool2d(to_layout(x_nhwc, data_format), pool, stride, "valid", "max", data_format)
    xt = torch.tensor(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, pool, stride)
    dout_nchw = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout_nchw))
    dout = dout_nchw if data_format == "NCHW" else np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1))
    dx = pool2d_backward(dout, cache)
    np.testing.assert_array_equal(to_nhwc(out, data_format), out_t.detach().numpy().transpose(0, 2, 3, 1))
    np.testing.assert_allclose(to_nhwc(dx, data_format), xt.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("channels", [3, 16])
@pytest.mark.parametrize(("pool", "padding"), [((2, 2), "valid"), ((3, 16), "same"), ((2, 17), "valid")])
@pytest.mark.parametrize("ties", [False, True])
def test_tiled_paths_match_torch(pool, padding, channels, ties, data_format, rng):
    """stride == pool_size has its own kernels (6-D view for long inner axes, row by row otherwise)."""
    torch = pytest.importorskip("torch")
    shape = (2, 5, 34, channels)
    x_nhwc = rng.integers(0, 3, size=shape).astype(np.float64) if ties else distinct_values(rng, shape)
    out, cache = pool2d(to_layout(x_nhwc, data_format), pool, padding=padding, data_format=data_format)
    pads, _ = resolve_padding(padding, shape[1:3], pool, pool)
    xt, out_t = torch_pool(torch, np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), pool, pool, pads, "max")
    dout_nchw = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout_nchw))
    dout = dout_nchw if data_format == "NCHW" else np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1))
    dx = pool2d_backward(dout, cache)
    np.testing.assert_array_equal(to_nhwc(out, data_format), out_t.detach().numpy().transpose(0, 2, 3, 1))
    np.testing.assert_allclose(to_nhwc(dx, data_format), xt.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("chunk_bytes", [1, 2000])  # 1 or 2 samples per chunk
@pytest.mark.parametrize("channels", [3, 16])  # NHWC: row-by-row path, 6-D path
def test_tiled_backward_in_batch_chunks(chunk_bytes, channels, data_format, rng, monkeypatch):
    """The tiled max backward works on a few samples at a time: ties in any chunk."""
    torch = pytest.importorskip("torch")
    import deepstep.nn.functional.pool as pool_module

    monkeypatch.setattr(pool_module, "_CHUNK_BYTES", chunk_bytes)
    x_nhwc = rng.integers(0, 2, size=(5, 6, 8, channels)).astype(np.float64)
    x_nhwc[:2] = distinct_values(rng, (2, 6, 8, channels))  # the first samples tie-free, the others not
    out, cache = pool2d(to_layout(x_nhwc, data_format), (3, 2), data_format=data_format)
    xt = torch.tensor(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, (3, 2))
    dout_nchw = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout_nchw))
    dout = dout_nchw if data_format == "NCHW" else np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1))
    dx = pool2d_backward(dout, cache)
    np.testing.assert_allclose(to_nhwc(dx, data_format), xt.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "stride", "padding", "mode"), [
    ((3, 3), (2, 1), "same", "max"), ((2, 3), (2, 3), "same", "max"), ((3, 2), (1, 2), 1, "average"),
    ((2, 2), (2, 2), "valid", "average"),
])
def test_every_path_in_batch_chunks(pool, stride, padding, mode, data_format, rng, monkeypatch):
    """Forward and backward of every path give the loop reference's result one sample at a time."""
    import deepstep.nn.functional.pool as pool_module

    monkeypatch.setattr(pool_module, "_CHUNK_BYTES", 1)
    x = distinct_values(rng, (3, 5, 7, 2))
    pads, _ = resolve_padding(padding, (5, 7), pool, stride)
    out, cache = pool2d(to_layout(x, data_format), pool, stride, padding, mode, data_format)
    dout_nhwc = rng.standard_normal(to_nhwc(out, data_format).shape)
    dx = pool2d_backward(to_layout(dout_nhwc, data_format), cache)
    ref_out, ref_dx = loop_pool(x, pool, stride, pads, mode, dout_nhwc)
    assert rel_error(to_nhwc(out, data_format), ref_out) < 1e-10
    assert rel_error(to_nhwc(dx, data_format), ref_dx) < 1e-10


class _NanEmptyNumPy:
    """numpy, except that ``empty`` returns NaN-filled memory (exposes reads of unset elements)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def empty(shape, dtype=float, **kwargs):
        arr = np.empty(shape, dtype=dtype, **kwargs)
        if arr.dtype.kind == "f":
            arr.fill(np.nan)
        return arr


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "stride", "padding"), [
    (3, 1, "valid"), (3, 1, 1), ((2, 3), (2, 3), "valid"), ((2, 3), (2, 3), "same"), (3, 2, "same"),
    ((1, 3), (3, 1), "valid"), ((3, 1), (1, 3), "valid"), (2, 3, "valid"),
])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_no_unset_memory_is_read(pool, stride, padding, mode, data_format, rng, monkeypatch):
    """Buffers made with np.empty are fully written before use on every path (NaN would leak)."""
    import deepstep.nn.functional.pool as pool_module

    monkeypatch.setattr(pool_module, "np", _NanEmptyNumPy())
    x = distinct_values(rng, (2, 6, 6, 3))
    pads, _ = resolve_padding(padding, (6, 6), as_hw(pool), as_hw(stride))
    out, cache = pool2d(to_layout(x, data_format), pool, stride, padding, mode, data_format)
    dout_nhwc = rng.standard_normal(to_nhwc(out, data_format).shape)
    dx = pool2d_backward(to_layout(dout_nhwc, data_format), cache)
    ref_out, ref_dx = loop_pool(x, as_hw(pool), as_hw(stride), pads, mode, dout_nhwc)
    assert rel_error(to_nhwc(out, data_format), ref_out) < 1e-10
    assert rel_error(to_nhwc(dx, data_format), ref_dx) < 1e-10


def as_hw(value):
    return (value, value) if isinstance(value, int) else value


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_ties_one_element_per_window_first_maximum(data_format):
    # 2x2 windows, stride 2: window (0, 0) is all ties; window (0, 1) ties at (0, 1) and (1, 0).
    x_nhwc = np.array([[5.0, 5.0, 1.0, 7.0],
                       [5.0, 5.0, 7.0, 2.0],
                       [0.0, 3.0, 4.0, 4.0],
                       [3.0, 3.0, 4.0, 4.0]])[None, :, :, None]
    x = to_layout(x_nhwc, data_format)
    out, cache = pool2d(x, 2, data_format=data_format)
    dout = to_layout(np.array([[10.0, 20.0], [30.0, 40.0]])[None, :, :, None], data_format)
    dx = to_nhwc(pool2d_backward(dout, cache), data_format)[0, :, :, 0]
    expected = np.array([[10.0, 0.0, 0.0, 20.0],
                         [0.0, 0.0, 0.0, 0.0],
                         [0.0, 30.0, 40.0, 0.0],
                         [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(dx, expected)
    # In general: exactly one nonzero per non-overlapping window, at the first maximum.
    rng = np.random.default_rng(1)
    x_nhwc = rng.integers(0, 2, size=(3, 6, 6, 2)).astype(np.float64)
    out, cache = pool2d(to_layout(x_nhwc, data_format), (2, 3), data_format=data_format)
    dx = to_nhwc(pool2d_backward(np.ones_like(out), cache), data_format)
    windows = dx.reshape(3, 3, 2, 2, 3, 2).transpose(0, 1, 3, 5, 2, 4).reshape(3, 3, 2, 2, 6)
    xwin = x_nhwc.reshape(3, 3, 2, 2, 3, 2).transpose(0, 1, 3, 5, 2, 4).reshape(3, 3, 2, 2, 6)
    assert np.all(np.count_nonzero(windows, axis=-1) == 1)
    np.testing.assert_array_equal(np.argmax(windows, axis=-1), np.argmax(xwin, axis=-1))


# --------------------------------------------------------------------------- behaviour details


def test_same_padding_output_size_and_count_exclusion():
    x = np.ones((1, 5, 5, 1))
    out, _ = pool2d(x, 2, 2, "same", "average")
    assert out.shape == (1, 3, 3, 1)
    np.testing.assert_array_equal(out, np.ones_like(out))  # padding not counted
    out, _ = pool2d(x, 3, 1, 1, "average")
    np.testing.assert_array_equal(out, np.ones((1, 5, 5, 1)))  # integer padding not counted either
    out, _ = pool2d(-x, 3, 1, 1, "max")
    np.testing.assert_array_equal(out, -np.ones((1, 5, 5, 1)))  # -inf padding never selected


def test_stride_defaults_to_pool_size_and_valid_drops_remainder(rng):
    x = rng.standard_normal((1, 7, 9, 2))
    out, _ = pool2d(x, (2, 3))
    assert out.shape == (1, 3, 3, 2)
    np.testing.assert_allclose(out[0, 2, 2], x[0, 4:6, 6:9].max(axis=(0, 1)))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "stride", "padding", "mode"), [
    (2, 2, "valid", "max"), (3, 3, "same", "max"), ((2, 2), (2, 2), "valid", "max"),
    (3, 2, "same", "max"), (3, 1, 1, "average"), (2, 2, "valid", "average"),
])
def test_non_contiguous_input_and_empty_batch(pool, stride, padding, mode, data_format, rng):
    base = to_layout(rng.standard_normal((2, 7, 9, 40)), data_format)  # NHWC: 20 channels, 6-D path
    x = base[:, ::2] if data_format == "NCHW" else base[..., ::2]  # every other channel: a strided view
    assert not x.flags.c_contiguous
    out, cache = pool2d(x, pool, stride, padding, mode, data_format)
    dout = rng.standard_normal(out.shape)
    ref_out, ref_cache = pool2d(np.ascontiguousarray(x), pool, stride, padding, mode, data_format)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(pool2d_backward(dout, cache), pool2d_backward(dout, ref_cache))
    empty = x[:0]
    out, cache = pool2d(empty, pool, stride, padding, mode, data_format)
    assert out.shape == (0,) + ref_out.shape[1:]
    assert pool2d_backward(out, cache).shape == empty.shape


def test_input_not_modified_and_contiguous_output(rng):
    x = rng.standard_normal((2, 6, 6, 3))
    before = x.copy()
    for mode in ("max", "average"):
        out, cache = pool2d(x, 3, 2, "same", mode)
        dx = pool2d_backward(np.ones_like(out), cache)
        assert dx.flags.c_contiguous
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"x": np.ones((2, 4, 4))}, ValueError, r"x must be a 4-D array .*got shape \(2, 4, 4\)"),
    ({"x": np.ones((1, 4, 4, 1), dtype=np.int64)}, TypeError, "x must have dtype float32 or float64"),
    ({"x": [[[[1.0]]]]}, TypeError, "x must be a numpy.ndarray"),
    ({"pool_size": 0}, ValueError, "pool_size must be >= 1, got 0"),
    ({"pool_size": (2, 0)}, ValueError, r"pool_size\[1\] must be >= 1"),
    ({"pool_size": (2, 2, 2)}, ValueError, "pool_size must be an int or a pair"),
    ({"pool_size": 2.0}, TypeError, "pool_size must be an integer"),
    ({"stride": 0}, ValueError, "stride must be >= 1, got 0"),
    ({"stride": (1, -1)}, ValueError, r"stride\[1\] must be >= 1"),
    ({"padding": "full"}, ValueError, "padding must be one of 'valid', 'same'"),
    ({"padding": -1}, ValueError, "padding must be >= 0"),
    ({"padding": 2}, ValueError, r"padding on the top \(2\) must be smaller than the pool window \(2\)"),
    ({"pool_size": 5}, ValueError, "window of height 5 does not fit"),
    ({"pool_size": (1, 6)}, ValueError, "window of width 6 does not fit"),
    ({"mode": "min"}, ValueError, "mode must be one of 'max', 'average'"),
    ({"data_format": "NCWH"}, ValueError, "data_format must be one of 'NHWC', 'NCHW'"),
])
def test_forward_errors(kwargs, exc, match):
    args = {"x": np.ones((1, 4, 5, 1)), "pool_size": 2}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        pool2d(**args)


def test_backward_errors():
    x = np.ones((1, 4, 4, 2))
    out, cache = pool2d(x, 2)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(1, 2, 2, 2\)"):
        pool2d_backward(np.ones((1, 2, 2, 3)), cache)
    with pytest.raises(TypeError, match="dout must have the forward input's dtype float64, got float32"):
        pool2d_backward(out.astype(np.float32), cache)
    with pytest.raises(ValueError, match="dout must be a 4-D array"):
        pool2d_backward(np.ones((2, 2, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the PoolCache returned by pool2d"):
        pool2d_backward(out, (x, 2))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("pool", "channels"), [((8, 8), 8), ((8, 8), 16), ((16, 17), 3)])
def test_tiled_backward_breaks_ties_of_whole_windows_like_torch(pool, channels, data_format, rng):
    """ReLU outputs: whole windows of zeros (a dead channel) and many partial ties. (16, 17) has
    272 offsets per window, more than a uint8 rank can number."""
    torch = pytest.importorskip("torch")
    shape = (3, 2 * pool[0], 2 * pool[1], channels)
    x_nhwc = np.maximum(rng.integers(-2, 3, size=shape), 0).astype(np.float64)
    x_nhwc[..., 0] = 0.0
    out, cache = pool2d(to_layout(x_nhwc, data_format), pool, data_format=data_format)
    xt, out_t = torch_pool(torch, np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), pool, pool,
                           (0, 0, 0, 0), "max")
    dout_nchw = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout_nchw))
    dout = dout_nchw if data_format == "NCHW" else np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1))
    dx = to_nhwc(pool2d_backward(dout, cache), data_format)
    np.testing.assert_array_equal(dx, xt.grad.numpy().transpose(0, 2, 3, 1))
    assert np.count_nonzero(dx) == dout.size  # exactly one element per window


def test_tiled_backward_gives_no_gradient_to_a_window_holding_nan():
    x = np.ones((1, 4, 4, 1))
    x[0, 0, 1, 0] = np.nan
    out, cache = pool2d(x, 2)
    dx = pool2d_backward(np.ones_like(out), cache)
    assert np.isnan(out[0, 0, 0, 0])
    np.testing.assert_array_equal(dx[0, :2, :2, 0], 0.0)
    np.testing.assert_array_equal(dx[0, 2:, 2:, 0], [[1.0, 0.0], [0.0, 0.0]])
