"""Models: ``Model(inputs, outputs)`` (Keras' functional API, any directed acyclic graph of layers).

A model is a :class:`~deepstep.nn.module.Module` like its layers: ``forward(x, training) ->
(logits, cache)`` runs the nodes in topological order; ``backward(dout, cache) -> dx`` runs them
in reverse, handing every input of a node its gradient and summing the gradients of a tensor
used twice (a residual shortcut, a shared layer). Training, evaluation and saving are thin
delegations to :mod:`deepstep.train` and :mod:`deepstep.io` (see :mod:`deepstep.nn.backend`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_float_dtype, check_int
from . import backend
from .layers import Dropout, Layer, get_layer_class, layer_class_name
from .losses import Loss
from .module import Module, as_float_array
from .symbolic import Input, SymbolicTensor, call_symbolic

__all__ = ["Model"]


class GraphNode:
    """One layer call inside a built model: which value slots it reads and writes."""

    __slots__ = ("layer", "in_slots", "out_slot", "takes_list", "input_needs_grad", "skippable", "kernel",
                 "call_index")

    def __init__(self, layer: Layer, in_slots: tuple[int, ...], out_slot: int, call_index: int) -> None:
        self.layer = layer
        self.in_slots = in_slots
        self.out_slot = out_slot
        self.takes_list = layer.takes_list
        self.call_index = call_index
        self.kernel = hasattr(layer, "input_grad")
        self.input_needs_grad = True
        self.skippable = False


class Model(Module):
    """A network of layers from one input tensor to one output tensor (logits).

    Parameters
    ----------
    inputs : SymbolicTensor
        From :func:`deepstep.nn.Input`.
    outputs : SymbolicTensor
        The result of calling layers on ``inputs`` (and on their outputs).
    name : str, optional
    dtype : "float32" or "float64"
        The dtype of every parameter and activation; inputs are converted to it.
    seed : int, optional
        Seeds the initial weights (layers are built in topological order from the stream
        ``[seed, 0]``, as :class:`Sequential` does) and, unless ``fit(seed=...)`` is given,
        training's shuffling, dropout and validation split.

    Examples
    --------
    >>> x = Input((8, 8, 4))
    >>> y = Conv2D(4, 3, padding="same", activation="relu")(x)
    >>> y = ReLU()(Add()([Conv2D(4, 3, padding="same")(y), x]))
    >>> model = Model(x, Dense(3)(Flatten()(y)), seed=0)
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 dtype: Any = "float32",
                 seed: int | None = None) -> None:
        self._init_state(name or "model", dtype, seed)
        if inputs is None and outputs is None:
            raise TypeError("Model needs inputs and outputs: Model(inputs=Input(shape), outputs=tensor)")
        self._inputs, self._outputs = _one_tensor(inputs, "inputs"), _one_tensor(outputs, "outputs")
        self._wire(self._inputs, self._outputs)

    def _init_state(self, name: str, dtype: Any, seed: int | None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self.name = name
        self.dtype = check_float_dtype(dtype)
        self.seed = None if seed is None else check_int(seed, "seed", 0)
        self.layers: list[Layer] = []
        self.nodes: list[GraphNode] = []
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.optimizer: Any = None
        self.loss: Loss | None = None
        self.metrics: tuple[str, ...] = ()
        self.weight_decay = 0.0
        self.weight_decay_params: tuple[str, ...] = ("kernel",)
        self.compiled = False
        self.epoch = 0
        self.history: dict[str, list[float]] = {}
        self.class_names: list[str] | None = None
        self.stop_training = False
        #: a deepstep.train.Trainer (or subclass) used by fit/evaluate/...; None: the default one
        self.trainer: Any = None

    # ------------------------------------------------------------------ graph
    def _wire(self, inputs: SymbolicTensor, outputs: SymbolicTensor) -> None:
        """Walk the nodes from ``outputs`` back to ``inputs``, name and build the layers."""
        order: list[Any] = []
        done: set[int] = set()
        sources: list[SymbolicTensor] = []

        def visit(tensor: SymbolicTensor) -> None:
            node = tensor.node
            if node is None:
                if tensor is not inputs and all(tensor is not s for s in sources):
                    sources.append(tensor)
                return
            if id(node) in done:
                return
            for t in node.inputs:
                visit(t)
            done.add(id(node))
            order.append(node)

        visit(outputs)
        if not order or not any(t is inputs for n in order for t in n.inputs):
            raise ValueError(f"model {self.name!r}: the output does not depend on the input {inputs.name!r} "
                             "(disconnected graph)")
        if sources:
            users = [n.describe() for n in order if any(t is sources[0] for t in n.inputs)]
            raise ValueError(f"model {self.name!r}: {users[0]} reads the Input {sources[0].name!r}, which is "
                             f"not the model's input {inputs.name!r}; a model takes one input tensor")
        layers: list[Layer] = []
        for node in order:
            if all(node.layer is not lay for lay in layers):
                layers.append(node.layer)
        self._name_layers(layers)
        slot_of = {id(inputs): 0}
        calls: dict[int, int] = {}
        nodes = []
        for k, node in enumerate(order):
            first = next(n for n in order if n.layer is node.layer)
            if node.input_shape != first.input_shape:
                raise ValueError(f"layer {node.layer.name!r} ({type(node.layer).__name__}) is shared "
                                 f"but called "
                                 f"on input shapes {first.input_shape} and {node.input_shape}; a shared "
                                 f"layer "
                                 "needs one input shape")
            index = calls.get(id(node.layer), 0)
            calls[id(node.layer)] = index + 1
            nodes.append(GraphNode(node.layer, tuple(slot_of[id(t)] for t in node.inputs), k + 1, index))
            slot_of[id(node.output)] = k + 1
        self.layers = layers
        self.nodes = nodes
        self.input_shape = inputs.shape
        first_shapes = {}
        for node in order:
            first_shapes.setdefault(id(node.layer), node.input_shape)
        self._build_layers([first_shapes[id(lay)] for lay in layers])
        self._plan()

    def _name_layers(self, layers: Sequence[Layer]) -> None:
        """Give unnamed layers ``"<kind>_<k>"`` (first free k), and reject two layers of one name."""
        used = {lay.name for lay in layers if lay.name is not None}
        counters: dict[str, int] = {}
        seen: dict[str, Layer] = {}
        for layer in layers:
            if layer.name is None:
                while True:
                    counters[layer.kind] = counters.get(layer.kind, 0) + 1
                    candidate = f"{layer.kind}_{counters[layer.kind]}"
                    if candidate not in used:
                        break
                layer.name = candidate
                used.add(candidate)
            if layer.name in seen and seen[layer.name] is not layer:
                raise ValueError(f"layer name {layer.name!r} is used by two layers in model {self.name!r}")
            seen[layer.name] = layer

    def seed_sequence(self, *keys: int) -> list[int]:
        """Entropy for a named random stream: the model seed (drawn once if None) followed by ``keys``."""
        if self.seed is None:
            self.seed = int(np.random.SeedSequence().entropy % (2**63))
        return [self.seed, *keys]

    def _build_layers(self, input_shapes: Sequence[Any]) -> None:
        """Build every layer (in order) from the weight stream ``[seed, 0]``; seed Dropout layers."""
        rng = np.random.default_rng(self.seed_sequence(0))
        for index, (layer, shape) in enumerate(zip(self.layers, input_shapes, strict=True)):
            if layer.built:
                if layer.dtype != self.dtype:
                    raise ValueError(f"layer {layer.name!r} was built as {layer.dtype}, model "
                                     f"{self.name!r} is "
                                     f"{self.dtype}")
            else:
                layer.build(shape, rng=rng, dtype=self.dtype)
            if isinstance(layer, Dropout):  # fit reseeds it every epoch; this covers train_on_batch/forward
                layer.rng = np.random.default_rng(self.seed_sequence(4, index))
        self.built = True

    def _plan(self) -> None:
        """Which tensors need a gradient during training (those downstream of a parameter).

        In training (``input_grad=False``) nodes that neither hold parameters nor read such a
        tensor are skipped by backward, and a Conv2D/Dense whose input needs no gradient does not
        compute it (``need_dx=False``): the first-layer skip of a chain, generalized to graphs.
        A tensor read by two nodes gets the sum of their gradients (summed out of place).
        """
        needs = [False] * (len(self.nodes) + 1)
        for node in self.nodes:
            node.input_needs_grad = any(needs[s] for s in node.in_slots)
            has_params = any(p.trainable for p in node.layer.parameters())
            node.skippable = not node.input_needs_grad and not has_params
            needs[node.out_slot] = node.input_needs_grad or has_params
        self._needs_grad = needs
        self._check_unique_parameter_names()

    def _check_unique_parameter_names(self) -> None:
        seen: set[str] = set()
        for name, _ in self.named_parameters():
            if name in seen:
                raise ValueError(f"model {self.name!r}: two parameters are named {name!r}; every "
                                 f"parameter needs "
                                 "its own path (layer name / sub-layer attribute / parameter name)")
            seen.add(name)

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        if not self.built:
            return None
        return self.nodes[-1].layer.output_shape

    def children(self) -> list[tuple[str, Module]]:
        return [(layer.name, layer) for layer in self.layers]

    def get_layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"model {self.name!r} has no layer {name!r}; layers: "
                         f"{[lay.name for lay in self.layers]}")

    # ------------------------------------------------------------------ passes
    def prepare_input(self, x: Any, name: str = "x") -> np.ndarray:
        """``x`` converted to the model dtype, checked to have shape ``(N, *input_shape)``."""
        arr = as_float_array(x, self.dtype, name)
        if not self.built:
            if arr.ndim < 2:
                raise ValueError(f"{name} must have a batch axis, got shape {arr.shape}")
            self.build(arr.shape[1:])
        want = self.input_shape
        if arr.ndim != len(want) + 1 or arr.shape[1:] != want:
            raise ValueError(f"{name} has the wrong shape for model {self.name!r}: expected (N, "
                             f"{', '.join(map(str, want))}), got {arr.shape}")
        return arr

    def build(self, input_shape: Any) -> None:  # pragma: no cover - functional models are built at creation
        raise ValueError(f"model {self.name!r} is built when created from its Input")

    def forward(self, x: Any, training: bool = False, input_grad: bool = True) -> tuple[np.ndarray, Any]:
        """``(logits, cache)`` for ``x`` of shape ``(N, *input_shape)`` (converted to the model dtype).

        ``input_grad=False`` (what training uses) lets :meth:`backward` skip the gradient with
        respect to ``x`` and every node that only feeds it; backward then returns None.
        """
        values: list[Any] = [None] * (len(self.nodes) + 1)
        values[0] = self.prepare_input(x)
        caches: list[Any] = [None] * len(self.nodes)
        training = bool(training)
        for i, node in enumerate(self.nodes):
            if node.kernel:
                node.layer.input_grad = input_grad or node.input_needs_grad
            slots = node.in_slots
            arg = [values[s] for s in slots] if node.takes_list else values[slots[0]]
            values[node.out_slot], caches[i] = node.layer.forward(arg, training)
        return values[-1], (caches, bool(input_grad))

    def backward(self, dout: np.ndarray, cache: Any) -> np.ndarray | None:
        """Backpropagate ``dout`` (gradient of the loss with respect to the logits).

        Adds into every parameter's ``grad`` and returns the gradient with respect to the input
        of the forward call that made ``cache`` (None if it ran with ``input_grad=False``).
        """
        if not isinstance(cache, tuple) or len(cache) != 2 or not isinstance(cache[0], list) \
                or len(cache[0]) != len(self.nodes):
            raise TypeError(f"model {self.name!r}: cache must be the second value returned by its forward")
        caches, input_grad = cache
        needs = self._needs_grad
        grads: list[Any] = [None] * (len(self.nodes) + 1)
        grads[-1] = dout
        for i in range(len(self.nodes) - 1, -1, -1):
            node = self.nodes[i]
            g = grads[node.out_slot]
            grads[node.out_slot] = None
            if g is None or (not input_grad and node.skippable):
                continue
            dx = node.layer.backward(g, caches[i])
            if dx is None:
                continue
            for s, d in zip(node.in_slots, dx if node.takes_list else (dx,), strict=True):
                if d is None or (not input_grad and not needs[s]):
                    continue
                grads[s] = d if grads[s] is None else grads[s] + d  # out of place: d may be shared
        return grads[0]

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        """The logits ``forward(x, training)[0]``."""
        if isinstance(x, SymbolicTensor):
            raise TypeError(f"model {self.name!r} cannot be called on a symbolic tensor (nested models "
                            f"are not "
                            "supported); call its layers instead")
        return self.forward(x, training)[0]

    def layer_outputs(self, x: Any) -> list[tuple[Layer, np.ndarray]]:
        """``(layer, output)`` of every layer call for ``x``, in topological order (inference mode)."""
        values: list[Any] = [None] * (len(self.nodes) + 1)
        values[0] = self.prepare_input(x)
        out = []
        for node in self.nodes:
            slots = node.in_slots
            arg = [values[s] for s in slots] if node.takes_list else values[slots[0]]
            values[node.out_slot] = node.layer.forward(arg, False)[0]
            out.append((node.layer, values[node.out_slot]))
        return out

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter value, in :meth:`named_parameters` order."""
        return [p.value.copy() for p in self.parameters()]

    def get_weight_dict(self) -> dict[str, np.ndarray]:
        """``{path: copy of the value}`` for every parameter."""
        return {name: p.value.copy() for name, p in self.named_parameters()}

    def set_weights(self, weights: Sequence[np.ndarray] | Mapping[str, np.ndarray]) -> None:
        """Copy ``weights`` into the parameters, checking shapes: a list as from :meth:`get_weights`,
        or a dict keyed by parameter path (every path required, no unknown ones)."""
        params = self.named_parameters()
        if isinstance(weights, Mapping):
            names = {name for name, _ in params}
            missing = [name for name, _ in params if name not in weights]
            extra = sorted(str(k) for k in weights if k not in names)
            if missing or extra:
                raise ValueError(f"weights for model {self.name!r}: missing {missing}, unknown {extra}")
            pairs = [(name, p, np.asarray(weights[name])) for name, p in params]
        else:
            if len(weights) != len(params):
                raise ValueError(f"weights must hold {len(params)} arrays for model {self.name!r}, "
                                 f"got {len(weights)}")
            pairs = [(name, p, np.asarray(w)) for (name, p), w in zip(params, weights, strict=True)]
        for name, p, w in pairs:
            if w.shape != p.value.shape:
                raise ValueError(f"weight {name!r} must have shape {p.value.shape}, got {w.shape}")
        for _, p, w in pairs:
            p.value[...] = w

    # ------------------------------------------------------------------ description
    def _summary_rows(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        header = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        labels = ["input"]
        rows = [(f"{self._input_name()} (InputLayer)", _shape_text(self.input_shape), "0", "")]
        shown: set[int] = set()
        for node in self.nodes:
            layer = node.layer
            label = layer.name if node.call_index == 0 else f"{layer.name}[{node.call_index}]"
            labels.append(label)
            params = "0" if id(layer) in shown else f"{layer.count_params():,}"
            shown.add(id(layer))
            sources = ", ".join(self._input_name() if s == 0 else labels[s] for s in node.in_slots)
            rows.append((f"{label} ({type(layer).__name__})", _shape_text(layer.output_shape), params,
                         sources))
        return header, rows

    def _input_name(self) -> str:
        return getattr(getattr(self, "_inputs", None), "name", None) or "input"

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> str:
        """A table of layer calls, output shapes, parameter counts (and, for graphs, each call's
        inputs); returned, and printed with ``print_fn``."""
        if not self.built:
            raise ValueError(f"model {self.name!r} is not built: give input_shape or call build() first")
        header, rows = self._summary_rows()
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) + 2 for i in range(len(header))]
        line = "=" * sum(widths)
        fmt = "".join(f"{{:<{w}}}" for w in widths)
        total = self.count_params()
        trainable = sum(p.size for p in self.parameters() if p.trainable)
        lines = [f'Model: "{self.name}"', line, fmt.format(*header).rstrip(), line]
        lines += [fmt.format(*r).rstrip() for r in rows]
        lines += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", line]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def get_config(self) -> dict[str, Any]:
        """JSON-able architecture: the layers (class and config), the nodes (which layer reads which
        tensors; ``"<layer>:<k>"`` is the output of the layer's k-th call) and the output."""
        labels = [self._input_name()] + [f"{n.layer.name}:{n.call_index}" for n in self.nodes]
        return {
            "name": self.name, "dtype": str(self.dtype), "seed": self.seed,
            "input": {"name": self._input_name(), "shape": list(self.input_shape)},
            "layers": [{"class_name": layer_class_name(layer),
                        "config": layer.get_config()} for layer in self.layers],
            "nodes": [{"layer": n.layer.name, "inputs": [labels[s] for s in n.in_slots]} for n in self.nodes],
            "output": labels[-1],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        """Rebuild a model (fresh weights) from :meth:`get_config`'s output.

        Raises ValueError naming the layer for an unknown layer class, a node reading a tensor
        that does not exist, or a cycle.
        """
        if not isinstance(config, dict) or not {"input", "layers", "nodes", "output"} <= set(config):
            raise ValueError("config must be a dict with 'input', 'layers', 'nodes' and 'output' "
                             "(from Model.get_config())")
        layers: dict[str, Layer] = {}
        for i, entry in enumerate(config["layers"]):
            layer = _layer_from_entry(entry, f"config['layers'][{i}]")
            if layer.name in layers:
                raise ValueError(f"config['layers'] names layer {layer.name!r} twice")
            layers[layer.name] = layer
        spec = config["input"]
        inp = Input(tuple(spec["shape"]), name=spec.get("name") or "input")
        nodes = config["nodes"]
        produced: dict[str, int] = {}
        calls: dict[str, int] = {}
        for k, node in enumerate(nodes):
            name = node.get("layer") if isinstance(node, dict) else None
            if name not in layers:
                raise ValueError(f"config['nodes'][{k}] calls layer {name!r}, which is not in "
                                 f"config['layers']")
            produced[f"{name}:{calls.get(name, 0)}"] = k
            calls[name] = calls.get(name, 0) + 1
        tensors: dict[str, SymbolicTensor] = {inp.name: inp}
        for k in _topological(nodes, produced, inp.name):
            node = nodes[k]
            layer = layers[node["layer"]]
            args = [tensors[ref] for ref in node["inputs"]]
            index = [key for key, v in produced.items() if v == k][0]
            tensors[index] = call_symbolic(layer, args if layer.takes_list else args[0])
        if config["output"] not in tensors:
            raise ValueError(f"config['output'] names tensor {config['output']!r}, which no node produces")
        return cls(inp, tensors[config["output"]], name=config.get("name"),
                   dtype=config.get("dtype", "float32"),
                   seed=config.get("seed"))

    # ------------------------------------------------------------------ training (deepstep.train)
    def compile(self, optimizer: Any = "adam", loss: str | Loss = "sparse_categorical_crossentropy",
                metrics: Sequence[str] = ("accuracy",), weight_decay: float = 0.0,
                weight_decay_params: Sequence[str] = ("kernel",)) -> None:
        """Choose the optimizer, the loss (from logits), the metrics and L2 weight decay; see
        :func:`deepstep.train.compile_model`.

        ``weight_decay_params``: the parameter names (last path component, e.g. "kernel", "gamma")
        the L2 penalty ``(weight_decay / 2) * sum ||W||^2`` applies to.
        """
        backend.get("compile")(self, optimizer=optimizer, loss=loss, metrics=metrics,
                               weight_decay=weight_decay,
                               weight_decay_params=weight_decay_params)

    def fit(self, x: Any, y: Any = None, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
            callbacks: Sequence[Any] | None = None, verbose: int = 1, initial_epoch: int = 0,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None) -> Any:
        """Train with mini-batch gradient descent on arrays, a dataset or an iterable of batches;
        see :meth:`deepstep.train.Trainer.fit`."""
        return backend.get("fit")(self, x, y, epochs=epochs, batch_size=batch_size,
                                  validation_data=validation_data, validation_split=validation_split,
                                  shuffle=shuffle, seed=seed, callbacks=callbacks, verbose=verbose,
                                  initial_epoch=initial_epoch, class_weight=class_weight,
                                  sample_weight=sample_weight)

    def train_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        """One optimization step on the batch ``(x, y)``; returns the batch's ``{"loss", "accuracy"}``."""
        return backend.get("train_on_batch")(self, x, y)

    def evaluate(self, x: Any, y: Any = None, batch_size: int = 256) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ..., <metrics>}`` on ``(x, y)``, a dataset or batches."""
        return backend.get("evaluate")(self, x, y, batch_size=batch_size)

    def predict_proba(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities: softmax ``(N, K)``, or sigmoid ``(N, 1)`` for a binary model."""
        return backend.get("predict_proba")(self, x, batch_size=batch_size)

    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Predicted class indices ``(N,)`` (0/1 for a binary model: probability > 0.5)."""
        return backend.get("predict")(self, x, batch_size=batch_size)

    def save(self, path: Any) -> None:
        """Write the model to one ``.npz`` file atomically; see :func:`deepstep.io.save_model`."""
        backend.get("save")(self, path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, layers={[lay.name for lay in self.layers]})"


def _one_tensor(value: Any, what: str) -> SymbolicTensor:
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if not isinstance(value, SymbolicTensor):
        raise TypeError(f"{what} must be one symbolic tensor (from deepstep.nn.Input and layer calls), got "
                        f"{type(value).__name__}")
    return value


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "(None, " + ", ".join(map(str, shape or ())) + ")"


def _layer_from_entry(entry: Any, where: str) -> Layer:
    """A layer from ``{"class_name", "config"}``; ValueError naming the layer if it cannot be made."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a dict with 'class_name' and 'config', got {entry!r}")
    config = dict(entry.get("config") or {})
    label = f"{where} (layer {config.get('name')!r})"
    try:
        cls = get_layer_class(entry.get("class_name"))
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    try:
        return cls.from_config(config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: cannot build {cls.__name__} from its config: {exc}") from None


def _topological(nodes: list[dict[str, Any]], produced: dict[str, int], input_name: str) -> list[int]:
    """Node indices in an order where every input exists before it is read; ValueError on a cycle or
    an unknown tensor, naming the layer."""
    deps: list[set[int]] = []
    for k, node in enumerate(nodes):
        refs = node.get("inputs")
        if not isinstance(refs, list) or not refs:
            raise ValueError(f"config['nodes'][{k}] (layer {node.get('layer')!r}) needs a non-empty "
                             f"'inputs' list")
        wanted = set()
        for ref in refs:
            if ref == input_name:
                continue
            if ref not in produced:
                raise ValueError(f"layer {node['layer']!r} reads tensor {ref!r}, which no node produces")
            wanted.add(produced[ref])
        deps.append(wanted)
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < len(nodes):
        ready = next((k for k in range(len(nodes)) if k not in placed and deps[k] <= placed), None)
        if ready is None:
            stuck = sorted({nodes[k]["layer"] for k in range(len(nodes)) if k not in placed})
            raise ValueError(f"the graph has a cycle through layers {stuck}")
        order.append(ready)
        placed.add(ready)
    return order
