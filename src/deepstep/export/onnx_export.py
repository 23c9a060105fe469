"""``to_onnx``: a deepstep model as an ONNX file that onnxruntime runs with the same outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from .. import __version__
from .._files import atomic_write
from .graph import ExportError, model_graph
from .onnx_context import ONNX_DTYPES, OnnxContext, identity
from .onnx_converters import get_converter

__all__ = ["to_onnx", "build_onnx", "DEFAULT_OPSET", "MIN_OPSET", "INPUT_SCALING"]

#: operator set written by default (onnx >= 1.12 and onnxruntime >= 1.12 know it)
DEFAULT_OPSET = 17
#: Softmax's ``axis`` means one axis (not "flatten from here") and Pad/ReduceSum/Slice take
#: their pads/axes as inputs from opset 13 on
MIN_OPSET = 13
#: how deepstep scales images before a model sees them (deepstep.data, ``deepstep predict``)
INPUT_SCALING = "x / 255: pixel intensities 0..255 scaled to [0, 1], channels last (NHWC)"


def _link(model: Any, output_shape: tuple[int, ...]) -> str | None:
    """"softmax", "sigmoid" or None: how the model's logits become probabilities (as predict_proba)."""
    loss = getattr(model, "loss", None)
    if loss is not None:
        return getattr(loss, "link", None)
    return "sigmoid" if tuple(output_shape) == (1,) else "softmax"


def _class_names(model: Any, output_shape: tuple[int, ...]) -> list[str]:
    names = getattr(model, "class_names", None)
    if names:
        return [str(n) for n in names]
    k = output_shape[-1]
    return [str(i) for i in range(2 if k == 1 else k)]


def _check_opset(opset: Any) -> int:
    highest = onnx.defs.onnx_opset_version()
    if (isinstance(opset, bool) or not isinstance(opset, int | np.integer)
            or not MIN_OPSET <= opset <= highest):
        raise ValueError(f"opset must be an int from {MIN_OPSET} to {highest} (this onnx package's newest), "
                         f"got {opset!r}")
    return int(opset)


def build_onnx(model: Any, opset: int = DEFAULT_OPSET, lower_windows: bool | None = None) -> onnx.ModelProto:
    """The ONNX model of a built deepstep model, checked with ``onnx.checker``.

    Parameters
    ----------
    model : deepstep.nn.Sequential
        A built model (float32 or float64).
    opset : int
        ONNX operator-set version, from :data:`MIN_OPSET` to the installed onnx's newest.
    lower_windows : bool, optional
        Emit Conv2D and average pooling with Slice/Concat/MatMul/Sum instead of ``Conv`` and
        ``AveragePool``. Default: only for float64, since onnxruntime's CPU provider has no
        float64 Conv or AveragePool kernel.

    Returns
    -------
    onnx.ModelProto
        One input ``"input"`` of shape ``("batch", *model.input_shape)`` (the dynamic batch
        axis ``"batch"``) and outputs ``"logits"`` (the model's output, as ``model.forward``)
        and, for a classifier, ``"probabilities"`` (as ``model.predict_proba``). Metadata
        (``metadata_props``): ``deepstep_version``, ``class_names`` (JSON list),
        ``input_scaling``, ``input_layout``, ``output_link``.

    Raises
    ------
    ExportError
        If a layer has no converter (the error names it) or does not fit its input.
    """
    opset = _check_opset(opset)
    graph = model_graph(model)
    dtype = np.dtype(getattr(model, "dtype", np.float32))
    if dtype not in ONNX_DTYPES:
        raise ExportError(f"model dtype must be float32 or float64, got {dtype}")
    lower = dtype == np.float64 if lower_windows is None else bool(lower_windows)
    ctx = OnnxContext(dtype, opset, lower_windows=lower)
    for reserved in (graph.input_name, "logits", "probabilities"):
        ctx.reserve(reserved)
    rank = len(graph.input_shape) + 1
    ctx.define(graph.input_name, graph.input_name, graph.input_shape, identity(rank))
    for node in graph.nodes:
        get_converter(node.layer)(node.layer, list(node.inputs), node.output, ctx)

    out = ctx.info(graph.output_name)
    elem = ONNX_DTYPES[dtype]
    final = ctx.physical(graph.output_name)
    ctx.nodes.append(helper.make_node("Identity", [final], ["logits"], name="logits"))
    outputs = [helper.make_tensor_value_info("logits", elem, ["batch", *out.shape])]
    link = _link(model, out.shape) if len(out.shape) == 1 else None
    if link == "softmax":
        ctx.nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="probabilities",
                                          axis=-1))
    elif link == "sigmoid":
        ctx.nodes.append(helper.make_node("Sigmoid", ["logits"], ["probabilities"], name="probabilities"))
    if link is not None:
        outputs.append(helper.make_tensor_value_info("probabilities", elem, ["batch", *out.shape]))

    inputs = [helper.make_tensor_value_info(graph.input_name, elem, ["batch", *graph.input_shape])]
    onnx_graph = helper.make_graph(ctx.nodes, str(getattr(model, "name", "deepstep_model")), inputs, outputs,
                                   initializer=ctx.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="deepstep", producer_version=__version__,
                              doc_string=f"deepstep model {getattr(model, 'name', '')!r}: input "
                                         f"{INPUT_SCALING}; outputs logits and probabilities")
    # the oldest IR version that knows this opset: older onnxruntime releases refuse newer IR versions
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    metadata = {
        "deepstep_version": __version__,
        "class_names": json.dumps(_class_names(model, out.shape)),
        "input_scaling": INPUT_SCALING,
        "input_layout": "channels_last (N, H, W, C)" if rank == 4 else f"(N, {len(graph.input_shape)} axes)",
        "output_link": str(link),
    }
    helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model: Any, path: str | os.PathLike[str] | None, opset: int = DEFAULT_OPSET,
            lower_windows: bool | None = None) -> onnx.ModelProto:
    """Export ``model`` to an ONNX file at ``path`` (written atomically); see :func:`build_onnx`.

    ``path=None`` only builds and returns the ``onnx.ModelProto``.
    """
    proto = build_onnx(model, opset=opset, lower_windows=lower_windows)
    if path is not None:
        data = proto.SerializeToString()

        def write(handle: Any) -> None:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

        atomic_write(Path(path), write)
    return proto
