"""The PyTorch network equivalent to a chain of deepstep layers (imports torch; used by deepstep.interop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf
from torch import nn

from .graph import same_or_valid

__all__ = ["build_torch_module", "TorchChain"]


def _pads(step: Any, k: tuple[int, int], s: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` for ``torch.nn.functional.pad`` (TensorFlow "same": extra after)."""
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


class TorchChain(nn.Module):
    """Runs its child modules in registration order (names are the deepstep layer names)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.children():
            x = module(x)
        return x


def _activation(name: str | None, step: Any) -> nn.Module | None:
    """The fused activation of a Conv2D/Dense step (softmax over the last logical axis)."""
    layer = step.layer
    if name in (None, "linear"):
        return None
    if name == "leaky_relu":
        return nn.LeakyReLU(float(getattr(getattr(layer, "activation", None), "alpha", 0.01)))
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
            "softmax": lambda: nn.Softmax(dim=_torch_dim(-1, step))}[name]()


def _torch_dim(axis: int, step: Any) -> int:
    """The torch (NCHW) dimension of a logical deepstep axis."""
    rank = len(step.input_shape) + 1
    axis %= rank
    if rank == 4 and step.data_format == "channels_last":
        return {1: 2, 2: 3, 3: 1}[axis]
    return axis


def build_torch_module(steps: list[Any], dtype: np.dtype) -> TorchChain:
    """A :class:`TorchChain` of the torch modules for ``steps`` (from ``deepstep.interop.torch_steps``)."""
    net = TorchChain()
    for step in steps:
        layer, cfg = step.layer, step.layer.get_config()
        kind = type(layer).__name__
        act = None
        if kind == "Conv2D":
            kernel = [p for p in layer.parameters() if str(p.name).endswith("kernel")][0].value
            k, s = tuple(cfg["kernel_size"]), tuple(cfg["strides"])
            module: nn.Module = PaddedConv2d(kernel.shape[2], kernel.shape[3], k, s, bias=cfg["use_bias"],
                                             pads=_pads(step, k, s))
            act = _activation(cfg.get("activation"), step)
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            k, s = tuple(cfg["pool_size"]), tuple(cfg["strides"])
            module = PaddedPool2d("max" if kind == "MaxPooling2D" else "average", k, s, _pads(step, k, s))
        elif kind == "Flatten":
            module = nn.Flatten()
        elif kind == "Dense":
            kernel = [p for p in layer.parameters() if str(p.name).endswith("kernel")][0].value
            module = nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg["use_bias"])
            act = _activation(cfg.get("activation"), step)
        elif kind == "BatchNormalization":
            if _torch_dim(cfg["axis"], step) != 1:
                raise ValueError(f"layer {layer.name!r}: BatchNormalization over axis {cfg['axis']} is not "
                                 "torch's channel axis")
            c = step.input_shape[cfg["axis"] % (len(step.input_shape) + 1) - 1]
            bn = nn.BatchNorm2d if len(step.input_shape) == 3 else nn.BatchNorm1d
            module = bn(c, eps=cfg["epsilon"], momentum=1.0 - cfg["momentum"])
        elif kind == "Dropout":
            module = nn.Dropout(cfg["rate"])
        elif kind == "Softmax":
            module = nn.Softmax(dim=_torch_dim(cfg["axis"], step))
        elif kind == "LeakyReLU":
            module = nn.LeakyReLU(cfg["alpha"])
        else:
            module = {"ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh}[kind]()
        net.add_module(step.key, module)
        if act is not None:
            net.add_module(f"{step.key}_activation", act)
    return net.to(torch.float64 if dtype == np.float64 else torch.float32)
