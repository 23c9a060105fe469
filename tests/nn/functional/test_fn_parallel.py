"""Tests of deepstep.nn.functional._parallel: batch chunks of the convolution on several threads."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.nn.functional import (
    _parallel,
    conv2d,
    conv2d_backward,
    get_num_threads,
    get_workspace_limit,
    parallel_available,
    set_num_threads,
    set_workspace_limit,
)


@pytest.fixture
def threads():
    """Restore the serial default after the test."""
    yield set_num_threads
    set_num_threads(1)


def _conv_step(rng, dtype, data_format, stride, need_dx, limit):
    shape = (9, 7, 8, 8) if data_format == "NHWC" else (9, 8, 7, 8)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((3, 3, 8, 5) if data_format == "NHWC" else (5, 8, 3, 3)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    out, cache = conv2d(x, w, b, stride, "same", data_format, need_dx=need_dx, workspace_bytes=limit)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    return (out, *conv2d_backward(dout, cache))


@pytest.fixture
def one_blas_thread():
    """Run the block with BLAS on one thread (what the chunk threads use)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return lambda: threadpoolctl.threadpool_limits(limits=1, user_api="blas")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize(("stride", "need_dx"), [(1, True), (2, True), (1, False)])  # dx by conv / col2im
def test_threaded_chunks_are_bitwise_identical_to_serial_with_one_blas_thread(threads, one_blas_thread, dtype,
                                                                             data_format, stride, need_dx):
    """The guarantee of _parallel: chunk threads = the serial path with BLAS on one thread, bit for bit."""
    limit = 9000  # a fixed chunking: one sample per chunk, nine chunks
    with one_blas_thread():
        serial = _conv_step(np.random.default_rng(0), dtype, data_format, stride, need_dx, limit)
    default_blas = _conv_step(np.random.default_rng(0), dtype, data_format, stride, need_dx, limit)
    threaded = []
    for n in (2, 3):
        threads(n)
        assert get_num_threads() == n and parallel_available() and _parallel.workers() == n
        threaded.append(_conv_step(np.random.default_rng(0), dtype, data_format, stride, need_dx, limit))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b, c, d in zip(serial, *threaded, default_blas, strict=True):
        if a is None:
            assert b is None and c is None and d is None
            continue
        assert a.dtype == b.dtype == c.dtype == dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        # Multi-threaded BLAS may round differently: equal to float rounding only, not bit for bit.
        np.testing.assert_allclose(d, a, rtol=rtol, atol=rtol * np.abs(a).max())


def test_map_chunks_runs_on_worker_threads_and_restores_blas(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import threading

    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()]
    threads(2)
    seen = _parallel.map_chunks(lambda i: (i * i, threading.current_thread().name), list(range(8)))
    assert [value for value, _ in seen] == [i * i for i in range(8)]
    assert all(name.startswith("deepstep") for _, name in seen)
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info()] == before
    assert _parallel.map_chunks(lambda i: i + 1, [41]) == [42]  # one item: no pool needed


def test_without_threadpoolctl_chunks_run_serially(threads, monkeypatch):
    import threading

    monkeypatch.setattr(_parallel, "_controller", False)
    threads(2)
    assert not parallel_available() and _parallel.workers() == 1
    names = _parallel.map_chunks(lambda i: threading.current_thread().name, [0, 1, 2])
    assert names == [threading.current_thread().name] * 3


def _train_mnist_cnn(threads, n):
    from deepstep.models import mnist_cnn

    threads(n)
    model = mnist_cnn(seed=3)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 24)
    for _ in range(2):
        model.train_on_batch(x, y)
    return model.get_weights()


@pytest.fixture
def fixed_chunking():
    """The same chunking whatever the thread counts (the workspace limit is below every cache target)."""
    old = get_workspace_limit()
    set_workspace_limit(200_000)
    yield
    set_workspace_limit(old)


def test_a_model_trains_identically_on_any_number_of_chunk_threads(threads, one_blas_thread, fixed_chunking):
    """Chunk threads 2 and 3 train bit for bit like the serial path with one BLAS thread."""
    with one_blas_thread():
        serial = _train_mnist_cnn(threads, 1)
    for n in (2, 3):
        for a, b in zip(serial, _train_mnist_cnn(threads, n), strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_model_trains_identically_run_after_run_and_close_across_blas_threads(threads, fixed_chunking):
    """Same settings twice: bit for bit. Default (multi-threaded) BLAS vs chunk threads: to float
    rounding only; OpenBLAS's multi-threaded GEMM may round differently (1.5e-8 measured on AVX2)."""
    first, second = _train_mnist_cnn(threads, 1), _train_mnist_cnn(threads, 1)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    if parallel_available():
        for a, b in zip(first, _train_mnist_cnn(threads, 2), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("value", "exc", "match"), [(0, ValueError, "number of threads must be >= 1"),
                                                      (1.5, TypeError, "number of threads must be an int")])
def test_set_num_threads_errors(value, exc, match):
    with pytest.raises(exc, match=match):
        set_num_threads(value)
    assert get_num_threads() == 1


@pytest.mark.parametrize("channels", [3, 16])  # NHWC: row-by-row path, 6-D path
def test_threaded_pool_backward_is_bitwise_identical_to_serial(threads, channels, monkeypatch):
    pytest.importorskip("threadpoolctl")
    from deepstep.nn.functional import pool as pool_module
    from deepstep.nn.functional import pool2d, pool2d_backward

    monkeypatch.setattr(pool_module, "_CHUNK_BYTES", 1)  # one sample per chunk
    rng = np.random.default_rng(0)
    x = np.maximum(rng.integers(-2, 3, size=(6, 8, 8, channels)), 0).astype(np.float32)  # ties
    dout = rng.standard_normal((6, 2, 2, channels)).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        out, cache = pool2d(x, 4)
        results.append(pool2d_backward(dout, cache))
    np.testing.assert_array_equal(results[0], results[1])
    assert np.count_nonzero(results[1]) == dout.size
