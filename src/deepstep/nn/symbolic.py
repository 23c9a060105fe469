"""Symbolic tensors for Keras' functional API: ``Input(shape)`` and ``layer(tensor)`` record a graph.

Calling a layer on a :class:`SymbolicTensor` computes no numbers: it checks that the input
shapes fit the layer (``compute_output_shape``) and records a :class:`Node` (the layer and its
input tensors) whose output is a new symbolic tensor. :class:`deepstep.nn.Model` then walks the
nodes from its outputs back to its inputs. A layer called twice has two nodes and one set of
weights.
"""

from __future__ import annotations

from typing import Any

from .shapes import as_shape

__all__ = ["SymbolicTensor", "Node", "Input", "is_symbolic"]

_COUNTER = {"input": 0}


class SymbolicTensor:
    """A placeholder for a batch of arrays of shape ``(batch, *shape)``.

    Attributes
    ----------
    shape : tuple of int
        Without the batch axis.
    node : Node or None
        The layer call that produces it (None for an :func:`Input`).
    name : str
    """

    __slots__ = ("shape", "node", "name")

    def __init__(self, shape: tuple[int, ...], node: Node | None, name: str) -> None:
        self.shape = shape
        self.node = node
        self.name = name

    def __repr__(self) -> str:
        source = "Input" if self.node is None else f"output of {self.node.describe()}"
        return f"SymbolicTensor(shape=(None, {', '.join(map(str, self.shape))}), {source})"


class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a list for merge layers)."""

    __slots__ = ("layer", "inputs", "output", "input_shape")

    def __init__(self, layer: Any, inputs: list[SymbolicTensor], input_shape: Any,
                 output_shape: tuple[int, ...]) -> None:
        self.layer = layer
        self.inputs = inputs
        self.input_shape = input_shape
        self.output = SymbolicTensor(output_shape, self, "")

    def describe(self) -> str:
        return f"layer {self.layer.name or self.layer.kind!r} ({type(self.layer).__name__})"


def Input(shape: Any, name: str | None = None) -> SymbolicTensor:  # noqa: N802 (Keras' name)
    """A symbolic model input of shape ``(batch, *shape)``, e.g. ``Input((64, 64, 3))``."""
    if name is None:
        _COUNTER["input"] += 1
        name = "input" if _COUNTER["input"] == 1 else f"input_{_COUNTER['input']}"
    elif not isinstance(name, str) or not name or "/" in name or ":" in name:
        raise ValueError(f"name must be a non-empty string without '/' or ':', got {name!r}")
    return SymbolicTensor(as_shape(shape, "shape"), None, name)


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor or a list/tuple of them."""
    if isinstance(x, SymbolicTensor):
        return True
    return isinstance(x, list | tuple) and len(x) > 0 and all(isinstance(t, SymbolicTensor) for t in x)


def call_symbolic(layer: Any, x: Any) -> SymbolicTensor:
    """Record ``layer(x)`` for symbolic ``x``; raise one clear error naming the layer if shapes do not fit."""
    inputs = list(x) if isinstance(x, list | tuple) else [x]
    if layer.takes_list != isinstance(x, list | tuple):
        what = "a list of tensors" if layer.takes_list else "one tensor"
        raise TypeError(f"layer {layer.name or layer.kind!r} ({type(layer).__name__}) takes {what}, "
                        f"got {'a list' if isinstance(x, list | tuple) else 'one tensor'}")
    in_shape = [t.shape for t in inputs] if layer.takes_list else inputs[0].shape
    if layer.built and layer.input_shape != in_shape:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) was built for input shape "
                         f"{layer.input_shape}, got {in_shape}")
    try:
        out_shape = layer.compute_output_shape(in_shape)
    except ValueError as exc:
        msg = str(exc)
        label = f"layer {layer.name or layer.kind!r}"
        raise ValueError(msg if msg.startswith("layer ") else f"{label} ({type(layer).__name__}): "
                                                              f"{msg}") from None
    return Node(layer, inputs, in_shape, tuple(out_shape)).output
