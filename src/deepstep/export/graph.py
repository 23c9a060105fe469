"""The exporters' view of a model: named tensors and layer nodes in topological order.

This module needs neither onnx nor torch: a model becomes a list of :class:`GraphNode`
(layer, input tensor names, output tensor name) once, and each exporter walks that list
calling the converter registered for the layer's class name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["GraphNode", "ModelGraph", "model_graph", "ExportError", "same_or_valid"]


class ExportError(ValueError):
    """A model cannot be exported: a layer kind without a converter, or an unsupported setting."""


@dataclass(frozen=True)
class GraphNode:
    """One call of a layer: ``output = layer(*inputs)``.

    Attributes
    ----------
    layer : object
        The layer (its class name selects the converter).
    inputs : tuple of str
        Names of the input tensors (several for merge layers such as Add or Concatenate).
    output : str
        Name of the tensor it produces (unique in the graph).
    """

    layer: Any
    inputs: tuple[str, ...]
    output: str


@dataclass(frozen=True)
class ModelGraph:
    """A model as tensors and nodes.

    Attributes
    ----------
    input_name : str
        The graph input's tensor name.
    input_shape : tuple of int
        The input shape without the batch axis (logical layout, as the model takes it).
    nodes : tuple of GraphNode
        In topological order (every input is produced before it is read).
    output_name : str
        The tensor holding the model's output (logits).
    """

    input_name: str
    input_shape: tuple[int, ...]
    nodes: tuple[GraphNode, ...]
    output_name: str


def _node_graph(model: Any) -> ModelGraph:
    """The graph of a :class:`~deepstep.nn.Model` (Sequential included) from its ``nodes``: each node
    reads value slots ``in_slots`` and writes ``out_slot``; slot 0 is the input, the last the output."""
    names = {0: "input"}
    nodes = []
    for node in model.nodes:
        output = f"{node.layer.name}:{node.call_index}"
        names[node.out_slot] = output
        nodes.append(GraphNode(node.layer, tuple(names[s] for s in node.in_slots), output))
    shape = tuple(int(d) for d in model.input_shape)
    return ModelGraph("input", shape, tuple(nodes), names[len(model.nodes)])


#: model class name -> function building its graph (models with ``nodes`` need no entry)
GRAPH_BUILDERS: dict[str, Callable[[Any], ModelGraph]] = {"Sequential": _node_graph, "Model": _node_graph}


def model_graph(model: Any) -> ModelGraph:
    """The node list of a built model (Sequential or functional graph, in topological order).

    Raises
    ------
    ExportError
        If the model is not built or its class has no graph builder.
    """
    kind = type(model).__name__
    builder = GRAPH_BUILDERS.get(kind, _node_graph if hasattr(model, "nodes") else None)
    if builder is None:
        raise ExportError(f"model of type {kind} cannot be exported: known model types "
                          f"{', '.join(GRAPH_BUILDERS)}")
    if not getattr(model, "built", False) or getattr(model, "input_shape", None) is None:
        raise ExportError(f"model {getattr(model, 'name', '?')!r} must be built before export "
                          "(give input_shape or call build)")
    return builder(model)


def same_or_valid(size: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """``(pad_before, pad_after, out)`` of one spatial axis for Keras ``padding`` "same" or "valid".

    >>> same_or_valid(64, 4, 1, "same")   # total 3: 1 before, 2 after
    (1, 2, 64)
    """
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        return total // 2, total - total // 2, out
    if size < k:
        raise ValueError(f"window {k} does not fit input size {size} with padding 'valid'")
    return 0, 0, (size - k) // stride + 1
