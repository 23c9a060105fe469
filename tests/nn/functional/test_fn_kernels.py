"""The kernel registry and the compiled Numba kernels, against the NumPy reference and PyTorch.

Every call runs with small shapes: a cold Numba compile (CI's cache is empty) costs tens of
seconds per dtype, paid once per session whatever the shapes.
"""

from __future__ import annotations

import hypothesis
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.gradcheck import numerical_gradients, rel_error
from deepstep.nn import functional as F
from deepstep.nn.functional import _registry
from deepstep.nn.functional._params import resolve_padding

IMPLEMENTATIONS = ["numpy"] + (["numba"] if _registry.numba_installed() else [])
DTYPES = [np.float32, np.float64]
needs_numba = pytest.mark.skipif("numba" not in IMPLEMENTATIONS,
                                 reason="numba is not installed (pip install deepstep[fast])")


@pytest.fixture(autouse=True)
def _restore_kernels():
    before = _registry._state.mode
    yield
    _registry._state.mode = before


def _run_conv(kernels, x, w, b, stride, padding, data_format, dout, activation=None):
    F.set_kernels(kernels)
    out, cache = F.conv2d(x, w, b, stride=stride, padding=padding, data_format=data_format,
                          activation=activation)
    return (out, *F.conv2d_backward(dout, cache)), cache


def _close(got, want, dtype, what):
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for name, g, r in zip(("out", "dx", "dw", "db"), got, want, strict=True):
        if g is None or r is None:
            assert g is r, (what, name)
            continue
        assert g.dtype == r.dtype == dtype, (what, name)
        assert g.shape == r.shape, (what, name)
        assert np.linalg.norm(g - r) <= tol * max(np.linalg.norm(r), 1.0), (what, name)


@st.composite
def conv_problems(draw):
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 19))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same", 0, 1, 2, (1, 2), (3, 0)]))
    try:
        _, out_hw = resolve_padding(padding, (h, w), (kh, kw), stride)
    except ValueError:
        hypothesis.reject()
    data_format = draw(st.sampled_from(["NHWC", "NCHW"]))
    dtype = draw(st.sampled_from(DTYPES))
    activation = draw(st.sampled_from([None, "relu"]))
    return n, c, h, w, f, kh, kw, stride, padding, data_format, dtype, activation, draw(st.integers(0, 999))


@needs_numba
@hypothesis.settings(max_examples=60)
@given(conv_problems())
def test_numba_conv2d_matches_the_numpy_reference(problem):
    n, c, h, w, f, kh, kw, stride, padding, data_format, dtype, activation, seed = problem
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c) if data_format == "NHWC" else (n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((kh, kw, c, f) if data_format == "NHWC" else (f, c, kh, kw)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    F.set_kernels("numpy")
    out_ref, cache_ref = F.conv2d(x, wt, b, stride=stride, padding=padding, data_format=data_format,
                                  activation=activation)
    dout = rng.standard_normal(out_ref.shape).astype(dtype)
    want = (out_ref, *F.conv2d_backward(dout, cache_ref))
    got, cache = _run_conv("numba", x, wt, b, stride, padding, data_format, dout, activation)
    # inputs of 1-2 channels whose dx is wanted run NumPy's kernels (register.SMALL_INPUT_CHANNELS)
    assert type(cache).__module__.endswith("_numba.register" if c > 2 else ".conv")
    _close(got, want, dtype, problem)


@needs_numba
@pytest.mark.parametrize("dtype, filters, window_row",
                         [(np.float32, 8, k) for k in range(1, 13)]
                         + [(np.float64, 8, 5), (np.float64, 5, 12), (np.float32, 16, 5),
                            (np.float32, 13, 9)])
def test_every_written_out_window_row_matches_the_numpy_reference(dtype, filters, window_row):
    from deepstep.nn.functional import _numba_codegen

    # window rows of kw * C <= UNROLLED_ROW_MAX numbers run forward kernels written out for that length
    assert _numba_codegen.forward_kernel(np.dtype(dtype).name, -(-filters // 8) * 8, window_row).endswith(
        f"_k{window_row}")
    kw, c = (window_row, 1) if window_row <= 5 else (1, window_row)
    rng = np.random.default_rng(window_row)
    x = rng.standard_normal((2, 5, 11, c)).astype(dtype)
    w = rng.standard_normal((3, kw, c, filters)).astype(dtype)
    b = rng.standard_normal(filters).astype(dtype)
    # one input channel: stride 1 runs the unit-step variant (a pixel's window one number after its
    # neighbour's), stride 2 the general one
    for stride in (1, 2) if c == 1 else (1,):
        F.set_kernels("numpy")
        out_ref, cache_ref = F.conv2d(x, w, b, stride, padding="same", activation="relu", need_dx=c > 2)
        dout = rng.standard_normal(out_ref.shape).astype(dtype)
        want = (out_ref, *F.conv2d_backward(dout, cache_ref))
        F.set_kernels("numba")
        out, cache = F.conv2d(x, w, b, stride, padding="same", activation="relu", need_dx=c > 2)
        assert type(cache).__module__.endswith("_numba.register")  # the compiled kernels ran
        got = (out, *F.conv2d_backward(dout, cache))
        _close(got, want, dtype, (dtype, filters, window_row, stride))


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kh, padding, stride", [(3, (4, 1), 1), (5, (3, 2), 1), (4, (3, 0), 2)])
def test_zero_frames_are_reused_and_taps_on_zero_rows_skipped_without_changing_results(dtype, kh, padding,
                                                                                      stride, monkeypatch):
    from deepstep.nn.functional._numba import conv as nconv

    # Padding rows deeper than the window (4 > 3): some output rows see only zeros (no tap runs), others
    # part of the window. Three steps on new data with the same shapes: from the second on, the padded
    # copies reuse frames whose zeros are kept, and only the data is copied into them.
    reused = []
    take = nconv.BUFFERS.take

    def spy(shape, dtype_, layout=None):
        arr, again = take(shape, dtype_, layout)
        reused.append(again)
        return arr, again

    nconv.BUFFERS.clear()
    monkeypatch.setattr(nconv.BUFFERS, "take", spy)
    rng = np.random.default_rng(kh)
    w = rng.standard_normal((kh, 3, 9, 16)).astype(dtype)
    b = rng.standard_normal(16).astype(dtype)
    for step in range(3):
        x = rng.standard_normal((3, 6, 7, 9)).astype(dtype)
        F.set_kernels("numpy")
        out_ref, cache_ref = F.conv2d(x, w, b, stride=stride, padding=padding, activation="relu")
        dout = rng.standard_normal(out_ref.shape).astype(dtype)
        want = (out_ref, *F.conv2d_backward(dout, cache_ref))
        got, cache = _run_conv("numba", x, w, b, stride, padding, "NHWC", dout, "relu")
        assert type(cache).__module__.endswith("_numba.register")
        _close(got, want, dtype, (step, kh, padding, stride))
        assert any(reused) == (step > 0), reused
        reused.clear()


@needs_numba
def test_a_frame_is_reused_only_for_the_layout_it_was_taken_for():
    from deepstep.nn.functional._numba import conv as nconv

    pool = nconv._BufferPool()
    frame, again = pool.take((2, 5, 6, 8), np.float32, (1, 1, 3, 4, 8))
    assert not again
    pool.put(frame, (1, 1, 3, 4, 8))
    assert not pool.take((2, 5, 6, 8), np.float32, (0, 1, 3, 4, 8))[1]  # data elsewhere: its zeros differ
    assert not pool.take((2, 5, 6, 8), np.float32)[1]  # a plain buffer
    assert not pool.take((2, 5, 6, 8), np.float64, (1, 1, 3, 4, 8))[1]
    got, again = pool.take((2, 5, 6, 8), np.float32, (1, 1, 3, 4, 8))
    assert again and got is frame


@needs_numba
@pytest.mark.parametrize("wide_registers", [False, True])
@pytest.mark.parametrize("c, f, k", [(8, 16, 5), (3, 32, 3), (5, 16, 2), (4, 48, 3)])
def test_dw_blocks_of_16_channels_match_the_reference_with_either_register_file(wide_registers, c, f, k,
                                                                                monkeypatch):
    from deepstep.nn.functional import _numba_codegen
    from deepstep.nn.functional._numba import conv as nconv

    # float32 with 16k output channels: dW blocks of 4 rows (AVX2) or 8 rows (AVX-512) x 16 channels
    monkeypatch.setattr(nconv, "wide_registers", lambda: wide_registers)
    assert _numba_codegen.weight_grad_block("float32", k * c, f, wide_registers)[1] == 16
    rng = np.random.default_rng(c * f)
    x = rng.standard_normal((3, 7, 9, c)).astype(np.float32)
    w = rng.standard_normal((k, k, c, f)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    F.set_kernels("numpy")
    out_ref, cache_ref = F.conv2d(x, w, b, padding="same", activation="relu")
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    want = (out_ref, *F.conv2d_backward(dout, cache_ref))
    got, cache = _run_conv("numba", x, w, b, 1, "same", "NHWC", dout, "relu")
    assert type(cache).__module__.endswith("_numba.register")
    _close(got, want, np.float32, (wide_registers, c, f, k))


@needs_numba
@pytest.mark.parametrize("channels, need_dx, compiled", [(1, True, False), (2, True, False), (1, False, True),
                                                         (2, False, True), (3, True, True)])
def test_inputs_of_one_or_two_channels_whose_dx_is_wanted_run_on_numpy(channels, need_dx, compiled):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 6, channels))
    w = rng.standard_normal((3, 3, channels, 4))
    F.set_kernels("numba")
    out, cache = F.conv2d(x, w, padding="same", need_dx=need_dx)
    assert type(cache).__module__.endswith("_numba.register") == compiled
    dx, dw, _ = F.conv2d_backward(np.ones_like(out), cache)
    F.set_kernels("numpy")
    out_ref, cache_ref = F.conv2d(x, w, padding="same", need_dx=need_dx)
    dx_ref, dw_ref, _ = F.conv2d_backward(np.ones_like(out_ref), cache_ref)
    np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-12)
    assert (dx is None) == (not need_dx)


@pytest.mark.parametrize("kernels", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_matches_pytorch(kernels, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 8, 5)).astype(dtype)
    w = rng.standard_normal((3, 2, 5, 11)).astype(dtype)
    b = rng.standard_normal(11).astype(dtype)
    (top, bottom, left, right), out_hw = resolve_padding("same", (9, 8), (3, 2), (2, 1))
    dout = rng.standard_normal((2, *out_hw, 11)).astype(dtype)
    got, _ = _run_conv(kernels, x, w, b, (2, 1), "same", "NHWC", dout)
    tf = torch.nn.functional
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    wt = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    out = tf.conv2d(tf.pad(xt, (left, right, top, bottom)), wt, bt, stride=(2, 1))
    out.backward(torch.tensor(dout.transpose(0, 3, 1, 2).copy()))
    want = (out.detach().numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1),
            wt.grad.numpy().transpose(2, 3, 1, 0), bt.grad.numpy())
    _close(got, want, dtype, kernels)


@pytest.mark.parametrize("kernels", IMPLEMENTATIONS)
@pytest.mark.parametrize("stride, padding, activation",
                         [(1, "same", "relu"), (2, 1, None), ((1, 3), 0, "relu")])
def test_conv2d_gradients_are_numerically_right(kernels, stride, padding, activation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 7, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal(4)
    F.set_kernels(kernels)
    out, cache = F.conv2d(x, w, b, stride=stride, padding=padding, activation=activation)
    assert np.abs(out[out != 0]).min() > 1e-4  # this seed keeps the finite differences off the ReLU kink
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)

    def f():
        return F.conv2d(x, w, b, stride=stride, padding=padding, activation=activation)[0]

    nx, nw, nb = numerical_gradients(f, [x, w, b], dout)
    assert rel_error(dx, nx) < 1e-6
    assert rel_error(dw, nw) < 1e-6
    assert rel_error(db, nb) < 1e-6


@st.composite
def pool_problems(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 9))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    pool = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = draw(st.sampled_from(["valid", "same", 0, 1]))
    mode = draw(st.sampled_from(["max", "average"]))
    try:
        pads, _ = resolve_padding(padding, (h, w), pool, stride)
    except ValueError:
        hypothesis.reject()
    hypothesis.assume(max(pads[:2]) < pool[0] and max(pads[2:]) < pool[1])
    data_format = draw(st.sampled_from(["NHWC", "NCHW"]))
    dtype = draw(st.sampled_from(DTYPES))
    ties = draw(st.booleans())
    return n, c, h, w, pool, stride, padding, mode, data_format, dtype, ties, draw(st.integers(0, 999))


@needs_numba
@hypothesis.settings(max_examples=60)
@given(pool_problems())
def test_numba_pool2d_matches_the_numpy_reference(problem):
    n, c, h, w, pool, stride, padding, mode, data_format, dtype, ties, seed = problem
    rng = np.random.default_rng(seed)
    shape = (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)
    # ties: few distinct values, so windows hold several maxima (the first one gets the gradient)
    x = (rng.integers(0, 3, shape) if ties else rng.standard_normal(shape)).astype(dtype)
    results = []
    for kernels in ("numpy", "numba"):
        F.set_kernels(kernels)
        out, cache = F.pool2d(x, pool, stride, padding, mode, data_format)
        if not results:
            dout = rng.standard_normal(out.shape).astype(dtype)
        results.append((out, F.pool2d_backward(dout, cache)))
    (out_ref, dx_ref), (out, dx) = results
    assert out.dtype == dx.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    if mode == "max":  # the same maxima; the gradient in the same places (sums may be reordered)
        np.testing.assert_array_equal(out, out_ref)
        np.testing.assert_array_equal(dx != 0, dx_ref != 0)
        np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)
    else:
        np.testing.assert_allclose(out, out_ref, rtol=tol, atol=tol)
        np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_results_do_not_depend_on_the_thread_count(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((19, 10, 9, 5)).astype(dtype)
    w = rng.standard_normal((3, 3, 5, 12)).astype(dtype)
    b = rng.standard_normal(12).astype(dtype)
    dout = rng.standard_normal((19, 5, 5, 12)).astype(dtype)
    from deepstep.nn.functional._numba import _load
    from deepstep.nn.functional._numba import conv as nconv
    from deepstep.nn.functional._numba import pool as npool
    from deepstep.nn.functional._numba import threads as numba_threads

    # the parallel drivers at any size (small problems, and a busy machine, run the serial twins otherwise)
    monkeypatch.setattr(_load, "free_cpus", lambda: 2)
    monkeypatch.setattr(nconv, "PARALLEL_MIN_FMAS", 0)
    monkeypatch.setattr(nconv, "PARALLEL_MIN_COPY", 0)
    monkeypatch.setattr(npool, "PARALLEL_MIN_SIZE", 0)
    runs = []
    for threads in ("1", "2"):  # 1: the serial twins; 2: the parallel drivers on two threads
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", threads)
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        assert numba_threads() == min(int(threads), __import__("numba").config.NUMBA_NUM_THREADS)
        got, _ = _run_conv("numba", x, w, b, 2, "same", "NHWC", dout, "relu")
        # NCHW: the layout copies around the NHWC kernels (12 channels: a run of 8 and 4 more)
        got_nchw, _ = _run_conv("numba", x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b, 2, "same",
                                "NCHW", dout.transpose(0, 3, 1, 2), "relu")
        out_c, dx_c, dw_c, db_c = got_nchw  # the same numbers in the other layout
        assert np.array_equal(out_c.transpose(0, 2, 3, 1), got[0])
        assert np.array_equal(dx_c.transpose(0, 2, 3, 1), got[1])
        assert np.array_equal(dw_c.transpose(2, 3, 1, 0), got[2]) and np.array_equal(db_c, got[3])
        F.set_kernels("numba")
        results = list(got) + list(got_nchw)
        for data_format in ("NHWC", "NCHW"):
            xf = x if data_format == "NHWC" else x.transpose(0, 3, 1, 2)
            out, cache = F.pool2d(xf, 3, 2, "same", "max", data_format)  # overlapping windows: dx sums
            # windows tiling the input: one write per dx
            tiled, tiled_cache = F.pool2d(xf[:, :, :8] if data_format == "NHWC" else xf[:, :, :, :8], 2,
                                          data_format=data_format)
            results += [out, F.pool2d_backward(out, cache), tiled, F.pool2d_backward(tiled, tiled_cache)]
        runs.append(results)
    for a, b_ in zip(*runs, strict=True):
        assert np.array_equal(a, b_)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool, stride, padding", [
    (2, 2, "valid"), (2, 1, "valid"), (3, 2, "valid"), (3, 1, "valid"),  # the written-out windows
    (2, 2, "same"), (3, 2, "same"), (3, 1, 1),  # the same, with rows or ends clipped by padding
    ((2, 3), (1, 2), "valid"), (4, 3, "same"), (8, 8, "same"),  # the generic loops
])
def test_numba_nchw_max_pooling_runs_on_planes_and_matches_the_numpy_reference(dtype, pool, stride, padding):
    from deepstep.nn.functional._numba import pool as npool

    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, (2, 3, 11, 10)).astype(dtype)  # ties: the first maximum gets the gradient
    x[0, 0, 4, 5] = np.nan  # a NaN: its windows give NaN and no gradient, as the reference
    results = []
    for kernels in ("numpy", "numba"):
        F.set_kernels(kernels)
        out, cache = F.pool2d(x, pool, stride, padding, "max", "NCHW")
        if not results:
            dout = rng.standard_normal(out.shape).astype(dtype)
        results.append((out, F.pool2d_backward(dout, cache), cache))
    (out_ref, dx_ref, _), (out, dx, cache) = results
    assert isinstance(cache.inner, npool.NumbaPoolCache) and cache.inner.x_shape == (6, 11, 10, 1)  # planes
    np.testing.assert_array_equal(out, out_ref)  # NaN where the reference has NaN
    assert np.isnan(out).any()
    np.testing.assert_array_equal(dx != 0, dx_ref != 0)  # the gradient in the same places
    tol = 1e-12 if dtype == np.float64 else 1e-5  # overlapping windows: the same sums, maybe reordered
    np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)
    assert out.dtype == dx.dtype == dtype


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [8, 19])  # whole blocks of 8 channels; and a tail run one by one
@pytest.mark.parametrize("pool, stride, padding", [(2, 2, "valid"), (3, 2, "same"), (2, 1, "valid")])
def test_numba_nhwc_max_pooling_finds_first_maxima_and_nan_as_the_reference(dtype, channels, pool, stride,
                                                                            padding):
    from deepstep.nn.functional._numba import pool as npool

    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (2, 9, 10, channels)).astype(dtype)  # ties: the first maximum gets the gradient
    x[0, 1, 1, 0] = x[1, 2, 2, channels - 1] = np.nan  # NaN windows: NaN out, no gradient
    x[1, 4, 4, 2], x[0, 5, 5, 1] = np.inf, -np.inf  # infinities are numbers: scanned, kept
    results = []
    for kernels in ("numpy", "numba"):
        F.set_kernels(kernels)
        out, cache = F.pool2d(x, pool, stride, padding, "max")
        if not results:
            dout = rng.standard_normal(out.shape).astype(dtype)
        results.append((out, F.pool2d_backward(dout, cache), cache))
    (out_ref, dx_ref, _), (out, dx, cache) = results
    assert isinstance(cache.inner, npool.NumbaPoolCache)
    np.testing.assert_array_equal(out, out_ref)
    assert np.isnan(out).any() and np.isinf(out).any()
    np.testing.assert_array_equal(dx != 0, dx_ref != 0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)


def test_without_numba_everything_runs_on_numpy(monkeypatch):
    monkeypatch.setattr(_registry, "numba_installed", lambda: False)
    monkeypatch.setattr(_registry._state, "mode", None)
    monkeypatch.setenv("DEEPSTEP_KERNELS", "auto")
    x = np.ones((1, 4, 4, 2))
    _, cache = F.conv2d(x, np.ones((2, 2, 2, 3)))
    assert isinstance(cache, F.conv.ConvCache)
    _, cache = F.pool2d(x, 2)
    assert isinstance(cache, F.pool.PoolCache)
    assert _registry.describe().startswith("kernels: numpy (auto; numba not installed")
    with pytest.raises(ValueError, match=r"needs numba: pip install 'deepstep\[fast\]'"):
        F.set_kernels("numba")


def test_kernel_selection_is_validated(monkeypatch):
    with pytest.raises(ValueError, match="kernels must be one of auto, numpy, numba; got 'fast'"):
        F.set_kernels("fast")
    monkeypatch.setattr(_registry._state, "mode", None)
    monkeypatch.setenv("DEEPSTEP_KERNELS", "gpu")
    with pytest.raises(ValueError, match="DEEPSTEP_KERNELS must be one of auto, numpy, numba; got 'gpu'"):
        F.get_kernels()
    monkeypatch.setenv("DEEPSTEP_KERNELS", " NumPy ")
    assert F.get_kernels() == "numpy"
    with pytest.raises(ValueError, match="activation must be None or 'relu'"):
        F.conv2d(np.ones((1, 3, 3, 1)), np.ones((1, 1, 1, 1)), activation="tanh")


@needs_numba
def test_auto_compiles_in_the_background_once_a_job_is_not_tiny(monkeypatch):
    monkeypatch.setattr(_registry._state, "mode", "auto")
    monkeypatch.setattr(_registry._state, "warm", {"float32": False, "float64": False})
    monkeypatch.setattr(_registry._state, "numpy_seconds", 0.0)
    started = []
    monkeypatch.setattr(_registry, "_start_background_compile", started.append)
    x, w = np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 4))
    _, cache = F.conv2d(x, w)
    assert isinstance(cache, F.conv.ConvCache) and not started  # cold cache, tiny job: NumPy only
    assert 0.0 < _registry._state.numpy_seconds < _registry.BACKGROUND_COMPILE_AFTER_S
    _registry.charge_numpy(_registry.BACKGROUND_COMPILE_AFTER_S)
    _, cache = F.conv2d(x, w)
    assert isinstance(cache, F.conv.ConvCache) and started == ["float64"]  # compiling, not waiting
    _registry._state.warm["float64"] = True  # the background compile has filled the cache
    _, cache = F.conv2d(x, w)
    assert not isinstance(cache, F.conv.ConvCache)
    dx, dw, db = F.conv2d_backward(np.ones((1, 3, 3, 4)), cache)
    assert dw.shape == w.shape and db is None
    assert _registry.active_kernels("float64") == "numba"
    assert _registry.active_kernels("float32") == "numpy"


@needs_numba
def test_the_background_compile_fills_the_cache():
    import subprocess
    import sys

    from deepstep.nn.functional._kernel_cache import warm_marker

    # as auto starts it: a fresh process, into this session's cache (warm by now: it only loads)
    subprocess.run([sys.executable, "-m", "deepstep.nn.functional._numba.warmup", "float64"], check=True,
                   timeout=600)
    assert warm_marker("float64").exists()


@needs_numba
def test_backward_runs_the_implementation_that_made_the_cache():
    x, w = np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 4))
    F.set_kernels("numba")
    _, cache = F.conv2d(x, w)
    F.set_kernels("numpy")
    dx, dw, _ = F.conv2d_backward(np.ones((1, 3, 3, 4)), cache)
    np.testing.assert_allclose(dw, np.full(w.shape, 9.0))
    with pytest.raises(ValueError, match="already used by conv2d_backward"):
        F.conv2d_backward(np.ones((1, 3, 3, 4)), cache)
    with pytest.raises(TypeError, match="cache must be the ConvCache returned by conv2d, got dict"):
        F.conv2d_backward(np.ones((1, 3, 3, 4)), {})
    F.set_kernels("numba")
    _, cache = F.pool2d(x, 2)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(1, 2, 2, 3\)"):
        F.pool2d_backward(np.ones((1, 3, 3, 2)), cache)


@st.composite
def batch_norm_problems(draw):
    shape = draw(st.sampled_from([(), (1, 1), (3, 2), (1,)]))
    n, c = draw(st.integers(1, 9)), draw(st.integers(1, 19))
    dtype = draw(st.sampled_from(DTYPES))
    return (n, *shape, c), dtype, draw(st.booleans()), draw(st.floats(-10, 10)), draw(st.integers(0, 999))


@needs_numba
@hypothesis.settings(max_examples=60)
@given(batch_norm_problems())
def test_numba_batch_norm_matches_the_numpy_reference(problem):
    shape, dtype, training, offset, seed = problem
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = (rng.standard_normal(shape) * 2 + offset).astype(dtype)
    gamma, beta = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    stats = {} if training else {"mean": rng.standard_normal(c).astype(dtype),
                                 "var": rng.random(c).astype(dtype) + dtype(0.1)}
    dout = rng.standard_normal(shape).astype(dtype)
    results = []
    for kernels in ("numpy", "numba"):
        F.set_kernels(kernels)
        out, cache = F.batch_norm(x, gamma, beta, **stats)
        assert isinstance(cache, dict) and (type(cache) is dict) == (kernels == "numpy")
        stats_out = (cache["batch_mean"], cache["batch_var"]) if training else ()
        grads = F.batch_norm_backward(dout, cache)
        results.append((out, cache["xhat"], cache["inv_std"], *stats_out, *grads))
        results[-1] += (cache["count"], cache["reduce_axes"], cache["bshape"], cache["training"])
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for got, want in zip(*reversed(results), strict=True):
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype == dtype and got.shape == want.shape
            assert np.linalg.norm(got - want) <= tol * max(np.linalg.norm(want), 1.0)
        else:
            assert got == want


@needs_numba
@pytest.mark.parametrize("shape", [(4, 3), (3, 4, 5, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_numba_batch_norm_gradients_are_numerically_right(shape, training):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    stats = {} if training else {"mean": rng.standard_normal(shape[-1]), "var": rng.random(shape[-1]) + 0.5}
    dout = rng.standard_normal(shape)
    F.set_kernels("numba")
    out, cache = F.batch_norm(x, gamma, beta, **stats)
    assert type(cache) is not dict  # the compiled path
    dx, dgamma, dbeta = F.batch_norm_backward(dout, cache)
    nx, ngamma, nbeta = numerical_gradients(lambda: F.batch_norm(x, gamma, beta, **stats)[0],
                                            [x, gamma, beta], dout)
    assert rel_error(dx, nx) < 1e-6
    assert rel_error(dgamma, ngamma) < 1e-6
    assert rel_error(dbeta, nbeta) < 1e-6


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_batch_norm_does_not_depend_on_the_thread_count(dtype, monkeypatch):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((37, 5, 3, 6)) * 3 + 2).astype(dtype)  # 555 rows: chunks of 69 and 70
    gamma, beta = rng.standard_normal(6).astype(dtype), rng.standard_normal(6).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    from deepstep.nn.functional._numba import _load, norm

    monkeypatch.setattr(norm, "PARALLEL_MIN_SIZE", 0)  # 1 thread: the serial twins; 2: the parallel drivers
    monkeypatch.setattr(_load, "free_cpus", lambda: 2)  # a busy machine would keep the drivers serial
    runs = []
    for threads in ("1", "2"):
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", threads)
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        from deepstep.nn.functional._numba import threads as numba_threads

        assert numba_threads() == min(int(threads), __import__("numba").config.NUMBA_NUM_THREADS)
        F.set_kernels("numba")
        out, cache = F.batch_norm(x, gamma, beta)
        runs.append((out, cache["batch_mean"], cache["batch_var"], *F.batch_norm_backward(dout, cache)))
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b)


@needs_numba
def test_numba_batch_norm_falls_back_to_numpy_where_it_has_no_kernel(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    F.set_kernels("numba")
    out, cache = F.batch_norm(x, gamma, beta, axis=1)  # channels first
    assert type(cache) is dict
    F.set_kernels("numpy")
    want, _ = F.batch_norm(x, gamma, beta, axis=1)
    np.testing.assert_array_equal(out, want)
    # a compiled cache given a float64 dout: the reference's promotion, as NumPy's backward
    x = x.transpose(0, 2, 3, 1).copy()
    F.set_kernels("numba")
    _, cache = F.batch_norm(x, gamma, beta)
    dout = rng.standard_normal(x.shape)
    grads = F.batch_norm_backward(dout, cache)
    F.set_kernels("numpy")
    want = F.batch_norm_backward(dout, cache)  # still the compiled implementation's backward
    want_np = F.batch_norm_backward(dout, dict(cache))  # the reference on the same cache
    for g, w, r in zip(grads, want, want_np, strict=True):
        assert g.dtype == np.float64
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(g, r)
    # `auto` with a warm cache: small batches stay NumPy's (the compiled call's start-up costs more)
    monkeypatch.setattr(_registry._state, "mode", "auto")
    monkeypatch.setattr(_registry._state, "warm", {"float32": True, "float64": True})
    from deepstep.nn.functional._numba.register import BATCH_NORM_AUTO_MIN_SIZE

    _, cache = F.batch_norm(np.ones((4, 3), np.float32), gamma, beta)
    assert type(cache) is dict
    _, cache = F.batch_norm(np.ones((BATCH_NORM_AUTO_MIN_SIZE // 4, 4)), np.ones(4), np.zeros(4))
    assert type(cache) is not dict


@needs_numba
@pytest.mark.parametrize("name, shape", [("resnet_small", (32, 32, 3)), ("mnist_cnn", (28, 28, 1)),
                                         ("signs_convnet", (24, 24, 3))])
def test_zoo_models_train_alike_on_both_kernel_sets(name, shape):
    """Whole models through the registry (conv, fused ReLU, max pooling, batch normalization): three SGD
    steps in float64 on the compiled kernels give the NumPy reference's losses and weights to 1e-9 (not
    Adam: it scales the rounding-level gradient of a convolution bias before a BatchNormalization up)."""
    from deepstep.models import build_zoo_model

    rng = np.random.default_rng(0)
    x, y = rng.random((6, *shape)), rng.integers(0, 3, 6)
    results = {}
    for kernels in ("numpy", "numba"):
        F.set_kernels(kernels)
        model = build_zoo_model(name, shape, 3, dtype="float64", seed=0)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        losses = [model.train_on_batch(x, y)["loss"] for _ in range(3)]
        results[kernels] = losses, model.get_weight_dict()
    (losses, weights), (want_losses, want_weights) = results["numba"], results["numpy"]
    np.testing.assert_allclose(losses, want_losses, rtol=1e-9)
    assert weights.keys() == want_weights.keys()
    for key, value in weights.items():
        np.testing.assert_allclose(value, want_weights[key], rtol=1e-9, atol=1e-12, err_msg=key)


@needs_numba
def test_a_forked_child_runs_the_serial_twins():
    # GNU OpenMP kills a forked child that starts a parallel region ("Terminating: fork() called from
    # a process already using GNU OpenMP"); the child must fall back to the serial twins.
    script = """
import os, sys
import numpy as np
from deepstep.nn import functional as F
from deepstep.nn.functional import _numba
F.set_kernels("numba")
x, w = np.ones((4, 6, 6, 3)), np.ones((3, 3, 3, 8))
with _numba.forcing_twins(False):  # the parallel drivers, as a big job runs them
    F.conv2d(x, w, padding="same")
    pid = os.fork()
    if pid == 0:
        out, _ = F.conv2d(x, w, padding="same")
        os._exit(0 if out.shape == (4, 6, 6, 8) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])


@needs_numba
def test_the_load_check_counts_the_busy_time_of_other_processes(monkeypatch):
    from deepstep.nn.functional._numba import _load

    ticks = _load._TICKS
    line = f"cpu  {3 * ticks} 0 {ticks} {50 * ticks} {2 * ticks} 0 {ticks} {4 * ticks} 0 0\n".encode()
    assert _load.busy_seconds(line) == 5.0  # user + system + softirq; not idle, iowait or steal
    clock = {"wall": 100.0, "mine": 10.0, "busy": 1000.0}
    monkeypatch.setattr(_load, "_CPUS", 2)
    monkeypatch.setattr(_load, "_last", None)
    monkeypatch.setattr(_load.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(_load.time, "process_time", lambda: clock["mine"])
    monkeypatch.setattr(_load, "_read", lambda: clock["busy"])
    assert _load.free_cpus() == 2  # no history yet

    def after(seconds, mine, others):
        clock["wall"] += seconds
        clock["mine"] += mine * seconds
        clock["busy"] += (mine + others) * seconds
        return _load.free_cpus()

    assert after(0.2, mine=1.6, others=0.1) == 2  # this process alone (its workers included)
    assert after(0.2, mine=1.0, others=1.0) == 1  # another process keeps a core busy
    assert after(0.05, mine=1.6, others=0.0) == 1  # read again only after REFRESH_S
    assert after(0.2, mine=1.6, others=0.0) == 2
    monkeypatch.setattr(_load, "_read", lambda: None)  # no /proc/stat: every CPU counts as free
    assert after(0.2, mine=1.0, others=1.0) == 2


@needs_numba
def test_kernels_run_serially_where_other_processes_leave_no_cpu_free(monkeypatch):
    from deepstep.nn.functional import _numba
    from deepstep.nn.functional._numba import _load

    before = F.get_num_threads()
    monkeypatch.setattr(_numba.numba.config, "NUMBA_NUM_THREADS", 2)
    F.set_num_threads(2)
    try:
        monkeypatch.setattr(_load, "free_cpus", lambda: 2)
        assert _numba.threads() == 2 and not _numba.serial(1 << 30, 1)
        monkeypatch.setattr(_load, "free_cpus", lambda: 1)
        assert _numba.threads() == 1 and _numba.serial(1 << 30, 1)
    finally:
        F.set_num_threads(before)


@needs_numba
def test_loading_the_kernels_leaves_pytorchs_thread_count_alone():
    # Numba's OpenMP layer sets the thread count of the OpenMP runtime its symbols resolve to, which was
    # PyTorch's libgomp where PyTorch loaded first: the training benchmark's 1-thread PyTorch rows ran on 2.
    pytest.importorskip("torch")
    script = """
import numpy as np, torch
torch.set_num_threads(1)
torch.nn.functional.conv2d(torch.ones(8, 8, 32, 32), torch.ones(8, 8, 3, 3))  # OpenMP started
assert torch.get_num_threads() == 1
from deepstep.nn import functional as F
F.set_kernels("numba")
F.conv2d(np.ones((2, 6, 6, 8), np.float32), np.ones((3, 3, 8, 8), np.float32), padding="same")
print(torch.get_num_threads())
"""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True,
                         timeout=300).stdout
    assert out.strip().splitlines()[-1] == "1"


@needs_numba
@pytest.mark.parametrize("user", [{}, {"GOMP_SPINCOUNT": "7"}, {"OMP_WAIT_POLICY": "passive"}])
def test_the_workers_poll_setting_is_put_back_and_a_users_choice_kept(user):
    # GOMP_SPINCOUNT is set only while Numba's OpenMP workers start (libgomp reads it as it loads),
    # unless the user chose how idle workers wait; the environment is left as it was.
    script = """
import os, numpy as np
from deepstep.nn import functional as F
from deepstep.nn.functional import _numba
F.set_kernels("numba")
F.conv2d(np.ones((2, 6, 6, 8), np.float32), np.ones((3, 3, 8, 8), np.float32), padding="same")
print(_numba.threading_layer(), os.environ.get("GOMP_SPINCOUNT"), os.environ.get("OMP_WAIT_POLICY"))
"""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(user, NUMBA_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True,
                         timeout=300).stdout
    _, spin, policy = out.strip().splitlines()[-1].split()
    assert (spin, policy) == (user.get("GOMP_SPINCOUNT", "None"), user.get("OMP_WAIT_POLICY", "None"))


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5, 5, 9), (2, 300, 300)])  # serial twins, and the drivers
@pytest.mark.parametrize("threads", [1, 2])
def test_numba_relu_is_bitwise_the_numpy_reference(dtype, shape, threads, monkeypatch):
    from deepstep.nn.functional._numba import _load

    monkeypatch.setattr(_load, "free_cpus", lambda: 2)  # a busy machine would keep the drivers serial
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    flat, dflat = x.reshape(-1), dout.reshape(-1)
    flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-45]  # NaN stays, -0.0 becomes 0.0, 0 * inf is NaN
    dflat[:6] = [1.0, np.inf, -np.inf, 2.0, np.inf, -3.0]
    F.set_kernels("numpy")
    want, want_cache = F.relu(x)
    with np.errstate(invalid="ignore"):  # NumPy warns of its 0 * inf
        want_dx = F.relu_backward(dout, want_cache)
    F.set_kernels("numba")
    before = F.get_num_threads()
    F.set_num_threads(threads)
    try:
        got, cache = F.relu(x)
        got_dx = F.relu_backward(dout, cache)
        into = np.full_like(dout, 7.0)
        assert F.relu_backward(dout, cache, out=into) is into
        mine = x.copy()
        overwritten, _ = F.relu(mine, overwrite_x=True)
    finally:
        F.set_num_threads(before)
    for g, w in ((got, want), (got_dx, want_dx), (into, want_dx), (overwritten, want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.array_equal(g.view(f"u{g.itemsize}"), w.view(f"u{w.itemsize}"))  # the same bits
    assert overwritten is mine


@needs_numba
def test_relu_of_a_strided_view_runs_on_numpy_and_is_right():
    F.set_kernels("numba")
    x = np.arange(-8.0, 8.0, dtype=np.float32).reshape(4, 4)[:, ::2]
    out, cache = F.relu(x)
    assert np.array_equal(out, np.maximum(x, 0))
    assert np.array_equal(F.relu_backward(np.ones_like(x), cache), (x > 0).astype(np.float32))


@needs_numba
@hypothesis.settings(max_examples=40)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.sampled_from(DTYPES), st.integers(0, 999))
def test_numba_relu_matches_numpy_bitwise_and_pytorch_over_shapes(shape, dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.flat[0] = 0.0  # the kink: the gradient there is 0 in all three
    dout = rng.standard_normal(shape).astype(dtype)
    F.set_kernels("numpy")
    want, cache = F.relu(x)
    want_dx = F.relu_backward(dout, cache)
    F.set_kernels("numba")
    got, cache = F.relu(x)
    got_dx = F.relu_backward(dout, cache)
    assert np.array_equal(got, want) and np.array_equal(got_dx, want_dx)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.relu(xt)
    out_t.backward(torch.tensor(dout))
    assert np.array_equal(got, out_t.detach().numpy()) and np.array_equal(got_dx, xt.grad.numpy())


@needs_numba
def test_numba_relu_gradient_is_numerically_right():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5, 6))
    x[np.abs(x) < 1e-3] = 0.5  # finite differences off the kink
    F.set_kernels("numba")
    out, cache = F.relu(x)
    dout = rng.standard_normal(x.shape)
    (num,) = numerical_gradients(lambda: F.relu(x)[0], [x], dout)
    assert rel_error(F.relu_backward(dout, cache), num) < 1e-8
