"""Export deepstep models: ONNX files (``to_onnx``) and the graph view exporters share.

``deepstep.export.to_onnx`` needs the optional ``onnx`` package (``pip install 'deepstep[onnx]'``,
which also installs onnxruntime to run the files); it is imported only when called.
Weights to and from PyTorch and Keras live in :mod:`deepstep.interop`.
"""

from __future__ import annotations

import os
from typing import Any

from .graph import GRAPH_BUILDERS, ExportError, GraphNode, ModelGraph, model_graph

__all__ = ["to_onnx", "ExportError", "GraphNode", "ModelGraph", "model_graph", "GRAPH_BUILDERS"]


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError("ONNX export needs the onnx package: pip install 'deepstep[onnx]'") from exc


def to_onnx(model: Any, path: str | os.PathLike[str] | None, opset: int = 17,
            lower_windows: bool | None = None) -> Any:
    """Write ``model`` as an ONNX file; see :func:`deepstep.export.onnx_export.to_onnx`.

    Returns the ``onnx.ModelProto`` (input ``"input"``; outputs ``"logits"`` and
    ``"probabilities"``; dynamic batch axis ``"batch"``).
    """
    _require_onnx()
    from .onnx_export import to_onnx as _to_onnx

    return _to_onnx(model, path, opset=opset, lower_windows=lower_windows)
