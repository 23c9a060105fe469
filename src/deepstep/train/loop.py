"""The training loop behind ``Sequential.fit``: mini-batches, callbacks, history, NaN guard.

Randomness: every epoch draws its shuffling order and dropout masks from
``np.random.default_rng([seed, 1, epoch])`` and the validation split from
``np.random.default_rng([seed, 2])``, so a seeded run is bit-for-bit reproducible and a
run resumed at ``initial_epoch=k`` from a checkpoint sees exactly the batches the
uninterrupted run saw from epoch ``k`` on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_int, check_real
from ..nn.layers import Dropout
from ..nn.losses import l2_penalty

if TYPE_CHECKING:  # pragma: no cover
    from ..nn.sequential import Sequential

__all__ = ["History", "fit", "train_step", "NonFiniteError"]


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
    """Raised by :func:`train_step` before any weight changes when the loss or a gradient is NaN/inf."""


def train_step(model: Sequential, xb: np.ndarray, tb: np.ndarray, params: Sequence[Any]
               ) -> tuple[float, np.ndarray]:
    """One optimization step on a prepared batch: returns ``(loss, outputs)``.

    Zero the gradients, forward in training mode, loss plus L2 weight decay, backward,
    weight-decay gradients, then ``model.optimizer.step(params)``. If the loss or a
    trainable gradient is NaN/inf, :class:`NonFiniteError` is raised *before* the
    optimizer step, so the weights keep their last good values.
    """
    model.zero_grad()
    out = model.forward(xb, training=True)
    loss, dout = model.loss(out, tb)
    loss += l2_penalty(params, model.weight_decay, add_grad=False)
    if not np.isfinite(loss):
        raise NonFiniteError(f"loss became {loss}")
    model.backward(dout)
    l2_penalty(params, model.weight_decay, add_grad=True)
    for p in params:
        if p.trainable and not np.all(np.isfinite(p.grad)):
            raise NonFiniteError(f"gradient of {p.name!r} became NaN/inf")
    model.optimizer.step(params)
    return loss, out


def _check_lengths(x: np.ndarray, targets: np.ndarray, xname: str, yname: str) -> None:
    if x.shape[0] != targets.shape[0]:
        raise ValueError(f"{xname} and {yname} must have the same number of samples, got {x.shape[0]} "
                         f"and {targets.shape[0]}")


def _split_validation(model: Sequential, x: np.ndarray, targets: np.ndarray, validation_data: Any,
                      validation_split: float, seed: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (x_val, y_val)")
        xv = model._prepare_x(validation_data[0], "validation_data[0]")
        tv = model.loss.prepare_targets(validation_data[1], model.output_shape, model.dtype,
                                        "validation_data[1]")
        _check_lengths(xv, tv, "validation_data[0]", "validation_data[1]")
        return x, targets, xv, tv
    if validation_split:
        n = x.shape[0]
        n_val = int(round(n * validation_split))
        if n_val < 1 or n_val >= n:
            raise ValueError(f"validation_split={validation_split} leaves {n_val} validation and {n - n_val} "
                             f"training samples out of {n}; both must be >= 1")
        order = np.random.default_rng([seed, 2]).permutation(n)
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        return x[train_idx], targets[train_idx], x[val_idx], targets[val_idx]
    return x, targets, None, None


def _make_callbacks(model: Sequential, callbacks: Sequence[Any] | None, verbose: int, steps: int,
                    epochs: int) -> Any:
    from .callbacks import CallbackList, ProgressBar

    cbs = list(callbacks or [])
    if verbose:
        cbs.append(ProgressBar(steps, epochs=epochs if epochs >= 1 else None))
    cb_list = CallbackList(cbs)
    cb_list.set_model(model)
    return cb_list


def fit(model: Sequential, x: Any, y: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
        validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
        callbacks: Sequence[Any] | None = None, verbose: int = 1, initial_epoch: int = 0) -> History:
    """Train ``model`` on ``(x, y)`` from epoch ``initial_epoch`` up to ``epochs`` (exclusive).

    Each step: zero the gradients, forward in training mode, loss (+ L2 weight decay),
    NaN/inf check, backward, optimizer step on every parameter. After each epoch the
    validation loss/accuracy are computed, ``model.epoch`` and ``model.history`` are
    updated and the callbacks' ``on_epoch_end`` runs (so a ModelCheckpoint saves the
    completed epoch). ``model.stop_training = True`` ends training after the epoch.

    Parameters
    ----------
    model : Sequential
        Compiled.
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
    from .errors import TrainingError

    model._require_compiled("fit")
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
    validation_split = check_real(validation_split, "validation_split", 0.0, 1.0, inclusive_max=False)
    verbose = check_int(verbose, "verbose", 0)
    if seed is not None:
        seed = check_int(seed, "seed", 0)
    else:
        seed = model._seed_sequence()[0]
    xa = model._prepare_x(x, "x")
    targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
    _check_lengths(xa, targets, "x", "y")
    if xa.shape[0] == 0:
        raise ValueError("x must hold at least one sample")
    xa, targets, xv, tv = _split_validation(model, xa, targets, validation_data, validation_split, seed)

    n = xa.shape[0]
    steps = -(-n // batch_size)
    params = model.parameters()
    history = History()
    cbs = _make_callbacks(model, callbacks, verbose, steps, epochs)
    model.stop_training = False
    dropout_layers = [layer for layer in model.layers if isinstance(layer, Dropout)]
    model._set_input_grad(False)
    try:
        cbs.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            rng = np.random.default_rng([seed, 1, epoch])
            for layer in dropout_layers:
                layer.rng = rng
            order = rng.permutation(n) if shuffle else None
            cbs.on_epoch_begin(epoch, {})
            total_loss, correct = 0.0, 0
            for step in range(steps):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                if order is None:
                    xb, tb = xa[lo:hi], targets[lo:hi]
                else:
                    idx = order[lo:hi]
                    xb, tb = xa[idx], targets[idx]
                cbs.on_batch_begin(step, {"batch": step, "size": hi - lo})
                try:
                    loss, out = train_step(model, xb, tb, params)
                except NonFiniteError as exc:
                    raise TrainingError(
                        f"{exc} at epoch {epoch + 1} (0-based {epoch}), batch {step + 1} of {steps} "
                        f"(0-based {step}); the weights were not updated with this batch. Try a smaller "
                        f"learning rate or check the inputs for NaN/inf.", epoch, step) from None
                size = hi - lo
                total_loss += loss * size
                batch_logs = {"batch": step, "size": size, "loss": loss}
                if model.metrics:
                    batch_correct = int(np.sum(model.loss.predictions(out) == model.loss.target_classes(tb)))
                    correct += batch_correct
                    batch_logs["accuracy"] = batch_correct / size
                cbs.on_batch_end(step, batch_logs)
            logs: dict[str, float] = {"loss": total_loss / n}
            if model.metrics:
                logs["accuracy"] = correct / n
            if xv is not None:
                val = model._loss_and_metrics(xv, tv, max(batch_size, 256))
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
    finally:
        model._set_input_grad(True)
    return history
