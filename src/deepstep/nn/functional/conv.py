"""Fast 2-D convolution (cross-correlation, as in every deep-learning library).

Forward, for output pixel ``(oy, ox)`` and filter ``f`` (NHWC notation)::

    out[n, oy, ox, f] = b[f] + sum_{i, j, c} x_pad[n, sh*oy + i, sw*ox + j, c] * w[i, j, c, f]

(with a dilation ``(dh, dw)`` the window reads ``x_pad[n, sh*oy + dh*i, sw*ox + dw*j, c]``: only
the strides of the window view change, see :mod:`.im2col`)

With the column buffer of :mod:`.im2col` viewed, per sample, as a ``(P, K)`` matrix
``col[n]`` (one receptive field per row; ``P = oh*ow`` windows of ``K = kh*kw*C``
numbers) and the filters as a ``(K, F)`` matrix ``W``, this is one matrix product
per sample, ``out[n] = col[n] @ W + b``. Backward, with ``dout[n]`` as ``(P, F)``::

    db   = sum_{n, p} dout[n, p]
    dW   = sum_n col[n]^T @ dout[n]
    dcol = dout[n] @ W^T,   dx = crop(col2im(dcol))

and, for stride 1, ``dx`` is itself a convolution: of ``dout`` padded by
``k - 1 - pad`` with the filters rotated by 180 degrees and their channel axes
swapped (``_dx_as_convolution``), which replaces col2im's scatter-adds by im2col's
copies where that is faster.

Layouts. The caller's layout (NHWC or NCHW) fixes where ``x``, ``out``, ``dout`` and
``dx`` live; the column buffer is built in whichever layout copies faster
(:func:`choose_internal_layout`). Both only change which axes the ``(P, K)`` and
``(P, F)`` matrices are *views* of: NumPy hands BLAS the transposed operands
directly, so no layout conversion is ever copied except inside the padding copy
that happens anyway. One algorithm serves all four combinations.

Memory and speed. The batch is processed in chunks whose scratch buffers (padded
input, column buffer, their gradients) stay within ``min(workspace limit,
CHUNK_TARGET_BYTES_PER_THREAD * blas_threads())``: the workspace limit (default 256 MiB,
:func:`set_workspace_limit`, or ``workspace_bytes`` per call) bounds memory, and the
much smaller target keeps each column buffer in the CPU cache between the copy that
writes it and the matmul that reads it (measured 2-4x faster than whole-batch
buffers). The backward pass rebuilds the column buffers instead of keeping them.
Chunks are independent samples, so chunking changes only the order of the ``dW``
sum over chunks. With :func:`.set_num_threads` above 1 the chunks run on several threads
(:mod:`._parallel`, BLAS then on one thread each); per-chunk ``dW`` partials are still added
in chunk order, so for a given chunking the result does not depend on the chunk-thread count
(it equals the serial path with one BLAS thread; see :mod:`._parallel` for what is guaranteed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import brief_repr, check_float_array, check_int, check_same_dtype, dtype_name
from . import _parallel, _registry
from ._params import Padding4, Pair, as_pair, check_buffers, check_data_format, resolve_padding
from .im2col import NCHW, NHWC, Layout, col2im, im2col, layout_for

__all__ = ["conv2d", "conv2d_backward", "set_workspace_limit", "get_workspace_limit", "ConvCache"]

DEFAULT_WORKSPACE_BYTES = 256 * 2**20
# Chunks are kept small on purpose: a column buffer that stays in the CPU cache between im2col and
# the matmul that reads it is ~2-4x faster than one streamed through main memory (measured; see
# BENCHMARKS.md). The target is per BLAS thread (each core has its own cache, and fewer, larger
# matmuls keep multi-threaded BLAS from stalling on thread hand-offs). The workspace limit only ever
# makes chunks smaller than this.
CHUNK_TARGET_BYTES_PER_THREAD = 2 * 2**20
_workspace_limit = DEFAULT_WORKSPACE_BYTES
# For stride 1, dx may be computed as a convolution of dout with the flipped filters instead of by
# col2im. That convolution's matmul produces C_in columns, so it only pays when C_in is not tiny.
# Measured (1 thread, float32, backward): C_in = 64 (VGG case) 104 ms vs 132 ms by col2im, C_in = 8
# 0.4 vs 0.6 ms; but C_in = 3: 33 vs 32 ms, and C_in = 1 (MNIST, a matrix-vector product) 15 vs 8 ms.
DX_BY_CONVOLUTION = True
DX_BY_CONVOLUTION_MIN_CHANNELS = 8


def set_workspace_limit(nbytes: int) -> None:
    """Set the default memory budget (bytes) of the scratch buffers of one chunk.

    The batch is processed in chunks whose scratch buffers (padded input, column
    buffer and, in the backward pass, their gradients) stay within this many bytes.
    A single sample is always processed whole, even if it alone exceeds the limit.
    """
    global _workspace_limit
    _workspace_limit = check_int(nbytes, "workspace limit (bytes)", 1)


def get_workspace_limit() -> int:
    """The current default workspace limit in bytes (see :func:`set_workspace_limit`)."""
    return _workspace_limit


@dataclass(frozen=True)
class _Geometry:
    """Every size of one convolution, validated once at the public boundary."""

    layout: Layout  # the caller's layout (x, out, dout, dx)
    internal: Layout  # the layout the column buffer is built in
    n: int
    c: int  # input channels
    hw: Pair  # input height and width
    f: int  # output channels
    kernel: Pair
    stride: Pair
    pads: Padding4  # (top, bottom, left, right)
    out_hw: Pair
    dilation: Pair = (1, 1)  # spacing of the pixels a window reads

    @property
    def span(self) -> Pair:
        """Extent of one (dilated) window in the padded input: ``d * (k - 1) + 1`` per axis."""
        return dilated_span(self.kernel, self.dilation)

    @property
    def padded_hw(self) -> Pair:
        top, bottom, left, right = self.pads
        return (self.hw[0] + top + bottom, self.hw[1] + left + right)

    @property
    def col_elems(self) -> int:
        """Numbers in one sample's column buffer: ``C * kh * kw * oh * ow``."""
        return self.c * self.kernel[0] * self.kernel[1] * self.out_hw[0] * self.out_hw[1]

    @property
    def image_elems(self) -> int:
        """Numbers in one padded input sample."""
        return self.c * self.padded_hw[0] * self.padded_hw[1]


@dataclass(frozen=True)
class ConvCache:
    """What :func:`conv2d_backward` needs from the forward pass.

    The column buffer is *not* kept: the backward pass rebuilds it chunk by chunk
    from ``x`` (cheap, and it keeps both the memory bound and the cache locality).
    """

    x: np.ndarray
    w: np.ndarray
    w_kf: np.ndarray  # the filters as the (K, F) matrix of the internal layout
    geometry: _Geometry
    has_bias: bool
    need_dx: bool
    workspace_bytes: int
    relu_out: np.ndarray | None = None  # the output, when ReLU was fused into the forward


def dilated_span(kernel: Pair, dilation: Pair) -> Pair:
    """Extent ``d * (k - 1) + 1`` (per axis) of a ``kernel`` whose taps are ``dilation`` pixels apart."""
    return (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)


def _check_inputs(x: Any, w: Any, b: Any, data_format: Any) -> tuple[Layout, int, int, int, int, Pair]:
    """Validate arrays and layout; return (layout, N, C, H, W, (kh, kw))."""
    layout = layout_for(check_data_format(data_format))
    if layout.channels_last:
        x = check_float_array(x, "x", 4, "(N, H, W, C_in)")
        w = check_float_array(w, "w", 4, "(kh, kw, C_in, C_out)")
        n, h, wd, c = x.shape
        kh, kw, c_w, f = w.shape
    else:
        x = check_float_array(x, "x", 4, "(N, C_in, H, W)")
        w = check_float_array(w, "w", 4, "(C_out, C_in, kh, kw)")
        n, c, h, wd = x.shape
        f, c_w, kh, kw = w.shape
    if c_w != c:
        raise ValueError(
            f"w must have C_in = {c} input channels to match x {x.shape} ({layout.name}), "
            f"got w of shape {w.shape} with C_in = {c_w}"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x and w must not have zero-length axes, got x {x.shape} and w {w.shape}")
    if b is not None:
        b = check_float_array(b, "b", 1, "(C_out,)")
        if b.shape != (f,):
            raise ValueError(f"b must have shape ({f},) (one bias per filter), got {b.shape}")
    check_same_dtype({"x": x, "w": w, "b": b}, "x")
    return layout, n, c, h, wd, (kh, kw)


def choose_internal_layout(channels: int, out_w: int, stride_w: int) -> Layout:
    """The layout the column buffer is built in, whatever the caller's layout.

    im2col copies, per kernel offset, contiguous runs of ``C`` numbers in NHWC and of
    ``out_w`` numbers in NCHW (single numbers when ``stride_w > 1``). Short runs make
    the copies slow, so the layout with the longer run wins: NCHW for images with few
    channels (RGB, grayscale), NHWC otherwise. Converting between layouts costs
    nothing extra: the padding copy converts the input, and the matmuls read and
    write the caller's layout through transposed views.
    """
    nchw_run = out_w if stride_w == 1 else 1
    return NHWC if channels >= nchw_run else NCHW


def blas_threads() -> int:
    """The number of threads NumPy's BLAS was told to use, from the standard environment variables.

    ``OPENBLAS_NUM_THREADS``, then ``OMP_NUM_THREADS``, else every CPU (OpenBLAS' default). NumPy
    offers no API for the value actually in use, and threadpoolctl is not a dependency.
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _CPUS


_CPUS = os.cpu_count() or 1  # read once: os.cpu_count() took ~12 us, and the compiled kernels ask per call


def _chunk_size(n: int, bytes_per_sample: int, limit: int) -> int:
    """Samples per chunk so that a chunk's buffers fit ``limit`` and the cache target (>= 1).

    The target is per thread: one chunk is shared by every BLAS thread, or, with chunks on
    several threads (:mod:`._parallel`), each thread has its own chunk and BLAS one thread.
    """
    target = CHUNK_TARGET_BYTES_PER_THREAD * (blas_threads() if _parallel.workers() == 1 else 1)
    return max(1, min(n, min(limit, target) // max(bytes_per_sample, 1)))


def _chunks(n: int, chunk: int) -> list[slice]:
    return [slice(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def _merge_batch(a: np.ndarray) -> np.ndarray | None:
    """``(N, P, K)`` as one ``(N * P, K)`` matrix view when the memory layout allows it, else None."""
    if a.shape[0] == 1:
        return a[0]
    return a.reshape(-1, a.shape[2]) if a.flags.c_contiguous else None


def _matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out[n] = a[n] @ b`` for ``a`` (N, P, K), ``b`` (K, F), ``out`` (N, P, F), without copies.

    Both may be transposed views; NumPy hands BLAS the transpose flags. When the
    whole batch is one row-major matrix the N products become a single GEMM.
    """
    a2, out2 = _merge_batch(a), _merge_batch(out)
    if a2 is not None and out2 is not None:
        np.matmul(a2, b, out=out2)
    else:
        np.matmul(a, b, out=out)


def _weight_grad(a: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """``sum_n a[n]^T @ dout[n]``: ``(K, F)`` from ``a`` (N, P, K) and ``dout`` (N, P, F)."""
    a2, d2 = _merge_batch(a), _merge_batch(dout)
    if a2 is not None and d2 is not None:
        return a2.T @ d2
    return np.matmul(a.transpose(0, 2, 1), dout).sum(axis=0)


def _bias_grad(dout: np.ndarray, layout: Layout) -> np.ndarray:
    """``db[f] = sum of dout over every axis but the channel axis``.

    For NHWC this is ``ones @ dout`` as an ``(N*oh*ow, F)`` matrix: NumPy's ``sum`` over
    the leading axes of a C-contiguous array with few channels was 10x slower (4.4 ms
    vs 0.3 ms for the SIGNS case).
    """
    if layout.channels_last:
        rows = dout.reshape(-1, dout.shape[3])
        return np.ones(rows.shape[0], dtype=dout.dtype) @ rows
    return dout.sum(axis=(0, 2, 3))


class _Scratch:
    """Per-call scratch buffers sized for one chunk, reused by every chunk (``[:nb]`` for the last).

    Each thread that runs chunks (:mod:`._parallel`) gets buffers of its own.
    """

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self._buffers: dict[tuple[int, str], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], nb: int, zeros: bool = False) -> np.ndarray:
        key = (threading.get_ident(), name)
        buf = self._buffers.get(key)
        if buf is None:
            buf = (np.zeros if zeros else np.empty)(shape, dtype=self.dtype)
            self._buffers[key] = buf
        return buf[:nb]


def _columns(x_part: np.ndarray, g: _Geometry, scratch: _Scratch, chunk: int) -> np.ndarray:
    """Pad a chunk of ``x`` (caller's layout) and build its column buffer (internal layout).

    The padded buffer is zero-initialised once and chunks only overwrite its
    interior, so the borders stay zero; the same copy converts the layout.
    """
    internal, nb = g.internal, x_part.shape[0]
    if g.pads == (0, 0, 0, 0) and internal == g.layout:
        x_pad = x_part
    else:
        x_pad = scratch.get("x_pad", internal.image_shape(chunk, g.c, *g.padded_hw), nb, zeros=True)
        internal.interior(x_pad, g.pads, g.hw)[...] = internal.image_from(x_part, g.layout)
    col = scratch.get("col", internal.col_shape(chunk, g.c, g.kernel, g.out_hw), nb)
    return im2col(x_pad, g.kernel, g.stride, g.out_hw, internal, col=col, dilation=g.dilation)


def _convolve(x: np.ndarray, w_kf: np.ndarray, g: _Geometry, limit: int,
              bias: np.ndarray | None = None) -> np.ndarray:
    """The forward pass, chunk by chunk: ``out[n] = col(x)[n] @ W (+ b)`` in the caller's layout."""
    out = np.empty(g.layout.image_shape(g.n, g.f, *g.out_hw), dtype=x.dtype)
    chunk = _chunk_size(g.n, (g.col_elems + g.image_elems) * x.itemsize, limit)
    scratch = _Scratch(x.dtype)
    # NHWC: add the bias to (N, oh, ow * F) rows as tile(b, ow), so that the broadcast runs over
    # rows of ow * F numbers instead of F (SIGNS conv1, F = 8: 0.44 ms vs 1.3 ms per batch).
    bias_rows = None
    if bias is not None:
        bias_rows = np.tile(bias, g.out_hw[1]) if g.layout.channels_last else g.layout.per_channel(bias)

    def convolve_chunk(part: slice) -> None:
        col = _columns(x[part], g, scratch, chunk)
        out_part = out[part]
        _matmul_into(g.internal.col_matrices(col), w_kf, g.layout.map_matrices(out_part))
        if bias_rows is not None:
            if g.layout.channels_last:
                out_part = np.reshape(out_part, (out_part.shape[0], g.out_hw[0], -1), copy=False)
            out_part += bias_rows

    _parallel.map_chunks(convolve_chunk, _chunks(g.n, chunk))
    return out


def _geometry(layout: Layout, n: int, c: int, hw: Pair, f: int, kernel: Pair, stride: Pair,
              pads: Padding4, out_hw: Pair, dilation: Pair = (1, 1)) -> _Geometry:
    internal = choose_internal_layout(c, out_hw[1], stride[1])
    return _Geometry(layout, internal, n, c, hw, f, kernel, stride, pads, out_hw, dilation)


def _dx_as_convolution(g: _Geometry) -> _Geometry | None:
    """The geometry of ``dx`` computed as a convolution of ``dout``, or None where it does not apply.

    For stride 1, ``dx[y, x] = sum_{i, j} dout_pad[y + d_h i, x + d_w j] . w[kh-1-i, kw-1-j]^T``: a
    convolution (with the same dilation ``d``) of ``dout`` padded by ``s - 1 - pad``, where
    ``s = d (k - 1) + 1`` is the window's span, with the flipped filters and the channel axes
    swapped. It replaces col2im's ``kh * kw`` scatter-adds by im2col's copies. A padding
    larger than ``s - 1`` would need negative padding, so those fall back to col2im, as do inputs
    with few channels (see ``DX_BY_CONVOLUTION_MIN_CHANNELS``).
    """
    (sh, sw), (top, bottom, left, right) = g.span, g.pads
    if not DX_BY_CONVOLUTION or g.c < DX_BY_CONVOLUTION_MIN_CHANNELS or g.stride != (1, 1):
        return None
    if max(top, bottom) > sh - 1 or max(left, right) > sw - 1:
        return None
    pads = (sh - 1 - top, sh - 1 - bottom, sw - 1 - left, sw - 1 - right)
    return _geometry(g.layout, g.n, g.f, g.out_hw, g.c, g.kernel, (1, 1), pads, g.hw, g.dilation)


def _flipped_filter_matrix(w: np.ndarray, g: _Geometry, g_dx: _Geometry) -> np.ndarray:
    """``w`` rotated by 180 degrees with C_in and C_out swapped, as ``g_dx``'s (K, F) matrix."""
    w_hwio = NHWC.filters_from(w, g.layout)  # (kh, kw, C_in, C_out)
    flipped = w_hwio[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_out, C_in)
    return g_dx.internal.filter_matrix(g_dx.internal.filters_from(flipped, NHWC))


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    data_format: str = "NHWC",
    need_dx: bool = True,
    workspace_bytes: int | None = None,
    dilation: int | tuple[int, int] = 1,
    activation: str | None = None,
) -> tuple[np.ndarray, Any]:
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters.

    Parameters
    ----------
    x : ndarray, float32 or float64
        Images, ``(N, H, W, C_in)`` for ``data_format="NHWC"`` or ``(N, C_in, H, W)``
        for ``"NCHW"``.
    w : ndarray, same dtype as ``x``
        Filters, ``(kh, kw, C_in, C_out)`` (NHWC, the course/Keras layout) or
        ``(C_out, C_in, kh, kw)`` (NCHW, the PyTorch/CS231n layout).
    b : ndarray of shape (C_out,), same dtype, optional
        Biases, one per filter.
    stride : int or (int, int)
        Step ``(sh, sw)`` between windows, >= 1.
    padding : int, (int, int), "valid" or "same"
        Zero padding: ``p`` on every side, ``(ph, pw)`` top/bottom and left/right,
        none, or TensorFlow's SAME (``out = ceil(in / stride)``, an odd total pad puts
        the extra pixel at the bottom/right).
    data_format : {"NHWC", "NCHW"}
    need_dx : bool
        If False the backward pass skips ``dx`` (for a network's first layer).
    workspace_bytes : int, optional
        Memory budget of one chunk's scratch buffers; defaults to
        :func:`get_workspace_limit` (NumPy kernels only).
    dilation : int or (int, int)
        Spacing ``(dh, dw)`` between the input pixels a window reads, >= 1 (PyTorch's
        ``dilation``, Keras' ``dilation_rate``): ``out[n, oy, ox, f] = b[f] + sum_{i, j, c}
        x_pad[n, sh*oy + dh*i, sw*ox + dw*j, c] * w[i, j, c, f]``. A window spans
        ``d * (k - 1) + 1`` pixels per axis, which is the size SAME padding and the output
        size use. Dilated calls run the NumPy kernels.
    activation : {None, "relu"}
        ``"relu"`` returns ``max(out, 0)`` and makes the backward pass apply the ReLU mask to
        ``dout`` (fused into the compiled kernels; a separate pass for NumPy).

    Returns
    -------
    out : ndarray
        ``(N, oh, ow, C_out)`` or ``(N, C_out, oh, ow)``, dtype of ``x``, with
        ``oh = (H + pad_top + pad_bottom - dh * (kh - 1) - 1) // sh + 1`` (likewise ``ow``).
    cache : ConvCache (NumPy) or the compiled kernels' cache
        For :func:`conv2d_backward`, which runs the implementation that made it. Which
        implementation runs is decided by :mod:`._registry` (``DEEPSTEP_KERNELS``).

    Raises
    ------
    TypeError
        Non-ndarray or non-float input, or mixed dtypes.
    ValueError
        Wrong ranks, channel mismatch, bad bias shape, stride or dilation < 1, negative or
        unknown padding, a window that does not fit, unknown ``data_format``.
    """
    layout, n, c, h, wd, kernel = _check_inputs(x, w, b, data_format)
    stride_hw = as_pair(stride, "stride", 1)
    dilation_hw = as_pair(dilation, "dilation", 1)
    pads, out_hw = resolve_padding(padding, (h, wd), dilated_span(kernel, dilation_hw), stride_hw)
    f_out = w.shape[3] if layout.channels_last else w.shape[0]
    padded_hw = (h + pads[0] + pads[1], wd + pads[2] + pads[3])
    check_buffers(padding, n, c, padded_hw, out_hw, kernel, f_out, x.dtype)
    if not isinstance(need_dx, bool | np.bool_):
        raise TypeError(f"need_dx must be a bool, got {brief_repr(need_dx)}")
    limit = _workspace_limit if workspace_bytes is None else check_int(workspace_bytes, "workspace_bytes", 1)

    if activation not in (None, "relu"):
        raise ValueError(f"activation must be None or 'relu', got {activation!r}")
    f = w.shape[3] if layout.channels_last else w.shape[0]
    problem = {"dtype": dtype_name(x.dtype), "layout": layout.name, "n": n, "c": c, "f": f, "kernel": kernel,
               "stride": stride_hw, "dilation": dilation_hw, "need_dx": bool(need_dx)}
    impl = _registry.choose("conv2d", problem)
    if impl.name != "numpy":
        return impl.forward(x, w, b, layout.name, stride_hw, pads, out_hw, bool(need_dx),
                            activation == "relu")
    with _registry.NumpyTimer(problem):
        g = _geometry(layout, n, c, (h, wd), f, kernel, stride_hw, pads, out_hw, dilation_hw)
        w_kf = g.internal.filter_matrix(g.internal.filters_from(w, layout))
        out = _convolve(x, w_kf, g, limit, b)
        if activation == "relu":
            np.maximum(out, 0, out=out)
    cache = ConvCache(x=x, w=w, w_kf=w_kf, geometry=g, has_bias=b is not None, need_dx=bool(need_dx),
                      workspace_bytes=limit, relu_out=out if activation == "relu" else None)
    return out, cache


def conv2d_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d` with respect to ``x``, ``w`` and ``b``.

    Per chunk the column buffer of ``x`` is rebuilt, then ``dW += col^T @ dout``;
    ``dx`` is ``col2im(dout @ W^T)``, or for stride 1 the convolution of the padded
    ``dout`` with the flipped filters (see :func:`_dx_as_convolution`).

    Parameters
    ----------
    dout : ndarray
        Upstream gradient, the shape and dtype of the forward output.
    cache : ConvCache
        From :func:`conv2d`.

    Returns
    -------
    dx : ndarray or None
        Shape and dtype of ``x``; None if the forward had ``need_dx=False``.
    dw : ndarray
        Shape and dtype of ``w``.
    db : ndarray or None
        ``(C_out,)``; None if the forward had no bias.
    """
    impl = _registry.implementation_of("conv2d", cache)
    if impl is None:
        raise TypeError(f"cache must be the ConvCache returned by conv2d, got {type(cache).__name__}")
    if impl.name != "numpy":
        return impl.backward(dout, cache)
    with _registry.NumpyTimer({"layout": cache.geometry.layout.name}):
        return _numpy_backward(dout, cache)


def _numpy_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """:func:`conv2d_backward` with the NumPy kernels."""
    x, g = cache.x, cache.geometry
    layout, internal = g.layout, g.internal
    dout = check_float_array(dout, "dout", 4)
    expected = layout.image_shape(g.n, g.f, *g.out_hw)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    check_same_dtype({"x": x, "dout": dout}, "x")
    dout = np.ascontiguousarray(dout)
    if cache.relu_out is not None:
        dout = np.where(cache.relu_out > 0, dout, dout.dtype.type(0))

    g_dx = _dx_as_convolution(g) if cache.need_dx else None
    with_col2im = cache.need_dx and g_dx is None
    per_sample = g.col_elems + g.image_elems + (g.col_elems + g.image_elems if with_col2im else 0)
    chunk = _chunk_size(g.n, per_sample * x.itemsize, cache.workspace_bytes)
    scratch = _Scratch(x.dtype)
    dx = np.empty(x.shape, dtype=x.dtype) if with_col2im else None

    def backward_chunk(part: slice) -> np.ndarray:
        """This chunk's share of dW (returned) and of dx (written into ``dx[part]``)."""
        nb = part.stop - part.start
        col = _columns(x[part], g, scratch, chunk)
        dout_rows = layout.map_matrices(dout[part])
        if with_col2im:
            dcol = scratch.get("dcol", (chunk, *col.shape[1:]), nb)
            _matmul_into(dout_rows, cache.w_kf.T, internal.col_matrices(dcol))
            dx_pad = col2im(dcol, g.padded_hw, g.stride, internal,
                            scratch.get("dx_pad", internal.image_shape(chunk, g.c, *g.padded_hw), nb),
                            dilation=g.dilation)
            dx[part] = layout.image_from(internal.interior(dx_pad, g.pads, g.hw), internal)
        return _weight_grad(internal.col_matrices(col), dout_rows)

    dw_kf = np.zeros(cache.w_kf.shape, dtype=x.dtype)
    for dw_part in _parallel.map_chunks(backward_chunk, _chunks(g.n, chunk)):  # summed in chunk order
        dw_kf += dw_part
    if g_dx is not None:
        dx = _convolve(dout, _flipped_filter_matrix(cache.w, g, g_dx), g_dx, cache.workspace_bytes)
    dw = np.ascontiguousarray(layout.filters_from(internal.filters_from_matrix(dw_kf, g.kernel), internal))
    db = _bias_grad(dout, layout) if cache.has_bias else None
    return dx, dw, db


_registry.register("conv2d", _registry.Implementation(
    "numpy", lambda problem: True, conv2d, _numpy_backward, ConvCache))
