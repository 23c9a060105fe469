"""One converter per layer class: ``converter(layer, inputs, output, ctx)`` emits ONNX nodes.

A converter reads its layer through ``layer.get_config()`` and the layer's parameters
(``layer.parameters()``, matched by the last part of their names: ``kernel``, ``bias``,
``gamma`` ...), reads its inputs' shapes and layouts from the context (never from the layer,
which may be called several times) and records its output with ``ctx.define``.

Padding follows deepstep (and TensorFlow): ``"same"`` gives ``out = ceil(in / stride)`` with
``total = max((out - 1) * stride + k - in, 0)`` padded, ``total // 2`` before and the rest
(the extra pixel) after, written as explicit asymmetric ``pads``. Average pooling excludes
padding from each window's count (``count_include_pad=0``), as deepstep's kernel does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import ExportError, same_or_valid
from .onnx_context import OnnxContext

__all__ = ["CONVERTERS", "converter", "get_converter", "same_or_valid"]

Converter = Callable[[Any, list[str], str, OnnxContext], None]

#: layer class name -> converter
CONVERTERS: dict[str, Converter] = {}


def converter(class_name: str) -> Callable[[Converter], Converter]:
    """Register the decorated function as the ONNX converter of layers of class ``class_name``."""
    def register(fn: Converter) -> Converter:
        CONVERTERS[class_name] = fn
        return fn
    return register


def get_converter(layer: Any) -> Converter:
    """The converter for ``layer``'s class, or :class:`ExportError` naming the layer."""
    kind = type(layer).__name__
    if kind not in CONVERTERS:
        raise ExportError(f"layer {getattr(layer, 'name', '?')!r} ({kind}) cannot be exported to ONNX: no "
                          f"converter for {kind}; supported layers: {', '.join(sorted(CONVERTERS))}")
    return CONVERTERS[kind]


# ---------------------------------------------------------------------------------------- helpers
def _fail(layer: Any, message: str) -> ExportError:
    return ExportError(f"layer {getattr(layer, 'name', '?')!r} ({type(layer).__name__}) cannot be exported "
                       f"to ONNX: {message}")


def _param(layer: Any, name: str) -> np.ndarray:
    """The value of ``layer``'s parameter called ``name`` (its full path may carry prefixes)."""
    for param in layer.parameters():
        if str(param.name).replace(".", "/").split("/")[-1] == name:
            return np.asarray(param.value)
    raise _fail(layer, f"it has no parameter {name!r}")


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int | np.integer):
        return int(value), int(value)
    a, b = value
    return int(a), int(b)


def _spatial(layer: Any, ctx: OnnxContext, name: str, data_format: str) -> tuple[int, int, int]:
    """``(H, W, C)`` of a 4-D input in ``data_format``."""
    shape = ctx.info(name).shape
    if len(shape) != 3:
        raise _fail(layer, f"it needs a 4-D input (batch, H, W, C), got shape (batch, {shape})")
    if data_format == "channels_first":
        return shape[1], shape[2], shape[0]
    return shape


def _layouts(data_format: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(nchw, nhwc)``: the perms that hold a logical ``data_format`` tensor as NCHW and as NHWC."""
    if data_format == "channels_first":
        return (0, 1, 2, 3), (0, 2, 3, 1)
    return (0, 3, 1, 2), (0, 1, 2, 3)


def _out_shape(h: int, w: int, c: int, data_format: str) -> tuple[int, int, int]:
    return (c, h, w) if data_format == "channels_first" else (h, w, c)


def _leaky_relu(ctx: OnnxContext, x: str, alpha: float, hint: str) -> str:
    """``LeakyRelu``, whose ``alpha`` attribute is a float32; where that would round the slope
    (float64 exports, e.g. 0.2), ``Max(x, alpha * x)`` instead (equal for ``0 <= alpha < 1``)."""
    if ctx.dtype == np.float32 or float(np.float32(alpha)) == alpha:
        return ctx.node("LeakyRelu", [x], hint, alpha=alpha)
    scaled = ctx.node("Mul", [x, ctx.const(alpha, f"{hint}/alpha")], f"{hint}_scaled")
    return ctx.node("Max", [x, scaled], hint)


def _activation(layer: Any, name: str | None, x: str, ctx: OnnxContext, hint: str,
                perm: tuple[int, ...]) -> str:
    """Apply the fused activation ``name`` (Conv2D/Dense ``activation=``) to ONNX tensor ``x`` held in
    layout ``perm``."""
    if name in (None, "linear"):
        return x
    if name == "relu":
        return ctx.node("Relu", [x], hint)
    if name == "leaky_relu":
        return _leaky_relu(ctx, x, float(getattr(getattr(layer, "activation", None), "alpha", 0.01)), hint)
    if name == "sigmoid":
        return ctx.node("Sigmoid", [x], hint)
    if name == "tanh":
        return ctx.node("Tanh", [x], hint)
    if name == "softmax":  # the fused softmax acts on the last logical axis
        return ctx.node("Softmax", [x], hint, axis=perm.index(len(perm) - 1))
    raise _fail(layer, f"unknown activation {name!r}")


def _windows(ctx: OnnxContext, x: str, k: tuple[int, int], s: tuple[int, int], out: tuple[int, int],
             hint: str, d: tuple[int, int] = (1, 1)) -> list[str]:
    """The ``kh * kw`` strided slices ``x[:, p*dh::sh, q*dw::sw, :]`` (each ``(N, oh, ow, C)``) of NHWC
    ``x``; ``d`` is the dilation (spacing of the window's taps)."""
    axes, steps = ctx.ints([1, 2], f"{hint}_axes"), ctx.ints(list(s), f"{hint}_steps")
    slices = []
    for p in range(k[0]):
        for q in range(k[1]):
            a, b = p * d[0], q * d[1]
            starts = ctx.ints([a, b], f"{hint}_start")
            ends = ctx.ints([a + (out[0] - 1) * s[0] + 1, b + (out[1] - 1) * s[1] + 1], f"{hint}_end")
            slices.append(ctx.node("Slice", [x, starts, ends, axes, steps], f"{hint}_slice"))
    return slices


def _pad_nhwc(ctx: OnnxContext, x: str, pads: tuple[int, int, int, int], hint: str) -> str:
    """Zero-pad NHWC ``x`` by ``(top, bottom, left, right)``."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    pads_name = ctx.ints([0, top, left, 0, 0, bottom, right, 0], f"{hint}_pads")
    return ctx.node("Pad", [x, pads_name], f"{hint}_pad")


# ---------------------------------------------------------------------------------------- layers
@converter("Conv2D")
def convert_conv2d(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Conv2D -> ``Conv`` (NCHW, explicit pads) or, lowered, ``Pad``/``Slice``/``Concat``/``MatMul``.

    Reads config ``kernel_size``, ``strides``, ``padding``, ``dilation_rate`` (ONNX ``dilations``;
    lowered, the window slices start ``d`` pixels apart), ``data_format``, ``use_bias``,
    ``activation`` and parameters ``kernel`` ``(kh, kw, Cin, filters)`` and ``bias``. "same"
    padding is computed for the dilated window's extent ``d * (k - 1) + 1``.
    """
    cfg = layer.get_config()
    fmt = cfg.get("data_format", "channels_last")
    h, w, c = _spatial(layer, ctx, inputs[0], fmt)
    (kh, kw), (sh, sw) = _pair(cfg["kernel_size"]), _pair(cfg.get("strides", 1))
    dh, dw = _pair(cfg.get("dilation_rate", 1))
    if dh < 1 or dw < 1:
        raise _fail(layer, f"dilation_rate {(dh, dw)} must be >= 1")
    try:
        top, bottom, oh = same_or_valid(h, dh * (kh - 1) + 1, sh, cfg.get("padding", "valid"))
        left, right, ow = same_or_valid(w, dw * (kw - 1) + 1, sw, cfg.get("padding", "valid"))
    except ValueError as exc:
        raise _fail(layer, str(exc)) from exc
    kernel = _param(layer, "kernel")
    filters = kernel.shape[-1]
    if kernel.shape != (kh, kw, c, filters):
        raise _fail(layer, f"kernel shape {kernel.shape} does not fit kernel_size {(kh, kw)} and "
                           f"{c} channels")
    bias = _param(layer, "bias") if cfg.get("use_bias", True) else None
    nchw, nhwc = _layouts(fmt)
    hint = layer.name
    if ctx.lower_windows:
        x = _pad_nhwc(ctx, ctx.physical(inputs[0], nhwc), (top, bottom, left, right), hint)
        slices = _windows(ctx, x, (kh, kw), (sh, sw), (oh, ow), hint, (dh, dw))
        cols = slices[0] if len(slices) == 1 else ctx.node("Concat", slices, f"{hint}_cols", axis=3)
        y = ctx.node("MatMul", [cols, ctx.const(kernel.reshape(kh * kw * c, filters), f"{hint}/kernel")],
                     f"{hint}_matmul")
        if bias is not None:
            y = ctx.node("Add", [y, ctx.const(bias, f"{hint}/bias")], f"{hint}_bias")
        perm = nhwc
    else:
        args = [ctx.physical(inputs[0], nchw), ctx.const(kernel.transpose(3, 2, 0, 1), f"{hint}/kernel")]
        if bias is not None:
            args.append(ctx.const(bias, f"{hint}/bias"))
        y = ctx.node("Conv", args, f"{hint}_conv", kernel_shape=[kh, kw], strides=[sh, sw],
                     dilations=[dh, dw], pads=[top, left, bottom, right])
        perm = nchw
    y = _activation(layer, cfg.get("activation"), y, ctx, f"{hint}_act", perm)
    ctx.define(output, y, _out_shape(oh, ow, filters, fmt), perm)


def _pool_geometry(layer: Any, inputs: list[str], ctx: OnnxContext) -> tuple[Any, ...]:
    cfg = layer.get_config()
    fmt = cfg.get("data_format", "channels_last")
    h, w, c = _spatial(layer, ctx, inputs[0], fmt)
    k = _pair(cfg.get("pool_size", 2))
    s = k if cfg.get("strides") is None else _pair(cfg["strides"])
    padding = cfg.get("padding", "valid")
    try:
        top, bottom, oh = same_or_valid(h, k[0], s[0], padding)
        left, right, ow = same_or_valid(w, k[1], s[1], padding)
    except ValueError as exc:
        raise _fail(layer, str(exc)) from exc
    return fmt, (h, w, c), k, s, (top, bottom, left, right), (oh, ow)


@converter("MaxPooling2D")
def convert_max_pooling2d(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """MaxPooling2D -> ``MaxPool`` (NCHW; ONNX pads never win a max, as deepstep's ``-inf``).

    Reads config ``pool_size``, ``strides``, ``padding``, ``data_format``.
    """
    fmt, (_, _, c), k, s, (top, bottom, left, right), (oh, ow) = _pool_geometry(layer, inputs, ctx)
    nchw, _ = _layouts(fmt)
    y = ctx.node("MaxPool", [ctx.physical(inputs[0], nchw)], f"{layer.name}_pool", kernel_shape=list(k),
                 strides=list(s), pads=[top, left, bottom, right])
    ctx.define(output, y, _out_shape(oh, ow, c, fmt), nchw)


def _window_counts(size: int, k: int, stride: int, before: int, out: int) -> np.ndarray:
    """Real (non-padding) pixels in each of the ``out`` windows along one axis."""
    starts = np.arange(out) * stride - before
    return np.minimum(starts + k, size) - np.maximum(starts, 0)


@converter("AveragePooling2D")
def convert_average_pooling2d(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """AveragePooling2D -> ``AveragePool`` (``count_include_pad=0``) or, lowered, ``Slice``/``Sum``/``Div``.

    Reads config ``pool_size``, ``strides``, ``padding``, ``data_format``.
    """
    fmt, (h, w, c), k, s, pads, (oh, ow) = _pool_geometry(layer, inputs, ctx)
    top, bottom, left, right = pads
    nchw, nhwc = _layouts(fmt)
    hint = layer.name
    if ctx.lower_windows:
        x = _pad_nhwc(ctx, ctx.physical(inputs[0], nhwc), pads, hint)
        total = ctx.node("Sum", _windows(ctx, x, k, s, (oh, ow), hint), f"{hint}_sum")
        count = np.outer(_window_counts(h, k[0], s[0], top, oh), _window_counts(w, k[1], s[1], left, ow))
        y = ctx.node("Div", [total, ctx.const(count[:, :, None], f"{hint}/count")], f"{hint}_pool")
        perm = nhwc
    else:
        y = ctx.node("AveragePool", [ctx.physical(inputs[0], nchw)], f"{hint}_pool", kernel_shape=list(k),
                     strides=list(s), pads=[top, left, bottom, right], count_include_pad=0)
        perm = nchw
    ctx.define(output, y, _out_shape(oh, ow, c, fmt), perm)


@converter("Flatten")
def convert_flatten(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Flatten -> ``Flatten(axis=1)`` of the tensor in its logical (channels_last) order.

    A feature map held in NCHW is transposed back to NHWC first (one small Transpose) so that
    the features come out in deepstep's order and the following Dense kernel is used as saved.
    """
    info = ctx.info(inputs[0])
    size = int(np.prod(info.shape))
    if info.rank == 2:
        ctx.define(output, info.onnx_name, info.shape, info.perm)
        return
    y = ctx.node("Flatten", [ctx.physical(inputs[0])], f"{layer.name}_flatten", axis=1)
    ctx.define(output, y, (size,), (0, 1))


@converter("Dense")
def convert_dense(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Dense -> ``Gemm(x, kernel, bias)`` (kernel ``(Din, units)`` as stored), then its activation.

    Reads config ``use_bias``, ``activation`` and parameters ``kernel``, ``bias``.
    """
    cfg = layer.get_config()
    info = ctx.info(inputs[0])
    kernel = _param(layer, "kernel")
    if info.rank != 2 or kernel.shape[0] != info.shape[0]:
        raise _fail(layer, f"kernel {kernel.shape} does not fit input shape (batch, {info.shape})")
    args = [ctx.physical(inputs[0]), ctx.const(kernel, f"{layer.name}/kernel")]
    if cfg.get("use_bias", True):
        args.append(ctx.const(_param(layer, "bias"), f"{layer.name}/bias"))
    y = ctx.node("Gemm", args, f"{layer.name}_gemm")
    y = _activation(layer, cfg.get("activation"), y, ctx, f"{layer.name}_act", (0, 1))
    ctx.define(output, y, (kernel.shape[1],), (0, 1))


@converter("BatchNormalization")
def convert_batch_normalization(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """BatchNormalization (inference: running statistics) -> ``BatchNormalization`` or ``Mul``/``Add``.

    ONNX's operator normalizes axis 1 and takes ``epsilon`` as a float32 attribute: it is used
    for float32 tensors whose channel axis is held at position 1; otherwise (float64, or
    another axis) ``x * scale + shift`` with ``scale = gamma / sqrt(var + epsilon)`` and
    ``shift = beta - mean * scale`` computed here in the export dtype.
    Reads config ``axis``, ``epsilon`` and parameters ``gamma``, ``beta``, ``moving_mean``,
    ``moving_variance``.
    """
    cfg = layer.get_config()
    info = ctx.info(inputs[0])
    axis = int(cfg.get("axis", -1))
    if not -info.rank <= axis < info.rank or axis % info.rank == 0:
        raise _fail(layer, f"axis {axis} is not a channel axis of input shape (batch, {info.shape})")
    position = info.perm.index(axis % info.rank)
    eps = float(cfg.get("epsilon", 1e-3))
    gamma, beta = _param(layer, "gamma"), _param(layer, "beta")
    mean, var = _param(layer, "moving_mean"), _param(layer, "moving_variance")
    x, hint = info.onnx_name, layer.name
    if position == 1 and ctx.dtype == np.float32:
        y = ctx.node("BatchNormalization", [x, *(ctx.const(v, f"{hint}/{n}") for n, v in (
            ("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", var)))],
            f"{hint}_bn", epsilon=eps)
    else:
        dt = ctx.dtype
        scale = gamma.astype(dt) / np.sqrt(var.astype(dt) + dt.type(eps))
        shift = beta.astype(dt) - mean.astype(dt) * scale
        shape = [1] * (info.rank - 1)
        shape[position - 1] = scale.size
        y = ctx.node("Mul", [x, ctx.const(scale.reshape(shape), f"{hint}/scale")], f"{hint}_scale")
        y = ctx.node("Add", [y, ctx.const(shift.reshape(shape), f"{hint}/shift")], f"{hint}_shift")
    ctx.define(output, y, info.shape, info.perm)


def _elementwise(op: str) -> Converter:
    def convert(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
        info = ctx.info(inputs[0])
        y = ctx.node(op, [info.onnx_name], f"{layer.name}_{op.lower()}")
        ctx.define(output, y, info.shape, info.perm)
    convert.__doc__ = f"Elementwise -> ``{op}`` (any layout)."
    return convert


CONVERTERS["ReLU"] = _elementwise("Relu")
CONVERTERS["Sigmoid"] = _elementwise("Sigmoid")
CONVERTERS["Tanh"] = _elementwise("Tanh")


@converter("Activation")
def convert_activation(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Activation(name) -> the named activation (config ``activation``), as the fused ones of Conv2D/Dense."""
    info = ctx.info(inputs[0])
    name = layer.get_config()["activation"]
    y = _activation(getattr(layer, "inner", layer), name, info.onnx_name, ctx, f"{layer.name}_{name}",
                    info.perm)
    if y == info.onnx_name:  # "linear": a named copy keeps one ONNX tensor per graph tensor
        y = ctx.node("Identity", [y], f"{layer.name}_identity")
    ctx.define(output, y, info.shape, info.perm)


@converter("LeakyReLU")
def convert_leaky_relu(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """LeakyReLU -> ``LeakyRelu`` (config ``alpha``; Keras 3 calls it ``negative_slope``)."""
    cfg = layer.get_config()
    alpha = float(cfg.get("alpha", cfg.get("negative_slope", 0.01)))
    info = ctx.info(inputs[0])
    y = _leaky_relu(ctx, info.onnx_name, alpha, f"{layer.name}_leaky_relu")
    ctx.define(output, y, info.shape, info.perm)


@converter("Softmax")
def convert_softmax(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Softmax -> ``Softmax`` over the physical position of config ``axis``."""
    info = ctx.info(inputs[0])
    axis = int(layer.get_config().get("axis", -1))
    if not -info.rank < axis < info.rank or axis % info.rank == 0:
        raise _fail(layer, f"axis {axis} is not a non-batch axis of input shape (batch, {info.shape})")
    y = ctx.node("Softmax", [info.onnx_name], f"{layer.name}_softmax", axis=info.perm.index(axis % info.rank))
    ctx.define(output, y, info.shape, info.perm)


@converter("Dropout")
def convert_dropout(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Dropout is the identity at inference: no node, the output is the input tensor."""
    info = ctx.info(inputs[0])
    ctx.define(output, info.onnx_name, info.shape, info.perm)


# the augmentation layers are the identity at inference too
for _name in ("RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomBrightness",
              "RandomContrast"):
    converter(_name)(convert_dropout)


# ---------------------------------------------------------------------------------------- merging
def _aligned(layer: Any, inputs: list[str], ctx: OnnxContext,
             same_shape: bool = True) -> tuple[Any, list[str]]:
    """The first input's info and every input's ONNX name in the first input's layout."""
    if len(inputs) < 2:
        raise _fail(layer, f"it merges at least 2 inputs, got {len(inputs)}")
    first = ctx.info(inputs[0])
    for name in inputs[1:]:
        other = ctx.info(name)
        if other.rank != first.rank or (same_shape and other.shape != first.shape):
            raise _fail(layer, f"its inputs have shapes {[ctx.info(n).shape for n in inputs]}")
    return first, [ctx.physical(name, first.perm) for name in inputs]


@converter("Add")
def convert_add(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Add -> ``Sum`` of the inputs (all in the first input's layout)."""
    first, names = _aligned(layer, inputs, ctx)
    ctx.define(output, ctx.node("Sum", names, f"{layer.name}_add"), first.shape, first.perm)


@converter("Multiply")
def convert_multiply(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Multiply -> a chain of ``Mul``."""
    first, names = _aligned(layer, inputs, ctx)
    y = names[0]
    for name in names[1:]:
        y = ctx.node("Mul", [y, name], f"{layer.name}_multiply")
    ctx.define(output, y, first.shape, first.perm)


@converter("Average")
def convert_average(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Average -> ``Sum`` then ``Div`` by the number of inputs (ONNX ``Mean`` has no float64 kernel in
    onnxruntime)."""
    first, names = _aligned(layer, inputs, ctx)
    total = ctx.node("Sum", names, f"{layer.name}_sum")
    y = ctx.node("Div", [total, ctx.const(len(names), f"{layer.name}/count")], f"{layer.name}_average")
    ctx.define(output, y, first.shape, first.perm)


@converter("Concatenate")
def convert_concatenate(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """Concatenate -> ``Concat`` along the physical position of config ``axis`` (default -1)."""
    first, names = _aligned(layer, inputs, ctx, same_shape=False)
    axis = int(layer.get_config().get("axis", -1))
    if not -first.rank < axis < first.rank or axis % first.rank == 0:
        raise _fail(layer, f"axis {axis} is not a non-batch axis of input shape (batch, {first.shape})")
    logical = axis % first.rank
    shapes = [ctx.info(n).shape for n in inputs]
    def others(s: tuple[int, ...]) -> tuple[int, ...]:
        return s[:logical - 1] + s[logical:]

    if any(others(s) != others(first.shape) for s in shapes):
        raise _fail(layer, f"its inputs' shapes {shapes} differ outside axis {axis}")
    shape = list(first.shape)
    shape[logical - 1] = sum(s[logical - 1] for s in shapes)
    y = ctx.node("Concat", names, f"{layer.name}_concat", axis=first.perm.index(logical))
    ctx.define(output, y, tuple(shape), first.perm)


@converter("GlobalAveragePooling2D")
def convert_global_average_pooling2d(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """GlobalAveragePooling2D -> ``ReduceSum`` over H and W, then ``Div`` by ``H * W``.

    Reads config ``data_format`` (default channels_last) and ``keepdims`` (default False).
    """
    cfg = layer.get_config()
    fmt = cfg.get("data_format", "channels_last")
    h, w, c = _spatial(layer, ctx, inputs[0], fmt)
    info = ctx.info(inputs[0])
    keep = bool(cfg.get("keepdims", False))
    spatial = (2, 3) if fmt == "channels_first" else (1, 2)
    axes = ctx.ints(sorted(info.perm.index(a) for a in spatial), f"{layer.name}_axes")
    total = ctx.node("ReduceSum", [info.onnx_name, axes], f"{layer.name}_sum", keepdims=int(keep))
    y = ctx.node("Div", [total, ctx.const(h * w, f"{layer.name}/count")], f"{layer.name}_mean")
    if keep:
        ctx.define(output, y, _out_shape(1, 1, c, fmt), info.perm)
    else:
        ctx.define(output, y, (c,), (0, 1))


@converter("ZeroPadding2D")
def convert_zero_padding2d(layer: Any, inputs: list[str], output: str, ctx: OnnxContext) -> None:
    """ZeroPadding2D -> ``Pad`` (constant 0) on the tensor's current layout.

    Reads config ``padding`` (int, ``(rows, cols)`` or ``((top, bottom), (left, right))``) and
    ``data_format``.
    """
    cfg = layer.get_config()
    fmt = cfg.get("data_format", "channels_last")
    h, w, c = _spatial(layer, ctx, inputs[0], fmt)
    padding = cfg.get("padding", 1)
    try:
        if isinstance(padding, int | np.integer):
            (top, bottom), (left, right) = (padding, padding), (padding, padding)
        else:
            rows, cols = padding
            (top, bottom), (left, right) = (_pair(rows), _pair(cols))
    except (TypeError, ValueError) as exc:
        raise _fail(layer, f"padding {padding!r} is not ((top, bottom), (left, right))") from exc
    info = ctx.info(inputs[0])
    spatial = (2, 3) if fmt == "channels_first" else (1, 2)
    begin, end = [0] * info.rank, [0] * info.rank
    for axis, (b, e) in zip(spatial, ((top, bottom), (left, right)), strict=True):
        begin[info.perm.index(axis)], end[info.perm.index(axis)] = b, e
    y = ctx.node("Pad", [info.onnx_name, ctx.ints(begin + end, f"{layer.name}_pads")], f"{layer.name}_pad")
    ctx.define(output, y, _out_shape(h + top + bottom, w + left + right, c, fmt), info.perm)
