"""Loss objects for Sequential.compile: validated targets around the functional losses (from logits).

Each loss maps ``(outputs, targets) -> (mean loss, d loss / d outputs)``; the model's last
layer outputs logits (no softmax/sigmoid), and the loss applies the link function
in a numerically stable way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_array
from . import functional as F
from .parameter import Parameter

__all__ = [
    "Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
    "MeanSquaredError", "LOSSES", "get_loss", "l2_penalty", "register_loss", "loss_from_config",
]


class Loss:
    """Base class: ``loss(outputs, targets) -> (mean loss, doutputs)``.

    ``prepare_targets(y, output_shape, name)`` validates and converts the whole label
    array once (before training); ``__call__`` then takes batches of prepared targets.

    A loss is the mean over the batch of per-sample losses ``l_n``; :meth:`per_sample` returns
    them, and :meth:`weighted` the weighted mean ``(1/N) sum_n w_n l_n`` (Keras'
    ``sum_over_batch_size``) with its gradient ``w_n * dmean/doutputs_n``, used by ``fit`` for
    ``class_weight`` and ``sample_weight``.

    Examples
    --------
    A custom loss (mean absolute error), registered so that ``deepstep.load`` rebuilds a model
    compiled with it::

        import numpy as np
        import deepstep
        from deepstep.nn.losses import Loss

        @deepstep.register
        class MeanAbsoluteError(Loss):
            name = "mae"
            link = None            # outputs are not class scores
            has_accuracy = False

            def prepare_targets(self, y, output_shape, dtype, name="y"):
                return np.asarray(y, dtype=dtype).reshape(-1, *output_shape)

            def __call__(self, outputs, targets):
                diff = outputs - targets
                return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size

        # model.compile(loss="mae") or model.compile(loss=MeanAbsoluteError())
    """

    name = "loss"
    #: how ``predict_proba`` turns outputs into probabilities: "softmax", "sigmoid" or None
    link: str | None = None
    has_accuracy = True

    def prepare_targets(self, y: Any, output_shape: tuple[int, ...], dtype: np.dtype,
                        name: str = "y") -> np.ndarray:
        raise NotImplementedError

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Class predictions from outputs (for accuracy)."""
        raise NotImplementedError

    def target_classes(self, targets: np.ndarray) -> np.ndarray:
        """Class indices from prepared targets (for accuracy)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def per_sample(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The loss of each sample, ``(N,)`` float64, whose mean is ``self(outputs, targets)[0]``.

        The default calls the loss on one sample at a time; the built-in losses override it.
        """
        return np.array([self(outputs[i:i + 1], targets[i:i + 1])[0] for i in range(outputs.shape[0])],
                        dtype=np.float64)

    def weighted(self, outputs: np.ndarray, targets: np.ndarray,
                 weights: np.ndarray) -> tuple[float, np.ndarray]:
        """``(1/N) sum_n w_n l_n`` and its gradient: the unweighted gradient's rows times ``w_n``.

        Parameters
        ----------
        outputs : ndarray, (N, *output_shape)
        targets : ndarray, prepared targets of N samples
        weights : ndarray, (N,), finite and >= 0
        """
        w = np.asarray(weights)
        if w.shape != (outputs.shape[0],):
            raise ValueError(f"weights must have shape ({outputs.shape[0]},) (one per sample), got {w.shape}")
        _, dout = self(outputs, targets)
        loss = float(np.mean(self.per_sample(outputs, targets) * w))
        dout = dout * w.astype(dout.dtype).reshape(-1, *([1] * (dout.ndim - 1)))
        return loss, dout


class SparseCategoricalCrossentropy(Loss):
    """Softmax cross-entropy with integer labels ``(N,)`` in ``[0, K)``."""

    name = "sparse_categorical_crossentropy"
    link = "softmax"

    def prepare_targets(self, y: Any, output_shape: tuple[int, ...], dtype: np.dtype,
                        name: str = "y") -> np.ndarray:
        arr = check_array(y, name)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{name} must be integer class labels of shape (N,) for loss {self.name!r}, "
                             f"got shape {arr.shape} (use 'categorical_crossentropy' for one-hot labels)")
        if np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError(f"{name} must hold integer class labels for loss {self.name!r}")
        num_classes = output_shape[-1]
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f"{name} holds labels out of range: expected 0 <= label < {num_classes} "
                             f"(the model's output units), got min {arr.min()} and max {arr.max()}")
        return arr.astype(np.int64)

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dout = F.softmax_cross_entropy(outputs, targets)
        return float(loss), dout

    def per_sample(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``logsumexp(z_n) - z_n[y_n]`` (or ``-sum_k Y[n, k] log p[n, k]`` for probability rows)."""
        z = outputs.astype(np.float64)
        shifted = z - z.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if targets.ndim == 1:
            return -log_p[np.arange(z.shape[0]), targets]
        return -(targets * log_p).sum(axis=1)

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        return np.argmax(outputs, axis=-1)

    def target_classes(self, targets: np.ndarray) -> np.ndarray:
        return targets


class CategoricalCrossentropy(SparseCategoricalCrossentropy):
    """Softmax cross-entropy with one-hot (or probability) labels ``(N, K)``."""

    name = "categorical_crossentropy"

    def prepare_targets(self, y: Any, output_shape: tuple[int, ...], dtype: np.dtype,
                        name: str = "y") -> np.ndarray:
        arr = check_array(y, name)
        num_classes = output_shape[-1]
        if arr.ndim != 2 or arr.shape[1] != num_classes:
            raise ValueError(f"{name} must be one-hot labels of shape (N, {num_classes}) for loss "
                             f"{self.name!r}, got shape {arr.shape} (use 'sparse_categorical_crossentropy' "
                             f"for integer labels)")
        arr = arr.astype(dtype)
        if arr.size and (arr.min() < 0 or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-3)):
            raise ValueError(f"{name} rows must be one-hot or probability vectors (>= 0, summing to 1)")
        return arr

    def target_classes(self, targets: np.ndarray) -> np.ndarray:
        return np.argmax(targets, axis=-1)


class BinaryCrossentropy(Loss):
    """Sigmoid cross-entropy with 0/1 labels ``(N,)`` or ``(N, 1)``; the model outputs one logit."""

    name = "binary_crossentropy"
    link = "sigmoid"

    def prepare_targets(self, y: Any, output_shape: tuple[int, ...], dtype: np.dtype,
                        name: str = "y") -> np.ndarray:
        if output_shape != (1,):
            raise ValueError(f"loss {self.name!r} needs a model with one output unit (logit), "
                             f"got output shape {output_shape}")
        arr = check_array(y, name)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != 1:
            raise ValueError(f"{name} must be 0/1 labels of shape (N,) or (N, 1) for loss {self.name!r}, "
                             f"got shape {arr.shape}")
        if arr.size and not np.all((arr == 0) | (arr == 1)):
            bad = arr[(arr != 0) & (arr != 1)]
            raise ValueError(f"{name} holds labels out of range: expected 0 or 1 for loss {self.name!r}, "
                             f"got e.g. {bad.ravel()[0]!r}")
        return arr.astype(dtype)

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dout = F.binary_cross_entropy_with_logits(outputs, targets)
        return float(loss), dout

    def per_sample(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``max(z, 0) - z y + log(1 + exp(-|z|))`` per sample."""
        z, t = outputs[:, 0].astype(np.float64), targets[:, 0].astype(np.float64)
        with np.errstate(under="ignore"):
            return np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        return (outputs[:, 0] > 0).astype(np.int64)

    def target_classes(self, targets: np.ndarray) -> np.ndarray:
        return targets[:, 0].astype(np.int64)


class MeanSquaredError(Loss):
    """Mean squared error; targets have the model's output shape ``(N, *output_shape)``."""

    name = "mse"
    link = None
    has_accuracy = False

    def prepare_targets(self, y: Any, output_shape: tuple[int, ...], dtype: np.dtype,
                        name: str = "y") -> np.ndarray:
        arr = check_array(y, name)
        if arr.ndim == 1 and output_shape == (1,):
            arr = arr[:, None]
        if arr.shape[1:] != tuple(output_shape):
            raise ValueError(f"{name} must have shape (N, {', '.join(map(str, output_shape))}) for loss "
                             f"{self.name!r}, got shape {arr.shape}")
        return arr.astype(dtype)

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dout = F.mean_squared_error(outputs, targets)
        return float(loss), dout

    def per_sample(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Mean of ``(outputs - targets) ** 2`` over each sample's elements."""
        diff = (outputs.astype(np.float64) - targets).reshape(outputs.shape[0], -1)
        return np.mean(diff * diff, axis=1)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                              MeanSquaredError)
}
LOSSES["mean_squared_error"] = MeanSquaredError


def _redefinition(known: type, cls: type) -> bool:
    """Whether ``cls`` redefines ``known`` (same module and qualified name: a re-run cell or reload)."""
    return (known.__module__, known.__qualname__) == (cls.__module__, cls.__qualname__)


def register_loss(cls: type[Loss], name: str | None = None) -> type[Loss]:
    """Make a custom Loss subclass usable by name in ``compile(loss=...)`` and by ``deepstep.load``.

    ``name`` defaults to ``cls.name`` (set to ``name`` when given). Registering the same class
    again, or a redefinition of it (same module and qualified name), is allowed; another class
    under a taken name is not. Returns ``cls`` (a decorator).
    """
    if not isinstance(cls, type) or not issubclass(cls, Loss):
        raise TypeError(f"register_loss needs a Loss subclass, got {cls!r}")
    key = cls.name if name is None else name
    if not isinstance(key, str) or not key or (name is None and "name" not in vars(cls)):
        raise ValueError(f"loss class {cls.__name__} needs its own name: set the class attribute 'name' "
                         "or pass name=...")
    known = LOSSES.get(key)
    if known is not None and known is not cls and not _redefinition(known, cls):
        raise ValueError(f"another loss class ({known.__module__}.{known.__qualname__}) is already "
                         f"registered as {key!r}")
    cls.name = key
    LOSSES[key] = cls
    return cls


def loss_from_config(config: Any) -> Loss:
    """Rebuild a loss from its name or from ``loss.get_config()`` (``{"name": ..., **arguments}``)."""
    if isinstance(config, str):
        return get_loss(config)
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise ValueError(f"a loss config must be a name or a dict with a 'name', got {config!r}")
    if config["name"] not in LOSSES:
        get_loss(config["name"])  # raises, listing the known names
    return LOSSES[config["name"]](**{k: v for k, v in config.items() if k != "name"})


def get_loss(loss: str | Loss) -> Loss:
    """A loss object from its name (or the object itself)."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        allowed = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"loss must be one of {allowed} or a deepstep.nn.losses.Loss (register custom "
                         f"losses with @deepstep.register); got {loss!r}")
    return LOSSES[loss]()


def l2_penalty(params: Sequence[Parameter] | Sequence[tuple[str, Parameter]], weight_decay: float,
               add_grad: bool = True, names: Sequence[str] = ("kernel",)) -> float:
    """L2 weight decay ``(weight_decay / 2) * sum ||W||^2`` over the trainable parameters whose name
    (the last component of their path) is in ``names`` (default: kernels only).

    ``params``: Parameters or ``(path, Parameter)`` pairs. With ``add_grad`` the gradient
    ``weight_decay * W`` is added to each decayed parameter's ``grad``.
    """
    if weight_decay == 0.0:
        return 0.0
    total = 0.0
    for item in params:
        p = item[1] if isinstance(item, tuple) else item
        if p.name in names and p.trainable:
            total += float(np.sum(np.square(p.value, dtype=np.float64)))
            if add_grad:
                p.grad += p.value.dtype.type(weight_decay) * p.value
    return 0.5 * weight_decay * total
