"""Sequential: a linear stack of layers, the simplest kind of :class:`~deepstep.nn.Model`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .layers import Dropout, Layer, layer_class_name
from .model import GraphNode, Model, _layer_from_entry, _shape_text
from .shapes import as_shape

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers; the last layer outputs logits.

    Parameters
    ----------
    layers : sequence of Layer, optional
    input_shape : tuple of int, optional
        The input shape without the batch axis, e.g. ``(64, 64, 3)``; the model is built
        (its weights created) as soon as it is known.
    name : str, optional
    dtype : "float32" or "float64"
        The dtype of every parameter and activation; inputs are converted to it.
    seed : int, optional
        Seeds the initial weights and, unless ``fit(seed=...)`` is given, training's
        shuffling, dropout and validation split.

    Examples
    --------
    >>> model = Sequential([Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2),
    ...                     Flatten(), Dense(10)], input_shape=(28, 28, 1), seed=0)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> history = model.fit(x, y, epochs=5, batch_size=64)            # doctest: +SKIP
    """

    def __init__(self, layers: Sequence[Layer] | None = None, input_shape: Any = None,
                 name: str | None = None, dtype: Any = "float32", seed: int | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self._init_state(name or "sequential", dtype, seed)
        self._counters: dict[str, int] = {}
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, Sequence):
                raise TypeError(f"layers must be a list of Layer objects, got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)
        if input_shape is not None:
            self.build(input_shape)

    def add(self, layer: Layer) -> None:
        """Append ``layer`` (given a unique name such as ``"conv2d_1"`` if it has none)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a deepstep.nn.Layer, got {type(layer).__name__}")
        if layer.takes_list:
            raise TypeError(f"{type(layer).__name__} merges several tensors: use the functional API "
                            "(deepstep.nn.Input and deepstep.nn.Model), not Sequential")
        if any(layer is other for other in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in the model")
        if layer.name is None:
            while True:
                self._counters[layer.kind] = self._counters.get(layer.kind, 0) + 1
                candidate = f"{layer.kind}_{self._counters[layer.kind]}"
                if all(candidate != other.name for other in self.layers):
                    break
            layer.name = candidate
        elif any(layer.name == other.name for other in self.layers):
            raise ValueError(f"layer name {layer.name!r} is already used in model {self.name!r}")
        self.layers.append(layer)
        if self.built:
            layer.build(self.layers[-2].output_shape if len(self.layers) > 1 else self.input_shape,
                        rng=np.random.default_rng(self.seed_sequence(3, len(self.layers))), dtype=self.dtype)
            self._chain()

    def build(self, input_shape: Any) -> None:
        """Create every layer's weights for inputs ``(batch, *input_shape)`` (seeded by ``seed``)."""
        shape = as_shape(input_shape)
        if not self.layers:
            raise ValueError(f"model {self.name!r} has no layers to build")
        shapes = []
        current = shape
        for layer in self.layers:  # shapes first: a misfit raises before any weight is drawn
            shapes.append(current)
            current = tuple(layer.compute_output_shape(current))
        rng = np.random.default_rng(self.seed_sequence(0))
        current = shape
        for index, layer in enumerate(self.layers):
            layer.build(current, rng=rng, dtype=self.dtype)
            current = layer.output_shape
            if isinstance(layer, Dropout):  # fit reseeds it every epoch; this covers train_on_batch/forward
                layer.rng = np.random.default_rng(self.seed_sequence(4, index))
        self.input_shape = shape
        self.built = True
        self._chain()

    def _chain(self) -> None:
        self.nodes = [GraphNode(layer, (k,), k + 1, 0) for k, layer in enumerate(self.layers)]
        self._plan()

    def _summary_rows(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        rows = [(f"{layer.name} ({type(layer).__name__})", _shape_text(layer.output_shape),
                 f"{layer.count_params():,}") for layer in self.layers]
        return ("Layer (type)", "Output Shape", "Param #"), rows

    def get_config(self) -> dict[str, Any]:
        """JSON-able architecture: name, dtype, seed, input shape and each layer's class and config."""
        return {
            "name": self.name, "dtype": str(self.dtype), "seed": self.seed,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "layers": [{"class_name": layer_class_name(layer), "config": layer.get_config()}
                       for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Rebuild a model (fresh weights) from :meth:`get_config`'s output."""
        if not isinstance(config, dict) or "layers" not in config:
            raise ValueError("config must be a dict with a 'layers' list (from Sequential.get_config())")
        layers = [_layer_from_entry(entry, f"config['layers'][{i}]")
                  for i, entry in enumerate(config["layers"])]
        return cls(layers, input_shape=config.get("input_shape"), name=config.get("name"),
                   dtype=config.get("dtype", "float32"), seed=config.get("seed"))
