"""The model-agnostic trainer behind ``model.compile/fit/evaluate/predict/train_on_batch``.

It uses only a model's public interface: ``forward(x, training, input_grad) -> (out, cache)``,
``backward(dout, cache)``, ``named_parameters()``, ``zero_grad()``, ``modules()``,
``prepare_input(x)``, ``seed_sequence()``, ``output_shape``, ``dtype`` and the attributes set
by :func:`compile_model` (``optimizer``, ``loss``, ``metrics``, ``weight_decay``,
``weight_decay_params``, ``compiled``) and by training (``epoch``, ``history``,
``stop_training``). Sequential and functional models train alike.

Randomness: every epoch draws its shuffling order and dropout masks from
``np.random.default_rng([seed, 1, epoch])`` and the validation split from
``np.random.default_rng([seed, 2])``, so a seeded run is bit-for-bit reproducible and a
run resumed at ``initial_epoch=k`` from a checkpoint sees exactly the batches the
uninterrupted run saw from epoch ``k`` on.

Data: ``fit``, ``evaluate``, ``predict`` and ``predict_proba`` take in-memory arrays ``(x, y)``,
a dataset (the :class:`deepstep.data.BatchDataset` protocol: ``batches(batch_size, shuffle=,
seed=, epoch=, training=)`` and ``num_batches(batch_size)``; epoch ``e`` of a seeded run streams
the same batches) or any re-iterable of ``(x, y)`` / ``(x, y, sample_weight)`` batches (a list, a
:class:`deepstep.data.BatchLoader`, a PyTorch-style loader of NumPy arrays). The array path is
the one described above, unchanged.

Extension points (for data-parallel training): :meth:`Trainer.batch_indices` picks the
samples of one step from the epoch's order (arrays), :meth:`Trainer.shard_batch` the part of a
streamed batch (datasets and iterables), and :meth:`Trainer.reduce_gradients` sees the
named gradients between backward and the optimizer step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._validation import check_int, check_real
from ..nn import functional as F
from ..nn.layers import AugmentationLayer, Dropout
from ..nn.losses import get_loss, l2_penalty
from ..optim import get_optimizer
from .errors import TrainingError
from .metric_objects import Metric, get_metric

__all__ = ["Trainer", "History", "NonFiniteError", "compile_model", "trainer_for", "is_batch_source"]


class History:
    """What ``fit`` returns: ``history`` maps "loss", "accuracy", "val_loss", "val_accuracy", "lr" to
    per-epoch lists (this call's epochs only), ``epoch`` lists the 0-based epoch indices run."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={self.epoch}, keys={sorted(self.history)})"


class NonFiniteError(ArithmeticError):
    """Raised by :meth:`Trainer.train_step` before any weight changes when the loss or a gradient is "
      "NaN/inf."""


def compile_model(model: Any, optimizer: Any = "adam", loss: Any = "sparse_categorical_crossentropy",
                  metrics: Sequence[str] = ("accuracy",), weight_decay: float = 0.0,
                  weight_decay_params: Sequence[str] = ("kernel",)) -> None:
    """Set ``model.optimizer``, ``model.loss``, ``model.metrics`` and the L2 weight decay.

    Parameters
    ----------
    optimizer : str or deepstep.optim.Optimizer
        "sgd", "rmsprop", "adam", "adamw" (default hyper-parameters) or an optimizer object.
    loss : str or Loss
        "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mse".
    metrics : sequence of str or Metric
        "accuracy" and the Keras names of :func:`deepstep.train.get_metric` ("top_k_categorical_accuracy",
        "precision", "recall", "f1", "auc", ...) or Metric objects; updated per batch and logged per
        epoch under their names (``val_`` + name on validation data). Ignored for "mse".
    weight_decay : float
        L2 penalty ``(weight_decay / 2) * sum ||W||^2`` added to the loss, and ``weight_decay * W``
        to the gradients, of the parameters named in ``weight_decay_params``.
    weight_decay_params : sequence of str
        Parameter names (the last component of a path, e.g. "kernel", "gamma") to decay.
    """
    opt = get_optimizer(optimizer)
    loss_obj = get_loss(loss)
    if isinstance(metrics, str) or not all(isinstance(m, str | Metric) for m in metrics):
        raise TypeError(f"metrics must be a sequence of metric names or Metric objects, got {metrics!r}")
    for m in metrics:
        if m != "accuracy":
            get_metric(m)  # raises on an unknown name
    if isinstance(weight_decay_params, str) or not all(isinstance(n, str) for n in weight_decay_params):
        raise TypeError(f"weight_decay_params must be a sequence of parameter names, got "
                        f"{weight_decay_params!r}")
    wd = check_real(weight_decay, "weight_decay", 0.0)
    model.optimizer, model.loss = opt, loss_obj
    model.metrics = tuple(metrics) if loss_obj.has_accuracy else ()
    model.weight_decay = wd
    model.weight_decay_params = tuple(weight_decay_params)
    model.compiled = True


def trainer_for(model: Any) -> Trainer:
    """``model.trainer`` if one is set, else a default :class:`Trainer`."""
    trainer = getattr(model, "trainer", None)
    return trainer if trainer is not None else Trainer(model)


def _check_lengths(x: np.ndarray, targets: np.ndarray, xname: str, yname: str) -> None:
    if x.shape[0] != targets.shape[0]:
        raise ValueError(f"{xname} and {yname} must have the same number of samples, got {x.shape[0]} "
                         f"and {targets.shape[0]}")


def is_dataset(x: Any) -> bool:
    """Whether ``x`` follows the dataset protocol (``batches`` and ``num_batches``)."""
    return callable(getattr(x, "batches", None)) and callable(getattr(x, "num_batches", None))


def is_batch_source(x: Any, y: Any) -> bool:
    """Whether ``fit`` streams ``x``: a dataset, or (with ``y`` None) an iterable of batches, not an array.

    Raises TypeError for a dataset given with ``y``.
    """
    if is_dataset(x):
        if y is not None:
            raise TypeError("y must be None when x is a dataset (it yields (x, y) batches)")
        return True
    return not (y is not None or isinstance(x, np.ndarray | str | bytes) or not isinstance(x, Iterable))


def _epoch_batches(source: Any, batch_size: int, shuffle: bool, seed: int, epoch: int,
                   training: bool, what: str) -> Iterator[Any]:
    """One epoch of raw batches from a dataset or an iterable (``set_epoch`` is called when present)."""
    if is_dataset(source):
        return iter(source.batches(batch_size, shuffle=shuffle, seed=seed, epoch=epoch, training=training))
    if callable(getattr(source, "set_epoch", None)):
        source.set_epoch(epoch)
    return iter(source)


def _steps_of(source: Any, batch_size: int) -> int | None:
    if is_dataset(source):
        return int(source.num_batches(batch_size))
    try:
        return len(source)
    except TypeError:
        return None


def _check_weights(weights: Any, n: int, name: str) -> np.ndarray:
    w = np.array(weights, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(f"{name} must hold one weight per sample, shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name} must hold finite weights >= 0")
    return w


def class_weight_table(class_weight: Any, num_classes: int) -> np.ndarray:
    """``class_weight`` (dict class index -> weight; missing classes weigh 1) as a ``(K,)`` table."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict mapping class indices to weights, got "
                        f"{type(class_weight).__name__}")
    table = np.ones(num_classes, dtype=np.float64)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, int | np.integer) or not 0 <= key < num_classes:
            raise ValueError(f"class_weight keys must be class indices in [0, {num_classes}), got {key!r}")
        v = check_real(value, f"class_weight[{key}]", 0.0)
        table[int(key)] = v
    return table


class Trainer:
    """Fit, evaluate and predict any model (see the module docstring for what it uses).

    Parameters
    ----------
    model : deepstep.nn.Model
        Compiled before :meth:`fit`, :meth:`evaluate` and :meth:`train_on_batch`.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    # ------------------------------------------------------------------ extension points
    def batch_indices(self, order: np.ndarray | None, start: int, stop: int) -> Any:
        """The samples of one step: ``order[start:stop]`` (``slice(start, stop)`` without shuffling).

        Override to take a shard of the global batch (data-parallel training); the epoch's
        order is the same on every process since it comes from the seeded stream.
        """
        return slice(start, stop) if order is None else order[start:stop]

    def shard_batch(self, xb: np.ndarray, tb: np.ndarray, wb: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The part of one streamed batch (from a dataset or an iterable) that this process trains on.

        Override to take a shard of the global batch (data-parallel training); every process
        streams the same batches. Default: the whole batch.
        """
        return xb, tb, wb

    def reduce_gradients(self, named_parameters: list[tuple[str, Any]]) -> None:
        """Called after backward and weight decay, before the NaN check and the optimizer step,
        with ``(path, Parameter)`` pairs: e.g. average ``param.grad`` over processes. Default: nothing."""

    def reduce_totals(self, totals: np.ndarray) -> np.ndarray:
        """The epoch's running totals ``[sum of loss x batch size, correct, samples]`` (float64) of this
        process, before the epoch's logs are computed: e.g. sum them over processes. Default: as is."""
        return totals

    # ------------------------------------------------------------------ one step
    def _require_compiled(self, what: str) -> None:
        if not getattr(self.model, "compiled", False):
            raise RuntimeError(f"model {self.model.name!r} must be compiled before {what}: call "
                               f"model.compile(...)")

    def train_step(self, xb: np.ndarray, tb: np.ndarray, named: list[tuple[str, Any]],
                   weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """One optimization step on a prepared batch: returns ``(loss, outputs)``.

        ``weights`` (``(B,)``, optional): per-sample loss weights (``loss.weighted``).

        Zero the gradients, forward in training mode, loss plus L2 weight decay, backward,
        weight-decay gradients, :meth:`reduce_gradients`, then ``optimizer.step``. If the loss or
        a trainable gradient is NaN/inf, :class:`NonFiniteError` is raised *before* the optimizer
        step, so the weights keep their last good values.
        """
        model = self.model
        model.zero_grad()
        out, cache = model.forward(xb, training=True, input_grad=False)
        loss, dout = model.loss(out, tb) if weights is None else model.loss.weighted(out, tb, weights)
        loss += l2_penalty(named, model.weight_decay, add_grad=False, names=model.weight_decay_params)
        if not np.isfinite(loss):
            raise NonFiniteError(f"loss became {loss}")
        model.backward(dout, cache)
        l2_penalty(named, model.weight_decay, add_grad=True, names=model.weight_decay_params)
        self.reduce_gradients(named)
        for name, p in named:
            if p.trainable and not np.all(np.isfinite(p.grad)):
                raise NonFiniteError(f"gradient of {name!r} became NaN/inf")
        model.optimizer.step(named)
        return loss, out

    def train_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        """One optimization step on the batch ``(x, y)``; returns ``{"loss", "accuracy"}`` of the batch.

        The loss (with weight decay) and accuracy are those of the forward pass before the
        update. Raises ``deepstep.train.TrainingError`` on a NaN/inf loss or gradient (the
        weights are then left unchanged).
        """
        model = self.model
        self._require_compiled("train_on_batch")
        xa = model.prepare_input(x)
        targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
        if targets.shape[0] != xa.shape[0] or xa.shape[0] == 0:
            raise ValueError(f"x and y must have the same, non-zero number of samples, got {xa.shape[0]} and "
                             f"{targets.shape[0]}")
        try:
            loss, out = self.train_step(xa, targets, model.named_parameters())
        except NonFiniteError as exc:
            raise TrainingError(f"{exc} in train_on_batch; the weights were not updated") from None
        logs = {"loss": loss}
        if model.metrics:
            hits = model.loss.predictions(out) == model.loss.target_classes(targets)
            logs["accuracy"] = float(np.mean(hits))
        return logs

    # ------------------------------------------------------------------ evaluation and prediction
    def metric_objects(self) -> list[Metric]:
        """Fresh streaming metrics for the compiled names other than "accuracy" (which is counted)."""
        model = self.model
        return [get_metric(m, from_logits=True) if isinstance(m, str) else m
                for m in model.metrics if m != "accuracy"]

    def prepare_batch(self, batch: Any, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(x, targets, weights or None)`` from a streamed ``(x, y)`` or ``(x, y, sample_weight)`` batch."""
        model = self.model
        if not isinstance(batch, tuple | list) or len(batch) not in (2, 3):
            size = f" of length {len(batch)}" if isinstance(batch, tuple | list) else ""
            raise TypeError(f"{what} must be a pair (x, y) or a triple (x, y, sample_weight), got "
                            f"{type(batch).__name__}{size}")
        xb = model.prepare_input(batch[0], f"{what} x")
        tb = model.loss.prepare_targets(batch[1], model.output_shape, model.dtype, f"{what} y")
        _check_lengths(xb, tb, f"{what} x", f"{what} y")
        if xb.shape[0] == 0:
            raise ValueError(f"{what} is empty")
        wb = _check_weights(batch[2], xb.shape[0], f"{what} sample_weight") if len(batch) == 3 else None
        return xb, tb, wb

    def evaluate_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray]],
                         what: str = "x") -> dict[str, float]:
        """Mean loss (plus weight decay), accuracy and the compiled metrics over prepared batches
        ``(x, targets)`` in inference mode."""
        model = self.model
        metric_objs = self.metric_objects() if model.metrics else []
        total_loss, correct, n = 0.0, 0, 0
        for xb, tb in batches:
            out = model.forward(xb)[0]
            loss, _ = model.loss(out, tb)
            total_loss += loss * out.shape[0]
            n += out.shape[0]
            if model.metrics:
                classes = model.loss.target_classes(tb)
                correct += int(np.sum(model.loss.predictions(out) == classes))
                for metric in metric_objs:
                    metric.update_state(classes, out)
        if n == 0:
            raise ValueError(f"{what} must hold at least one sample")
        penalty = l2_penalty(model.named_parameters(), model.weight_decay, add_grad=False,
                             names=model.weight_decay_params)
        logs = {"loss": total_loss / n + penalty}
        if model.metrics:
            if "accuracy" in model.metrics:
                logs["accuracy"] = correct / n
            logs.update({m.name: float(m.result()) for m in metric_objs})
        return logs

    def loss_and_metrics(self, x: np.ndarray, targets: np.ndarray, batch_size: int) -> dict[str, float]:
        """Mean loss (plus weight decay), accuracy and metrics over prepared ``x`` in inference mode."""
        return self.evaluate_batches((x[start:start + batch_size], targets[start:start + batch_size])
                                     for start in range(0, x.shape[0], batch_size))

    def stream_metrics(self, source: Any, batch_size: int, what: str) -> dict[str, float]:
        """:meth:`evaluate_batches` over a dataset (unshuffled, no augmentation) or an iterable of batches."""
        batches = _epoch_batches(source, batch_size, False, 0, 0, False, what)
        prepared = (self.prepare_batch(b, f"{what} batch {i}")[:2] for i, b in enumerate(batches))
        return self.evaluate_batches(prepared, what)

    def evaluate(self, x: Any, y: Any = None, batch_size: int = 256) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ..., <metrics>}`` on ``(x, y)``, a dataset or an iterable of
        ``(x, y)`` batches, in inference mode."""
        model = self.model
        self._require_compiled("evaluate")
        batch_size = check_int(batch_size, "batch_size", 1)
        if is_batch_source(x, y):
            return self.stream_metrics(x, batch_size, "x")
        if y is None:
            raise TypeError("evaluate needs y with array x (or a dataset / iterable of (x, y) batches as x)")
        xa = model.prepare_input(x)
        targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
        if targets.shape[0] != xa.shape[0]:
            raise ValueError(f"x and y must have the same number of samples, got {xa.shape[0]} and "
                             f"{targets.shape[0]}")
        if xa.shape[0] == 0:
            raise ValueError("x must hold at least one sample")
        return self.loss_and_metrics(xa, targets, batch_size)

    def _link(self) -> str | None:
        model = self.model
        if model.loss is not None:
            return model.loss.link
        return "sigmoid" if model.output_shape == (1,) else "softmax"

    def predict_proba(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities: softmax ``(N, K)``, or sigmoid ``(N, 1)`` for a binary model.

        ``x``: an array, a dataset (its samples in order, without augmentation) or an iterable
        of batches (``x`` arrays or ``(x, y)`` pairs)."""
        model = self.model
        batch_size = check_int(batch_size, "batch_size", 1)
        link = self._link()
        outs = []
        if is_batch_source(x, None):
            inputs = (model.prepare_input(b[0] if isinstance(b, tuple | list) else b, f"x batch {i}")
                      for i, b in enumerate(_epoch_batches(x, batch_size, False, 0, 0, False, "x")))
        else:
            xa = model.prepare_input(x)
            inputs = (xa[start:start + batch_size] for start in range(0, xa.shape[0], batch_size))
        for xb in inputs:
            out = model.forward(xb)[0]
            if link == "softmax":
                out = F.softmax(out, axis=-1)[0]
            elif link == "sigmoid":
                out = F.sigmoid(out)[0]
            outs.append(out)
        if not outs:
            return np.zeros((0, *model.output_shape), dtype=model.dtype)
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

    # ------------------------------------------------------------------ fit
    def _split_validation(self, x: np.ndarray, targets: np.ndarray, weights: np.ndarray | None,
                          validation_data: Any, validation_split: float,
                          seed: int) -> tuple[Any, Any, Any, Any, Any]:
        model = self.model
        if validation_data is not None:
            if validation_split:
                raise ValueError("give validation_data or validation_split, not both")
            return (x, targets, weights) + self._validation_arrays(validation_data)
        if validation_split:
            n = x.shape[0]
            n_val = int(round(n * validation_split))
            if n_val < 1 or n_val >= n:
                raise ValueError(f"validation_split={validation_split} leaves {n_val} validation and "
                                 f"{n - n_val} "
                                 f"training samples out of {n}; both must be >= 1")
            order = np.random.default_rng([seed, 2]).permutation(n)
            val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            return (x[train_idx], targets[train_idx], None if weights is None else weights[train_idx],
                    x[val_idx], targets[val_idx])
        del model
        return x, targets, weights, None, None

    def _validation_arrays(self, validation_data: Any) -> tuple[Any, Any]:
        """``(x_val, targets)`` for an array pair, ``(source, None)`` for a dataset / iterable of batches."""
        model = self.model
        if is_dataset(validation_data):
            return validation_data, None
        pair = isinstance(validation_data, tuple | list) and len(validation_data) == 2 and not isinstance(
            validation_data[0], tuple | list)
        if pair:
            xv = model.prepare_input(validation_data[0], "validation_data[0]")
            tv = model.loss.prepare_targets(validation_data[1], model.output_shape, model.dtype,
                                            "validation_data[1]")
            _check_lengths(xv, tv, "validation_data[0]", "validation_data[1]")
            return xv, tv
        if isinstance(validation_data, np.ndarray) or not isinstance(validation_data, Iterable):
            raise TypeError("validation_data must be a pair (x_val, y_val), a dataset or an iterable of "
                            f"(x, y) batches, got {type(validation_data).__name__}")
        return validation_data, None

    def _callbacks(self, callbacks: Sequence[Any] | None, verbose: int, steps: int | None,
                   epochs: int) -> Any:
        from .callbacks import CallbackList, ProgressBar

        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(steps, epochs=epochs if epochs >= 1 else None))
        cb_list = CallbackList(cbs)
        cb_list.set_model(self.model)
        return cb_list

    def fit(self, x: Any, y: Any = None, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
            callbacks: Sequence[Any] | None = None, verbose: int = 1, initial_epoch: int = 0,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None) -> History:
        """Train the model on ``(x, y)`` or a dataset from epoch ``initial_epoch`` up to ``epochs`` (excl.).

        Each step: zero the gradients, forward in training mode, loss (+ L2 weight decay),
        NaN/inf check, backward, optimizer step on every parameter. After each epoch the
        validation loss/metrics are computed, ``model.epoch`` and ``model.history`` are
        updated and the callbacks' ``on_epoch_end`` runs (so a ModelCheckpoint saves the
        completed epoch). ``model.stop_training = True`` ends training after the epoch.

        Parameters
        ----------
        x : array_like ``(N, *input_shape)``, dataset or iterable of batches
            Arrays (with ``y``); a dataset (:class:`deepstep.data.BatchDataset`: epoch ``e`` streams
            ``x.batches(batch_size, shuffle=shuffle, seed=seed, epoch=e, training=True)``, so the
            dataset's augmentation applies); or, with ``y=None``, a re-iterable of ``(x, y)`` or
            ``(x, y, sample_weight)`` batches, iterated once per epoch (``set_epoch(e)`` is called
            first when it has one). A one-shot generator serves one epoch only.
        y : array_like, optional
            Integer labels ``(N,)``, one-hot ``(N, K)``, 0/1 ``(N,)``/``(N, 1)`` or regression
            targets, as the loss expects. None when ``x`` yields batches.
        epochs : int
            Index of the last epoch + 1 (Keras semantics with ``initial_epoch``).
        batch_size : int
            Samples per step for arrays and datasets (an iterable's batches are taken as they come).
        validation_data : (x_val, y_val), dataset or iterable of (x, y) batches, optional
        validation_split : float
            Fraction of ``(x, y)`` held out (a seeded random subset) for validation; a dataset is
            split with its own ``split(validation_split, seed=seed)`` (stratified).
        shuffle : bool
            Reshuffle the training samples each epoch.
        seed : int, optional
            Seeds shuffling, dropout, augmentation layers and the validation split (default: the
            model's seed).
        callbacks : list of deepstep.train.callbacks.Callback, optional
        verbose : int
            1 adds a ProgressBar callback (stderr); 0 is silent.
        initial_epoch : int
            Epoch to start from (to resume a run from a checkpoint).
        class_weight : dict, optional
            Class index -> loss weight (classes not named weigh 1): the loss of a batch is
            ``(1/B) sum_n w[y_n] l_n`` and its gradient is weighted alike.
        sample_weight : array_like ``(N,)``, optional
            Per-sample loss weights for array ``x`` (multiplied with ``class_weight``); iterables
            give them as the third element of a batch.

        Returns
        -------
        History

        Raises
        ------
        deepstep.train.TrainingError
            If the loss or a gradient becomes NaN or infinite; the weights keep the values of
            the last good step.
        ValueError, TypeError
            Bad arguments or data (shapes, lengths, label ranges).
        """
        model = self.model
        self._require_compiled("fit")
        epochs = check_int(epochs, "epochs", 0)
        batch_size = check_int(batch_size, "batch_size", 1)
        initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
        validation_split = check_real(validation_split, "validation_split", 0.0, 1.0, inclusive_max=False)
        verbose = check_int(verbose, "verbose", 0)
        seed = check_int(seed, "seed", 0) if seed is not None else model.seed_sequence()[0]
        cw_table = None
        if class_weight is not None:
            if not model.loss.has_accuracy:
                raise ValueError(f"class_weight needs a classification loss, not {model.loss.name!r}")
            cw_table = class_weight_table(class_weight, max(2, int(model.output_shape[-1])))

        streaming = is_batch_source(x, y)
        if streaming:
            if sample_weight is not None:
                raise ValueError("sample_weight is for array x; a dataset or iterable gives per-sample "
                                 "weights as the third element of its batches")
            source = x
            if validation_split:
                if validation_data is not None:
                    raise ValueError("give validation_data or validation_split, not both")
                if not callable(getattr(x, "split", None)):
                    raise ValueError("validation_split needs arrays or a dataset with a split() method; pass "
                                     "validation_data for an iterable of batches")
                parts = x.split(validation_split=validation_split, seed=seed)
                source, validation_data = parts[0], parts[1]
            xv, tv = (None, None) if validation_data is None else self._validation_arrays(validation_data)
            steps = _steps_of(source, batch_size)
        else:
            if y is None:
                raise TypeError("fit needs y with array x (or a dataset / iterable of (x, y) batches as x)")
            xa = model.prepare_input(x, "x")
            targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
            _check_lengths(xa, targets, "x", "y")
            if xa.shape[0] == 0:
                raise ValueError("x must hold at least one sample")
            sw = (None if sample_weight is None
                  else _check_weights(sample_weight, xa.shape[0], "sample_weight"))
            xa, targets, sw, xv, tv = self._split_validation(xa, targets, sw, validation_data,
                                                             validation_split, seed)
            n = xa.shape[0]
            steps = -(-n // batch_size)

        named = model.named_parameters()
        history = History()
        cbs = self._callbacks(callbacks, verbose, steps, epochs)
        model.stop_training = False
        random_layers = [m for m in model.modules() if isinstance(m, Dropout | AugmentationLayer)]
        count_accuracy = bool(model.metrics) and "accuracy" in model.metrics
        metric_objs = self.metric_objects() if model.metrics else []
        cbs.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            rng = np.random.default_rng([seed, 1, epoch])
            for layer in random_layers:
                layer.rng = rng
            if streaming:
                raw = _epoch_batches(source, batch_size, shuffle, seed, epoch, True, "x")
                batches = (self.shard_batch(*self.prepare_batch(b, f"batch {i} of x"))
                           for i, b in enumerate(raw))
            else:
                order = rng.permutation(n) if shuffle else None
                batches = self._array_batches(xa, targets, sw, order, n, batch_size, steps)
            for metric in metric_objs:
                metric.reset_state()
            cbs.on_epoch_begin(epoch, {})
            total_loss, correct, seen = 0.0, 0, 0
            step = -1
            for step, (xb, tb, wb) in enumerate(batches):
                size = xb.shape[0]
                if cw_table is not None:
                    cw = cw_table[model.loss.target_classes(tb)]
                    wb = cw if wb is None else wb * cw
                cbs.on_batch_begin(step, {"batch": step, "size": size})
                try:
                    loss, out = (self.train_step(xb, tb, named) if wb is None
                                 else self.train_step(xb, tb, named, wb))
                except NonFiniteError as exc:
                    of = f" of {steps}" if steps is not None else ""
                    raise TrainingError(
                        f"{exc} at epoch {epoch + 1} (0-based {epoch}), batch {step + 1}{of} "
                        f"(0-based {step}); the weights were not updated with this batch. Try a smaller "
                        f"learning rate or check the inputs for NaN/inf.", epoch, step) from None
                total_loss += loss * size
                seen += size
                batch_logs = {"batch": step, "size": size, "loss": loss}
                if model.metrics:
                    classes = model.loss.target_classes(tb)
                    if count_accuracy:
                        batch_correct = int(np.sum(model.loss.predictions(out) == classes))
                        correct += batch_correct
                        batch_logs["accuracy"] = batch_correct / size
                    for metric in metric_objs:
                        metric.update_state(classes, out)
                cbs.on_batch_end(step, batch_logs)
            if step < 0:
                raise ValueError(f"x yielded no batches in epoch {epoch} (a generator serves one epoch "
                                 "only: pass a list, a dataset or a loader for several)")
            totals = np.array([total_loss, correct, seen], dtype=np.float64)
            total_loss, correct, seen = self.reduce_totals(totals)
            logs: dict[str, float] = {"loss": float(total_loss / seen)}
            if count_accuracy:
                logs["accuracy"] = float(correct / seen)
            logs.update({m.name: float(m.result()) for m in metric_objs})
            if xv is not None:
                val = (self.loss_and_metrics(xv, tv, max(batch_size, 256)) if tv is not None
                       else self.stream_metrics(xv, max(batch_size, 256), "validation_data"))
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = float(model.optimizer.learning_rate)
            model.epoch = epoch + 1
            for key, value in logs.items():
                model.history.setdefault(key, []).append(value)
            history.append(epoch, logs)
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        cbs.on_train_end({})
        return history

    def _array_batches(self, xa: np.ndarray, targets: np.ndarray, weights: np.ndarray | None,
                       order: np.ndarray | None, n: int, batch_size: int,
                       steps: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """The epoch's steps over in-memory arrays, each through :meth:`batch_indices`."""
        for step in range(steps):
            lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
            idx = self.batch_indices(order, lo, hi)
            yield xa[idx], targets[idx], None if weights is None else weights[idx]
