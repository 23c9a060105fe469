"""The PyTorch network equivalent to a deepstep model, chain or graph (imports torch; for interop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf
from torch import nn

from .graph import same_or_valid

__all__ = ["build_torch_module", "TorchGraph"]


def _pads(step: Any, k: tuple[int, int], s: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` for ``torch.nn.functional.pad`` (TensorFlow "same": extra after);
    ``k`` is the window's extent (``d * (kernel - 1) + 1`` for a dilated convolution)."""
    shape = step.input_shape
    h, w = (shape[1], shape[2]) if step.data_format == "channels_first" else (shape[0], shape[1])
    padding = step.layer.get_config().get("padding", "valid")
    top, bottom, _ = same_or_valid(h, k[0], s[0], padding)
    left, right, _ = same_or_valid(w, k[1], s[1], padding)
    return left, right, top, bottom


class PaddedConv2d(nn.Conv2d):
    """``Conv2d`` after an explicit (possibly asymmetric) zero padding."""

    def __init__(self, *args: Any, pads: tuple[int, int, int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf.pad(x, self.pads) if any(self.pads) else x)


class PaddedPool2d(nn.Module):
    """Max pooling with ``-inf`` padding, or average pooling that excludes the padding from the count."""

    def __init__(self, mode: str, k: tuple[int, int], s: tuple[int, int], pads: tuple[int, int, int, int]):
        super().__init__()
        self.mode, self.k, self.s, self.pads = mode, k, s, pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "max":
            return tf.max_pool2d(tf.pad(x, self.pads, value=-float("inf")), self.k, self.s)
        total = tf.avg_pool2d(tf.pad(x, self.pads), self.k, self.s, divisor_override=1)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype)
        return total / tf.avg_pool2d(tf.pad(ones, self.pads), self.k, self.s, divisor_override=1)


class Merge(nn.Module):
    """Add, Multiply, Average or Concatenate (along torch dimension ``dim``) of a list of tensors."""

    def __init__(self, op: str, dim: int = 1) -> None:
        super().__init__()
        self.op, self.dim = op, dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        if self.op == "Concatenate":
            return torch.cat(xs, dim=self.dim)
        if self.op == "Multiply":
            y = xs[0]
            for x in xs[1:]:
                y = y * x
            return y
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y / len(xs) if self.op == "Average" else y


class ZeroPad(nn.Module):
    """Zero padding by ``(left, right, top, bottom)`` of an NCHW tensor."""

    def __init__(self, pads: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tf.pad(x, self.pads)


class GlobalAveragePool(nn.Module):
    """Mean over H and W of an NCHW tensor: ``(N, C, H, W) -> (N, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class TorchGraph(nn.Module):
    """Runs its modules over named tensors: ``program`` holds ``(module keys, inputs, output)`` per layer call
    (a layer's module and its fused activation, applied in turn; merges take several inputs).
    The modules are registered under the deepstep layer names, so ``state_dict`` keys are
    ``"<layer name>.weight"`` etc.; a shared layer has one module, run at each of its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.program: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []
        self.output_name = "input"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {"input": x}
        for keys, inputs, output in self.program:
            y = getattr(self, keys[0])(*(values[name] for name in inputs))
            for key in keys[1:]:
                y = getattr(self, key)(y)
            values[output] = y
        return values[self.output_name]


def _activation(name: str | None, step: Any) -> nn.Module | None:
    """The fused activation of a Conv2D/Dense step, or an Activation layer's (softmax over the last logical
    axis)."""
    layer = getattr(step.layer, "inner", step.layer)
    if name in (None, "linear"):
        return None
    if name == "leaky_relu":
        fused = getattr(layer, "activation", None)
        return nn.LeakyReLU(float(getattr(layer, "alpha", getattr(fused, "alpha", 0.01))))
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
            "softmax": lambda: nn.Softmax(dim=_torch_dim(-1, step))}[name]()


def _torch_dim(axis: int, step: Any) -> int:
    """The torch (NCHW) dimension of a logical deepstep axis."""
    rank = len(step.input_shape) + 1
    axis %= rank
    if rank == 4 and step.data_format == "channels_last":
        return {1: 2, 2: 3, 3: 1}[axis]
    return axis


def _module(step: Any) -> tuple[nn.Module | None, nn.Module | None]:
    """``(module, fused activation)`` of one step (module None for Activation("linear"))."""
    layer, cfg = step.layer, step.layer.get_config()
    kind = type(layer).__name__
    if kind == "Conv2D":
        kernel = [p for p in layer.parameters() if str(p.name).endswith("kernel")][0].value
        k, s, d = tuple(cfg["kernel_size"]), tuple(cfg["strides"]), tuple(cfg.get("dilation_rate", (1, 1)))
        span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
        conv = PaddedConv2d(kernel.shape[2], kernel.shape[3], k, s, dilation=d, bias=cfg["use_bias"],
                            pads=_pads(step, span, s))
        return conv, _activation(cfg.get("activation"), step)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        k, s = tuple(cfg["pool_size"]), tuple(cfg["strides"])
        return PaddedPool2d("max" if kind == "MaxPooling2D" else "average", k, s, _pads(step, k, s)), None
    if kind == "Dense":
        kernel = [p for p in layer.parameters() if str(p.name).endswith("kernel")][0].value
        return nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg["use_bias"]), _activation(
            cfg.get("activation"), step)
    if kind == "BatchNormalization":
        if _torch_dim(cfg["axis"], step) != 1:
            raise ValueError(f"layer {layer.name!r}: BatchNormalization over axis {cfg['axis']} is not "
                             "torch's channel axis")
        c = step.input_shape[cfg["axis"] % (len(step.input_shape) + 1) - 1]
        bn = nn.BatchNorm2d if len(step.input_shape) == 3 else nn.BatchNorm1d
        return bn(c, eps=cfg["epsilon"], momentum=1.0 - cfg["momentum"]), None
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = cfg["padding"]
        return ZeroPad((left, right, top, bottom)), None
    if kind in ("Add", "Multiply", "Average", "Concatenate"):
        return Merge(kind, _torch_dim(cfg.get("axis", -1), step)), None
    if kind == "Activation":
        return _activation(cfg["activation"], step), None
    simple = {"Flatten": nn.Flatten, "GlobalAveragePooling2D": GlobalAveragePool, "ReLU": nn.ReLU,
              "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh}
    if kind in simple:
        return simple[kind](), None
    if kind == "Dropout":
        return nn.Dropout(cfg["rate"]), None
    if kind == "Softmax":
        return nn.Softmax(dim=_torch_dim(cfg["axis"], step)), None
    return nn.LeakyReLU(cfg["alpha"]), None  # the remaining kind torch_steps admits


def build_torch_module(steps: list[Any], dtype: np.dtype, output: str) -> TorchGraph:
    """A :class:`TorchGraph` of the torch modules for ``steps`` (from ``deepstep.interop.torch_steps``)
    whose result is tensor ``output``."""
    net = TorchGraph()
    net.output_name = output
    built: dict[int, tuple[str, ...]] = {}
    for step in steps:
        if id(step.layer) not in built:
            module, act = _module(step)
            net.add_module(step.key, nn.Identity() if module is None else module)  # None: "linear"
            keys: tuple[str, ...] = (step.key,)
            if act is not None:
                net.add_module(f"{step.key}_activation", act)
                keys += (f"{step.key}_activation",)
            built[id(step.layer)] = keys
        net.program.append((built[id(step.layer)], step.inputs, step.output))
    return net.to(torch.float64 if dtype == np.float64 else torch.float32)
