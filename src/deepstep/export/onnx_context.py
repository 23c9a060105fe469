"""The state of one ONNX export: emitted nodes, initializers and the layout of every tensor.

deepstep models are channels_last (NHWC) while ONNX's Conv and pooling operators are NCHW.
Rather than wrapping every convolution in two Transposes, each tensor carries a ``perm``:
its ONNX (physical) array is the logical array transposed by ``perm`` (the batch axis
included, always first). A channels_last feature map that comes out of a Conv is kept in
NCHW (``perm = (0, 3, 1, 2)``); :meth:`OnnxContext.physical` inserts one Transpose only
where a consumer needs another layout (the network input before the first Conv, Flatten,
which must flatten in channels_last order), and shares it between consumers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from .graph import ExportError

__all__ = ["OnnxContext", "TensorInfo", "ONNX_DTYPES"]

ONNX_DTYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


@dataclass(frozen=True)
class TensorInfo:
    """A graph tensor as emitted: ONNX name, logical shape (batch excluded) and physical layout.

    ``onnx_array == logical_array.transpose(perm)``; ``perm[0] == 0`` (the batch axis stays first).
    """

    onnx_name: str
    shape: tuple[int, ...]
    perm: tuple[int, ...]

    @property
    def rank(self) -> int:
        """Number of axes, batch included."""
        return len(self.shape) + 1


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


class OnnxContext:
    """Collects the nodes and initializers of one export.

    Parameters
    ----------
    dtype : numpy dtype
        float32 or float64: the dtype of every activation and weight.
    opset : int
        The ONNX operator-set version the nodes follow.
    lower_windows : bool
        Emit Conv2D and average pooling as Slice/Concat/MatMul and Slice/Sum (operators that
        onnxruntime's CPU provider runs in float64, which its Conv and AveragePool do not).
    """

    def __init__(self, dtype: Any, opset: int, lower_windows: bool = False) -> None:
        self.dtype = np.dtype(dtype)
        self.opset = opset
        self.lower_windows = lower_windows
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.tensors: dict[str, TensorInfo] = {}
        self._used: set[str] = set()
        self._transposed: dict[tuple[str, tuple[int, ...]], str] = {}

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str) -> str:
        """A new unique ONNX name starting with ``hint``."""
        name, k = hint, 1
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._used.add(name)

    # ------------------------------------------------------------------ emitting
    def const(self, value: Any, hint: str) -> str:
        """An initializer holding ``value`` in the export dtype; returns its name."""
        name = self.fresh(hint)
        array = np.ascontiguousarray(np.asarray(value, dtype=self.dtype))
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values: Any, hint: str) -> str:
        """An int64 initializer (shapes, pads, axes); returns its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        """Append one ONNX node ``op(inputs)`` with ``attrs``; returns its (single) output name."""
        output = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [output], name=self.fresh(f"{hint}/{op}"), **attrs))
        return output

    # ------------------------------------------------------------------ tensors
    def define(self, name: str, onnx_name: str, shape: tuple[int, ...], perm: tuple[int, ...]) -> None:
        """Record graph tensor ``name``: ONNX tensor ``onnx_name``, logical ``shape``, layout ``perm``."""
        if name in self.tensors:
            raise ExportError(f"tensor {name!r} is produced twice")
        self.tensors[name] = TensorInfo(onnx_name, tuple(int(d) for d in shape), tuple(perm))

    def info(self, name: str) -> TensorInfo:
        if name not in self.tensors:
            raise ExportError(f"tensor {name!r} is read before it is produced "
                              "(nodes not in topological order?)")
        return self.tensors[name]

    def physical(self, name: str, perm: tuple[int, ...] | None = None) -> str:
        """ONNX name of graph tensor ``name`` in layout ``perm`` (default: the logical layout).

        Inserts (once per tensor and layout) a Transpose when the tensor is held in another layout.
        """
        info = self.info(name)
        perm = identity(info.rank) if perm is None else tuple(perm)
        if perm == info.perm:
            return info.onnx_name
        key = (info.onnx_name, perm)
        if key not in self._transposed:
            # the physical axis i of the result holds logical axis perm[i], found at info.perm.index(perm[i])
            order = [info.perm.index(axis) for axis in perm]
            self._transposed[key] = self.node("Transpose", [info.onnx_name], f"{info.onnx_name}_t",
                                              perm=order)
        return self._transposed[key]
