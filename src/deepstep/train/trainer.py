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

Extension points (for data-parallel training): :meth:`Trainer.batch_indices` picks the
samples of one step from the epoch's order, and :meth:`Trainer.reduce_gradients` sees the
named gradients between backward and the optimizer step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int, check_real
from ..nn import functional as F
from ..nn.layers import Dropout
from ..nn.losses import get_loss, l2_penalty
from ..optim import get_optimizer
from .errors import TrainingError

__all__ = ["Trainer", "History", "NonFiniteError", "compile_model", "trainer_for"]


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
    metrics : sequence of str
        Only "accuracy" is supported (ignored for "mse").
    weight_decay : float
        L2 penalty ``(weight_decay / 2) * sum ||W||^2`` added to the loss, and ``weight_decay * W``
        to the gradients, of the parameters named in ``weight_decay_params``.
    weight_decay_params : sequence of str
        Parameter names (the last component of a path, e.g. "kernel", "gamma") to decay.
    """
    opt = get_optimizer(optimizer)
    loss_obj = get_loss(loss)
    if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
        raise TypeError(f"metrics must be a sequence of metric names, got {metrics!r}")
    for m in metrics:
        if m != "accuracy":
            raise ValueError(f"metrics may only contain 'accuracy'; got {m!r}")
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

    def train_step(self, xb: np.ndarray, tb: np.ndarray, named: list[tuple[str, Any]]) -> tuple[float,
                                                                                                np.ndarray]:
        """One optimization step on a prepared batch: returns ``(loss, outputs)``.

        Zero the gradients, forward in training mode, loss plus L2 weight decay, backward,
        weight-decay gradients, :meth:`reduce_gradients`, then ``optimizer.step``. If the loss or
        a trainable gradient is NaN/inf, :class:`NonFiniteError` is raised *before* the optimizer
        step, so the weights keep their last good values.
        """
        model = self.model
        model.zero_grad()
        out, cache = model.forward(xb, training=True, input_grad=False)
        loss, dout = model.loss(out, tb)
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
    def loss_and_metrics(self, x: np.ndarray, targets: np.ndarray, batch_size: int) -> dict[str, float]:
        """Mean loss (plus weight decay) and accuracy over prepared ``x`` in inference mode."""
        model = self.model
        total_loss, correct, n = 0.0, 0, x.shape[0]
        for start in range(0, n, batch_size):
            out = model.forward(x[start:start + batch_size])[0]
            tb = targets[start:start + batch_size]
            loss, _ = model.loss(out, tb)
            total_loss += loss * out.shape[0]
            if model.metrics:
                correct += int(np.sum(model.loss.predictions(out) == model.loss.target_classes(tb)))
        penalty = l2_penalty(model.named_parameters(), model.weight_decay, add_grad=False,
                             names=model.weight_decay_params)
        logs = {"loss": total_loss / n + penalty}
        if model.metrics:
            logs["accuracy"] = correct / n
        return logs

    def evaluate(self, x: Any, y: Any, batch_size: int = 256) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(x, y)`` in inference mode."""
        model = self.model
        self._require_compiled("evaluate")
        xa = model.prepare_input(x)
        targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
        if targets.shape[0] != xa.shape[0]:
            raise ValueError(f"x and y must have the same number of samples, got {xa.shape[0]} and "
                             f"{targets.shape[0]}")
        if xa.shape[0] == 0:
            raise ValueError("x must hold at least one sample")
        return self.loss_and_metrics(xa, targets, check_int(batch_size, "batch_size", 1))

    def _link(self) -> str | None:
        model = self.model
        if model.loss is not None:
            return model.loss.link
        return "sigmoid" if model.output_shape == (1,) else "softmax"

    def predict_proba(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities: softmax ``(N, K)``, or sigmoid ``(N, 1)`` for a binary model."""
        model = self.model
        xa = model.prepare_input(x)
        batch_size = check_int(batch_size, "batch_size", 1)
        link = self._link()
        outs = []
        for start in range(0, xa.shape[0], batch_size):
            out = model.forward(xa[start:start + batch_size])[0]
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
    def _split_validation(self, x: np.ndarray, targets: np.ndarray, validation_data: Any,
                          validation_split: float, seed: int) -> tuple[Any, Any, Any, Any]:
        model = self.model
        if validation_data is not None:
            if validation_split:
                raise ValueError("give validation_data or validation_split, not both")
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (x_val, y_val)")
            xv = model.prepare_input(validation_data[0], "validation_data[0]")
            tv = model.loss.prepare_targets(validation_data[1], model.output_shape, model.dtype,
                                            "validation_data[1]")
            _check_lengths(xv, tv, "validation_data[0]", "validation_data[1]")
            return x, targets, xv, tv
        if validation_split:
            n = x.shape[0]
            n_val = int(round(n * validation_split))
            if n_val < 1 or n_val >= n:
                raise ValueError(f"validation_split={validation_split} leaves {n_val} validation and "
                                 f"{n - n_val} "
                                 f"training samples out of {n}; both must be >= 1")
            order = np.random.default_rng([seed, 2]).permutation(n)
            val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            return x[train_idx], targets[train_idx], x[val_idx], targets[val_idx]
        return x, targets, None, None

    def _callbacks(self, callbacks: Sequence[Any] | None, verbose: int, steps: int, epochs: int) -> Any:
        from .callbacks import CallbackList, ProgressBar

        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(steps, epochs=epochs if epochs >= 1 else None))
        cb_list = CallbackList(cbs)
        cb_list.set_model(self.model)
        return cb_list

    def fit(self, x: Any, y: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
            callbacks: Sequence[Any] | None = None, verbose: int = 1, initial_epoch: int = 0) -> History:
        """Train the model on ``(x, y)`` from epoch ``initial_epoch`` up to ``epochs`` (exclusive).

        Each step: zero the gradients, forward in training mode, loss (+ L2 weight decay),
        NaN/inf check, backward, optimizer step on every parameter. After each epoch the
        validation loss/accuracy are computed, ``model.epoch`` and ``model.history`` are
        updated and the callbacks' ``on_epoch_end`` runs (so a ModelCheckpoint saves the
        completed epoch). ``model.stop_training = True`` ends training after the epoch.

        Parameters
        ----------
        x : array_like, shape ``(N, *input_shape)``
        y : array_like
            Integer labels ``(N,)``, one-hot ``(N, K)``, 0/1 ``(N,)``/``(N, 1)`` or regression
            targets, as the loss expects.
        epochs : int
            Index of the last epoch + 1 (Keras semantics with ``initial_epoch``).
        batch_size : int
        validation_data : (x_val, y_val), optional
        validation_split : float
            Fraction of ``(x, y)`` held out (a seeded random subset) for validation.
        shuffle : bool
            Reshuffle the training samples each epoch.
        seed : int, optional
            Seeds shuffling, dropout and the validation split (default: the model's seed).
        callbacks : list of deepstep.train.callbacks.Callback, optional
        verbose : int
            1 adds a ProgressBar callback (stderr); 0 is silent.
        initial_epoch : int
            Epoch to start from (to resume a run from a checkpoint).

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
        xa = model.prepare_input(x, "x")
        targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
        _check_lengths(xa, targets, "x", "y")
        if xa.shape[0] == 0:
            raise ValueError("x must hold at least one sample")
        xa, targets, xv, tv = self._split_validation(xa, targets, validation_data, validation_split, seed)

        n = xa.shape[0]
        steps = -(-n // batch_size)
        named = model.named_parameters()
        history = History()
        cbs = self._callbacks(callbacks, verbose, steps, epochs)
        model.stop_training = False
        dropout_layers = [m for m in model.modules() if isinstance(m, Dropout)]
        cbs.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            rng = np.random.default_rng([seed, 1, epoch])
            for layer in dropout_layers:
                layer.rng = rng
            order = rng.permutation(n) if shuffle else None
            cbs.on_epoch_begin(epoch, {})
            total_loss, correct, seen = 0.0, 0, 0
            for step in range(steps):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                idx = self.batch_indices(order, lo, hi)
                xb, tb = xa[idx], targets[idx]
                size = xb.shape[0]
                cbs.on_batch_begin(step, {"batch": step, "size": size})
                try:
                    loss, out = self.train_step(xb, tb, named)
                except NonFiniteError as exc:
                    raise TrainingError(
                        f"{exc} at epoch {epoch + 1} (0-based {epoch}), batch {step + 1} of {steps} "
                        f"(0-based {step}); the weights were not updated with this batch. Try a smaller "
                        f"learning rate or check the inputs for NaN/inf.", epoch, step) from None
                total_loss += loss * size
                seen += size
                batch_logs = {"batch": step, "size": size, "loss": loss}
                if model.metrics:
                    batch_correct = int(np.sum(model.loss.predictions(out) == model.loss.target_classes(tb)))
                    correct += batch_correct
                    batch_logs["accuracy"] = batch_correct / size
                cbs.on_batch_end(step, batch_logs)
            totals = np.array([total_loss, correct, seen], dtype=np.float64)
            total_loss, correct, seen = self.reduce_totals(totals)
            logs: dict[str, float] = {"loss": float(total_loss / seen)}
            if model.metrics:
                logs["accuracy"] = float(correct / seen)
            if xv is not None:
                val = self.loss_and_metrics(xv, tv, max(batch_size, 256))
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
