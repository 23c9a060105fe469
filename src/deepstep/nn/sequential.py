"""Sequential: a stack of layers with Keras' compile / fit / evaluate / predict / save."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_float_dtype, check_int, check_real
from . import functional as F
from .layers import LAYER_CLASSES, Conv2D, Dense, Dropout, Layer
from .layers.base import as_shape
from .losses import Loss, get_loss, l2_penalty
from .parameter import Parameter

__all__ = ["Sequential"]


class Sequential:
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
        self.name = name or "sequential"
        self.dtype = check_float_dtype(dtype)
        self.seed = None if seed is None else check_int(seed, "seed", 0)
        self.layers: list[Layer] = []
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.optimizer = None
        self.loss: Loss | None = None
        self.metrics: tuple[str, ...] = ()
        self.weight_decay = 0.0
        self.compiled = False
        self.epoch = 0
        self.history: dict[str, list[float]] = {}
        self.class_names: list[str] | None = None
        self.stop_training = False
        self._counters: dict[str, int] = {}
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, Sequence):
                raise TypeError(f"layers must be a list of Layer objects, got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)
        if input_shape is not None:
            self.build(input_shape)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Layer) -> None:
        """Append ``layer`` (given a unique name such as ``"conv2d_1"`` if it has none)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a deepstep.nn.Layer, got {type(layer).__name__}")
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
                        rng=np.random.default_rng(self._seed_sequence(3, len(self.layers))), dtype=self.dtype)

    def _seed_sequence(self, *keys: int) -> list[int]:
        """Entropy for a named random stream: the model seed followed by ``keys``."""
        if self.seed is None:
            self.seed = int(np.random.SeedSequence().entropy % (2**63))
        return [self.seed, *keys]

    def build(self, input_shape: Any) -> None:
        """Create every layer's weights for inputs ``(batch, *input_shape)`` (seeded by ``seed``)."""
        shape = as_shape(input_shape)
        if not self.layers:
            raise ValueError(f"model {self.name!r} has no layers to build")
        rng = np.random.default_rng(self._seed_sequence(0))
        current = shape
        for index, layer in enumerate(self.layers):
            layer.build(current, rng=rng, dtype=self.dtype)
            current = layer.output_shape
            if isinstance(layer, Dropout):  # fit reseeds it every epoch; this covers train_on_batch/forward
                layer.rng = np.random.default_rng(self._seed_sequence(4, index))
        self.input_shape = shape
        self.built = True

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        return self.layers[-1].output_shape if self.built else None

    def get_layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = [lay.name for lay in self.layers]
        raise ValueError(f"model {self.name!r} has no layer {name!r}; layers: {names}")

    def parameters(self) -> list[Parameter]:
        """Every parameter (trainable and not), layer by layer, in a fixed order."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``("<layer name>/<param name>", param)`` pairs in :meth:`parameters` order."""
        return [(f"{layer.name}/{p.name}", p) for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter value, in :meth:`parameters` order."""
        return [p.value.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as from :meth:`get_weights`) into the parameters, checking shapes."""
        params = self.named_parameters()
        if len(weights) != len(params):
            raise ValueError(f"weights must hold {len(params)} arrays for model {self.name!r}, "
                             f"got {len(weights)}")
        for (name, p), w in zip(params, weights, strict=True):
            w = np.asarray(w)
            if w.shape != p.value.shape:
                raise ValueError(f"weight {name!r} must have shape {p.value.shape}, got {w.shape}")
        for (_, p), w in zip(params, weights, strict=True):
            p.value[...] = w

    # ------------------------------------------------------------------ description
    def summary(self, print_fn: Callable[[str], Any] | None = None) -> str:
        """A table of layers, output shapes and parameter counts (returned; printed with ``print_fn``)."""
        if not self.built:
            raise ValueError(f"model {self.name!r} is not built: give input_shape or call build() first")
        rows = [(f"{layer.name} ({type(layer).__name__})",
                 "(None, " + ", ".join(map(str, layer.output_shape)) + ")",
                 f"{layer.count_params():,}") for layer in self.layers]
        header = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) + 2 for i in range(3)]
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
        """JSON-able architecture: name, dtype, seed, input shape and each layer's class and config."""
        return {
            "name": self.name, "dtype": str(self.dtype), "seed": self.seed,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                       for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Rebuild a model (fresh weights) from :meth:`get_config`'s output."""
        if not isinstance(config, dict) or "layers" not in config:
            raise ValueError("config must be a dict with a 'layers' list (from Sequential.get_config())")
        layers = []
        for i, entry in enumerate(config["layers"]):
            if not isinstance(entry, dict) or entry.get("class_name") not in LAYER_CLASSES:
                known = ", ".join(LAYER_CLASSES)
                got = entry.get("class_name") if isinstance(entry, dict) else entry
                raise ValueError(f"config['layers'][{i}] has unknown layer class {got!r}; known: {known}")
            layers.append(LAYER_CLASSES[entry["class_name"]].from_config(dict(entry.get("config", {}))))
        return cls(layers, input_shape=config.get("input_shape"), name=config.get("name"),
                   dtype=config.get("dtype", "float32"), seed=config.get("seed"))

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "adam", loss: str | Loss = "sparse_categorical_crossentropy",
                metrics: Sequence[str] = ("accuracy",), weight_decay: float = 0.0) -> None:
        """Choose the optimizer, the loss (from logits), the metrics and L2 weight decay.

        Parameters
        ----------
        optimizer : str or deepstep.optim.Optimizer
            "sgd", "rmsprop", "adam", "adamw" (default hyper-parameters) or an optimizer object.
        loss : str or Loss
            "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mse".
        metrics : sequence of str
            Only "accuracy" is supported (ignored for "mse").
        weight_decay : float
            L2 penalty ``(weight_decay / 2) * sum ||W||^2`` on every kernel, added to the loss, and
            ``weight_decay * W`` to the kernels' gradients.
        """
        from ..optim import get_optimizer

        self.optimizer = get_optimizer(optimizer)
        self.loss = get_loss(loss)
        if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
            raise TypeError(f"metrics must be a sequence of metric names, got {metrics!r}")
        for m in metrics:
            if m != "accuracy":
                raise ValueError(f"metrics may only contain 'accuracy'; got {m!r}")
        self.metrics = tuple(metrics) if self.loss.has_accuracy else ()
        self.weight_decay = check_real(weight_decay, "weight_decay", 0.0)
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"model {self.name!r} must be compiled before {what}: call model.compile(...)")

    # ------------------------------------------------------------------ passes
    def _prepare_x(self, x: Any, name: str = "x") -> np.ndarray:
        """Convert ``x`` to the model dtype and check its shape ``(N, *input_shape)``."""
        if isinstance(x, np.ndarray) and x.dtype == self.dtype:
            arr = x
        else:
            arr = np.asarray(x)
            if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer)
                                             or np.issubdtype(arr.dtype, np.floating)):
                raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
            arr = arr.astype(self.dtype)
        if not self.built:
            if arr.ndim < 2:
                raise ValueError(f"{name} must have a batch axis, got shape {arr.shape}")
            self.build(arr.shape[1:])
        want = self.input_shape
        if arr.ndim != len(want) + 1 or arr.shape[1:] != want:
            raise ValueError(f"{name} has the wrong shape for model {self.name!r}: expected (N, "
                             f"{', '.join(map(str, want))}), got {arr.shape}")
        return arr

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The logits for ``x`` of shape ``(N, *input_shape)`` (converted to the model dtype)."""
        out = self._prepare_x(x)
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Backpropagate ``dout`` (gradient of the loss with respect to the logits).

        Accumulates every parameter's ``grad`` and returns the gradient with respect to the
        input of the last :meth:`forward` (None if the first layer skipped it in training).
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:
                break
        return dout

    def _set_input_grad(self, needed: bool) -> None:
        """Tell the first layer with parameters whether it must compute its input gradient.

        Layers before it have no parameters, so in training nothing needs that gradient:
        Conv2D and Dense (``input_grad``) then skip it, and :meth:`backward` stops there.
        """
        for layer in self.layers:
            if isinstance(layer, Conv2D | Dense):
                layer.input_grad = needed
            if layer.parameters():
                return

    # ------------------------------------------------------------------ training
    def fit(self, x: Any, y: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
            callbacks: Sequence[Any] | None = None, verbose: int = 1, initial_epoch: int = 0) -> Any:
        """Train with mini-batch gradient descent; see :func:`deepstep.train.loop.fit`."""
        from ..train.loop import fit

        return fit(self, x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                   validation_split=validation_split, shuffle=shuffle, seed=seed, callbacks=callbacks,
                   verbose=verbose, initial_epoch=initial_epoch)

    def train_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        """One optimization step on the batch ``(x, y)``; returns ``{"loss", "accuracy"}`` of the batch.

        The loss (with weight decay) and accuracy are those of the forward pass before the
        update. Raises ``deepstep.train.TrainingError`` on a NaN/inf loss or gradient (the
        weights are then left unchanged).
        """
        from ..train.errors import TrainingError
        from ..train.loop import NonFiniteError, train_step

        self._require_compiled("train_on_batch")
        xa = self._prepare_x(x)
        targets = self.loss.prepare_targets(y, self.output_shape, self.dtype, "y")
        if targets.shape[0] != xa.shape[0] or xa.shape[0] == 0:
            raise ValueError(f"x and y must have the same, non-zero number of samples, got {xa.shape[0]} and "
                             f"{targets.shape[0]}")
        self._set_input_grad(False)
        try:
            loss, out = train_step(self, xa, targets, self.parameters())
        except NonFiniteError as exc:
            raise TrainingError(f"{exc} in train_on_batch; the weights were not updated") from None
        finally:
            self._set_input_grad(True)
        logs = {"loss": loss}
        if self.metrics:
            logs["accuracy"] = float(np.mean(self.loss.predictions(out) == self.loss.target_classes(targets)))
        return logs

    def _loss_and_metrics(self, x: np.ndarray, targets: np.ndarray, batch_size: int) -> dict[str, float]:
        """Mean loss (plus weight decay) and accuracy over ``x`` in inference mode."""
        total_loss, correct, n = 0.0, 0, x.shape[0]
        for start in range(0, n, batch_size):
            out = self.forward(x[start:start + batch_size])
            tb = targets[start:start + batch_size]
            loss, _ = self.loss(out, tb)
            total_loss += loss * out.shape[0]
            if self.metrics:
                correct += int(np.sum(self.loss.predictions(out) == self.loss.target_classes(tb)))
        logs = {"loss": total_loss / n + l2_penalty(self.parameters(), self.weight_decay, add_grad=False)}
        if self.metrics:
            logs["accuracy"] = correct / n
        return logs

    def evaluate(self, x: Any, y: Any, batch_size: int = 256) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(x, y)`` in inference mode."""
        self._require_compiled("evaluate")
        xa = self._prepare_x(x)
        targets = self.loss.prepare_targets(y, self.output_shape, self.dtype, "y")
        if targets.shape[0] != xa.shape[0]:
            raise ValueError(f"x and y must have the same number of samples, got {xa.shape[0]} and "
                             f"{targets.shape[0]}")
        if xa.shape[0] == 0:
            raise ValueError("x must hold at least one sample")
        return self._loss_and_metrics(xa, targets, check_int(batch_size, "batch_size", 1))

    def _link(self) -> str | None:
        if self.loss is not None:
            return self.loss.link
        return "sigmoid" if self.output_shape == (1,) else "softmax"

    def predict_proba(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities: softmax ``(N, K)``, or sigmoid ``(N, 1)`` for a binary model."""
        xa = self._prepare_x(x)
        batch_size = check_int(batch_size, "batch_size", 1)
        link = self._link()
        outs = []
        for start in range(0, xa.shape[0], batch_size):
            out = self.forward(xa[start:start + batch_size])
            if link == "softmax":
                out = F.softmax(out, axis=-1)[0]
            elif link == "sigmoid":
                out = F.sigmoid(out)[0]
            outs.append(out)
        if not outs:
            return np.zeros((0, *self.output_shape), dtype=self.dtype)
        return np.concatenate(outs, axis=0)

    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Predicted class indices ``(N,)`` (0/1 for a binary model: probability > 0.5)."""
        proba = self.predict_proba(x, batch_size)
        link = self._link()
        if link == "sigmoid":
            return (proba[:, 0] > 0.5).astype(np.int64)
        if link is None:
            raise ValueError("predict() needs a classification loss; use predict_proba() or forward() "
                             "for 'mse'")
        return np.argmax(proba, axis=-1).astype(np.int64)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Any) -> None:
        """Write the model to one ``.npz`` file atomically; see :func:`deepstep.io.save_model`."""
        from ..io import save_model

        save_model(self, path)

    def __repr__(self) -> str:
        return f"Sequential(name={self.name!r}, layers={[lay.name for lay in self.layers]})"
