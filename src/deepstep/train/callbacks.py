"""Training callbacks (Keras semantics): early stopping, checkpoints, learning-rate schedules, progress.

The fit loop calls, in order: ``on_train_begin(logs)``; per epoch ``on_epoch_begin(epoch, logs)``,
per batch ``on_batch_begin(batch, logs)`` / ``on_batch_end(batch, logs)``, then
``on_epoch_end(epoch, logs)``; finally ``on_train_end(logs)``. ``epoch`` and ``batch`` count from 0.
Batch logs: ``{"batch", "size", "loss", "accuracy"}``; epoch logs: ``{"loss", "accuracy", "val_loss",
"val_accuracy", "lr"}`` (validation entries only when there is validation data).

A callback sees the model through ``self.model``; the callbacks here use only ``model.parameters()``
(Parameters with ``.value``), ``model.optimizer.learning_rate``, ``model.stop_training`` and
``model.save(path)``.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO

import numpy as np

from .._validation import check_choice, check_int, check_real

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "ProgressBar",
    "ReduceLROnPlateau",
    "CSVLogger",
    "TensorBoard",
]


class Callback:
    """Base class: every hook is a no-op; subclasses override the ones they need."""

    def __init__(self) -> None:
        self.model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass


class CallbackList(Callback):
    """Dispatch every hook to a list of callbacks, in order.

    Parameters
    ----------
    callbacks : iterable of Callback, optional
    model : object, optional
        Passed to every callback's ``set_model``.
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, model: Any = None) -> None:
        super().__init__()
        self.callbacks: list[Callback] = []
        for cb in callbacks or ():
            self.append(cb)
        if model is not None:
            self.set_model(model)

    def append(self, callback: Callback) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(callback).__name__}")
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def set_model(self, model: Any) -> None:
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)


def _resolve_mode(mode: str, monitor: str) -> str:
    """``"auto"`` -> ``"max"`` for accuracy-like monitors (name contains "acc"), else ``"min"``."""
    check_choice(mode, "mode", ("auto", "min", "max"))
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _initial_best(mode: str) -> float:
    """The value every first observation improves on."""
    return math.inf if mode == "min" else -math.inf


def _is_better(value: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    """``value < best - min_delta`` in mode ``"min"``, ``value > best + min_delta`` in mode ``"max"``."""
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(logs: Mapping[str, Any] | None, monitor: str, who: str) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        available = ", ".join(sorted(logs or {})) or "none"
        warnings.warn(f"{who}: monitored value {monitor!r} is not in the epoch logs (available: {available});"
                      " skipping this epoch", RuntimeWarning, stacklevel=3)
        return None
    return float(value)


class EarlyStopping(Callback):
    """Stop training when a monitored value has stopped improving (Keras 3 semantics).

    An epoch improves when ``value < best - min_delta`` (mode ``"min"``) or ``value > best + min_delta``
    (``"max"``). Training stops (``model.stop_training = True``) once ``patience`` epochs in a row have
    not improved (``patience=0``: at the first epoch that does not improve).

    Parameters
    ----------
    monitor : str
        Key of the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    patience : int
        Number of non-improving epochs tolerated, >= 0.
    min_delta : float
        Minimum change counted as an improvement, >= 0.
    mode : {"auto", "min", "max"}
        ``"auto"``: ``"max"`` when the monitor's name contains ``"acc"``, else ``"min"``.
    restore_best_weights : bool
        At the end of training, copy back the parameter values of the best epoch.

    Attributes
    ----------
    best, best_epoch, stopped_epoch, wait
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a non-empty str, got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = check_real(min_delta, "min_delta", 0.0)
        self.mode = _resolve_mode(mode, monitor)
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = _initial_best(self.mode)
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None:
            return
        self.wait += 1
        if _is_better(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = [p.value.copy() for p in self.model.parameters()]
            return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            params = list(self.model.parameters())
            if len(params) != len(self.best_weights):
                raise RuntimeError(f"EarlyStopping: the model has {len(params)} parameters, but "
                                   f"{len(self.best_weights)} were saved at the best epoch")
            for p, best in zip(params, self.best_weights, strict=True):
                if p.value.shape != best.shape:
                    raise RuntimeError(f"EarlyStopping: parameter {getattr(p, 'name', '?')!r} changed shape "
                                       f"from {best.shape} to {p.value.shape} since the best epoch")
                p.value[...] = best


_LOG_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


class ModelCheckpoint(Callback):
    """Save the model with ``model.save(path)`` at the end of epochs.

    Parameters
    ----------
    filepath : str or os.PathLike
        May hold ``str.format`` fields: ``{epoch}`` (1-based number of the epoch just completed, i.e.
        ``model.epoch`` afterwards, as in Keras) and the epoch-log keys, e.g.
        ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``.
    monitor : str
        Epoch-log key compared when ``save_best_only``.
    save_best_only : bool
        Save only when ``monitor`` improves on the best value so far; otherwise save every epoch.
    mode : {"auto", "min", "max"}
        As in :class:`EarlyStopping`.

    Attributes
    ----------
    best : float
        Best monitored value so far.
    last_saved : str or None
        Path of the most recent save.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = True,
                 mode: str = "auto") -> None:
        super().__init__()
        if not isinstance(filepath, str | os.PathLike):
            raise TypeError(f"filepath must be a str or os.PathLike, got {type(filepath).__name__}")
        self.filepath = os.fspath(filepath)
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a non-empty str, got {monitor!r}")
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _resolve_mode(mode, monitor)
        try:
            self.filepath.format(epoch=1, **dict.fromkeys(_LOG_KEYS, 0.0))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"filepath {self.filepath!r} has a bad format field ({exc!r}); allowed fields: "
                             f"epoch, {', '.join(_LOG_KEYS)}") from exc
        self.best = _initial_best(self.mode)
        self.last_saved: str | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best = _initial_best(self.mode)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None:
                return
            if not _is_better(value, self.best, self.mode):
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as exc:
            raise ValueError(f"filepath {self.filepath!r} needs {exc} but the epoch logs only hold "
                             f"{', '.join(sorted(logs))}") from exc
        self.model.save(path)
        self.last_saved = path


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate = schedule(epoch)`` at the start of every epoch.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch) -> float`` (e.g. a :mod:`deepstep.optim.schedules` object) or, Keras style,
        ``schedule(epoch, current_lr) -> float``. The value must be a finite float > 0.

    The rate used is written to the logs as ``"lr"`` (at epoch begin and end).
    """

    def __init__(self, schedule: Callable[..., float]) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self._takes_lr = _positional_arity(schedule) >= 2

    def _optimizer(self) -> Any:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise RuntimeError("LearningRateScheduler needs a compiled model (model.optimizer is None)")
        return optimizer

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = self._optimizer()
        lr = self.schedule(epoch, optimizer.learning_rate) if self._takes_lr else self.schedule(epoch)
        try:
            lr = check_real(lr, "schedule(epoch)", 0.0, inclusive_min=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"LearningRateScheduler: schedule returned {lr!r} at epoch {epoch}; "
                             "a learning rate must be a finite float > 0") from exc
        optimizer.learning_rate = lr
        if logs is not None:
            logs["lr"] = lr

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(self._optimizer().learning_rate)


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return 2
    return sum(1 for p in params if p.kind in kinds)


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ProgressBar(Callback):
    """Per-epoch progress over batches, then a one-line summary, written to stderr.

    Uses tqdm when it is installed (``pip install 'deepstep[progress]'``), else a plain text line
    redrawn with ``\\r``. The bar shows the running mean loss and accuracy of the epoch (weighted by
    batch size), images per second and the estimated time to the end of the epoch. The summary line
    lists the epoch's time, images/s and every value of the epoch logs (loss, accuracy, val_loss,
    val_accuracy, lr).

    Parameters
    ----------
    total_batches : int or None
        Batches per epoch (None if unknown: no ETA).
    epochs : int, optional
        Total number of epochs, shown as ``Epoch 3/10``.
    file : text stream, optional
        Defaults to ``sys.stderr``.
    use_tqdm : bool, optional
        None: use tqdm if installed; True: require it; False: plain text.
    min_interval : float
        Minimum seconds between redraws (tqdm's ``mininterval``; for the plain text line, the last batch
        of an epoch always redraws).
    show_batches : bool or None
        Draw the per-batch bar: True (default; also in notebooks), False (per-epoch lines only), or
        None: only when the stream is a terminal, so that a log file or a pipe gets one line per
        epoch instead of one per redraw (what ``deepstep train`` uses).
    """

    def __init__(self, total_batches: int | None, epochs: int | None = None, file: TextIO | None = None,
                 use_tqdm: bool | None = None, min_interval: float = 0.1,
                 show_batches: bool | None = True) -> None:
        super().__init__()
        if show_batches is not None and not isinstance(show_batches, bool):
            raise TypeError(f"show_batches must be a bool or None, got {show_batches!r}")
        self.show_batches = show_batches
        self.total_batches = None if total_batches is None else check_int(total_batches, "total_batches", 1)
        self.epochs = None if epochs is None else check_int(epochs, "epochs", minimum=1)
        self.file = file
        self.min_interval = check_real(min_interval, "min_interval", 0.0)
        self._tqdm = None
        if use_tqdm is None or use_tqdm:
            try:
                from tqdm import tqdm
            except ImportError as exc:
                if use_tqdm:
                    raise ImportError("ProgressBar(use_tqdm=True) needs tqdm: "
                                      "pip install 'deepstep[progress]'") from exc
            else:
                self._tqdm = tqdm
        self._bar = None
        self._reset_epoch(0)

    @property
    def stream(self) -> TextIO:
        return self.file if self.file is not None else sys.stderr

    def _draws_batches(self) -> bool:
        if self.show_batches is not None:
            return self.show_batches
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty()) if callable(isatty) else False
        except (ValueError, OSError):  # a closed or detached stream
            return False

    def _reset_epoch(self, epoch: int) -> None:
        self._epoch = epoch
        self._start = time.perf_counter()
        self._last_draw = -math.inf
        self._line_len = 0
        self._batches = 0
        self._seen = 0
        self._loss_sum = 0.0
        self._acc_sum = 0.0
        self._acc_seen = 0

    def _title(self) -> str:
        total = f"/{self.epochs}" if self.epochs else ""
        return f"Epoch {self._epoch + 1}{total}"

    def _stats(self, eta: bool = True) -> str:
        elapsed = time.perf_counter() - self._start
        parts = []
        if self._seen:
            parts.append(f"loss {self._loss_sum / self._seen:.4f}")
        if self._acc_seen:
            parts.append(f"accuracy {self._acc_sum / self._acc_seen:.4f}")
        if elapsed > 0:
            parts.append(f"{self._seen / elapsed:.1f} img/s")
        if eta and self.total_batches and self._batches:
            remaining = max(self.total_batches - self._batches, 0)
            parts.append(f"ETA {_format_duration(elapsed / self._batches * remaining)}")
        return " - ".join(parts)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._reset_epoch(epoch)
        if self._tqdm is not None and self._draws_batches():
            self._bar = self._tqdm(total=self.total_batches, desc=self._title(), file=self.stream,
                                   unit="batch", leave=False, dynamic_ncols=True,
                                   mininterval=self.min_interval)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        size = int(logs.get("size", 0))
        self._batches += 1
        self._seen += size
        if "loss" in logs:
            self._loss_sum += float(logs["loss"]) * size
        if "accuracy" in logs:
            self._acc_sum += float(logs["accuracy"]) * size
            self._acc_seen += size
        if self._bar is not None:
            # tqdm shows its own ETA ("<mm:ss") and batch rate; add images/s and the running metrics.
            self._bar.set_postfix_str(self._stats(eta=False), refresh=False)
            self._bar.update(1)
            return
        if not self._draws_batches():
            return
        now = time.perf_counter()
        last = self.total_batches is not None and self._batches >= self.total_batches
        if last or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            line = f"{self._title()} {self._plain_bar()} {self._stats()}"
            # Pad with spaces so that a shorter line fully covers the previous one.
            self.stream.write("\r" + line.ljust(self._line_len))
            self._line_len = len(line)
            self.stream.flush()

    def _plain_bar(self, width: int = 20) -> str:
        if not self.total_batches:
            return f"{self._batches} batches"
        done = min(self._batches, self.total_batches)
        filled = width * done // self.total_batches
        return f"[{'=' * filled}{'.' * (width - filled)}] {done}/{self.total_batches}"

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._line_len:
            self.stream.write("\r" + " " * self._line_len + "\r")
        parts = [self._title(), f"{self._batches} batches", f"{elapsed:.1f}s"]
        if elapsed > 0 and self._seen:
            parts.append(f"{self._seen / elapsed:.1f} img/s")
        for key, value in (logs or {}).items():
            if isinstance(value, int | float | np.floating | np.integer):
                fmt = f"{value:.3g}" if key == "lr" else f"{value:.4f}"
                parts.append(f"{key}: {fmt}")
        self.stream.write(" - ".join(parts) + "\n")
        self.stream.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a monitored value stops improving (Keras semantics).

    At the end of every epoch: during a cooldown the counter of bad epochs stays at 0; an epoch
    improves when ``value < best - min_delta`` (mode ``"min"``) or ``value > best + min_delta``
    (``"max"``); otherwise, outside a cooldown, it counts as bad, and after ``patience`` bad epochs
    in a row ``lr <- max(lr * factor, min_lr)`` (only if ``lr > min_lr``), the counter restarts and
    a cooldown of ``cooldown`` epochs begins. The new rate applies from the next epoch.

    Works with every :mod:`deepstep.optim` optimizer (it sets ``model.optimizer.learning_rate``).
    Combined with a :class:`LearningRateScheduler`, which sets the rate at every epoch begin, the
    reductions multiply the schedule: whenever the rate found at the first batch of an epoch is not
    the one this callback last set, it is multiplied by the product of the reductions so far
    (clamped to ``min_lr``), whatever the order of the two callbacks.

    Parameters
    ----------
    monitor : str
        Epoch-log key, e.g. ``"val_loss"``.
    factor : float
        In (0, 1).
    patience : int
        Bad epochs tolerated before a reduction, >= 0.
    mode : {"auto", "min", "max"}
        ``"auto"``: ``"max"`` when the monitor's name contains ``"acc"``, else ``"min"``.
    min_delta : float
        Minimum change counted as an improvement, >= 0.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted, >= 0.
    min_lr : float
        Lower bound of the rate, >= 0.
    verbose : int
        1 prints a line to stderr at every reduction.

    Attributes
    ----------
    best, wait, cooldown_counter, scale (product of the reductions applied), reductions (list of
    ``(epoch, new_lr)``)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, mode: str = "auto",
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, verbose: int = 0) -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a non-empty str, got {monitor!r}")
        self.monitor = monitor
        self.factor = check_real(factor, "factor", 0.0, 1.0, inclusive_min=False, inclusive_max=False)
        self.patience = check_int(patience, "patience", minimum=0)
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = check_real(min_delta, "min_delta", 0.0)
        self.cooldown = check_int(cooldown, "cooldown", minimum=0)
        self.min_lr = check_real(min_lr, "min_lr", 0.0)
        self.verbose = check_int(verbose, "verbose", minimum=0)
        self._reset()

    def _reset(self) -> None:
        self.best = _initial_best(self.mode)
        self.wait = 0
        self.cooldown_counter = 0
        self.scale = 1.0
        self.reductions: list[tuple[int, float]] = []
        self._last_set: float | None = None

    def _optimizer(self) -> Any:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise RuntimeError("ReduceLROnPlateau needs a compiled model (model.optimizer is None)")
        return optimizer

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if batch != 0 or self.scale == 1.0:
            return
        optimizer = self._optimizer()
        lr = float(optimizer.learning_rate)
        if self._last_set is not None and lr == self._last_set:
            return
        # Something else (a schedule) set this epoch's rate: apply the reductions made so far on top.
        self._set(optimizer, max(lr * self.scale, self.min_lr) if lr > self.min_lr else lr)

    def _set(self, optimizer: Any, lr: float) -> None:
        optimizer.learning_rate = lr
        self._last_set = float(optimizer.learning_rate)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if _is_better(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        optimizer = self._optimizer()
        old = float(optimizer.learning_rate)
        if old > self.min_lr:
            new = max(old * self.factor, self.min_lr)
            self._set(optimizer, new)
            self.scale *= self.factor
            self.reductions.append((epoch, new))
            self.cooldown_counter, self.wait = self.cooldown, 0
            if self.verbose:
                sys.stderr.write(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                                 f"to {new:.4g}\n")


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file, one row per epoch (Keras semantics).

    Columns: ``epoch`` (0-based, as passed by the fit loop, so a run resumed with ``initial_epoch``
    continues the numbering), then the log keys of the first epoch, sorted. The file is flushed after
    every row, so it can be watched during training.

    Parameters
    ----------
    filename : str or os.PathLike
    separator : str
        One character.
    append : bool
        Append to an existing file (resuming a run) instead of overwriting it. The existing header's
        columns are kept; a key missing from the logs is written empty, and keys the header lacks are
        dropped with a warning.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        if not isinstance(filename, str | os.PathLike):
            raise TypeError(f"filename must be a str or os.PathLike, got {type(filename).__name__}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: TextIO | None = None
        self._writer: Any = None
        self._columns: list[str] | None = None

    def _existing_header(self) -> list[str] | None:
        import csv

        if not (self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename) > 0):
            return None
        with open(self.filename, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f, delimiter=self.separator), None)
        if not header or header[0] != "epoch":
            raise ValueError(f"CSVLogger: cannot append to {self.filename}: its first line is not a header "
                             f"starting with 'epoch' (got {header!r})")
        return header

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        import csv

        self._columns = self._existing_header()
        try:
            self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OSError(f"CSVLogger: cannot open {self.filename} for writing: "
                          f"{exc.strerror or exc}") from exc
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._writer is None:
            raise RuntimeError("CSVLogger: on_epoch_end before on_train_begin")
        logs = dict(logs or {})
        if self._columns is None:
            self._columns = ["epoch", *sorted(logs)]
            self._writer.writerow(self._columns)
        extra = sorted(set(logs) - set(self._columns))
        if extra:
            warnings.warn(f"CSVLogger: {self.filename} has no column for {', '.join(extra)}; not written",
                          RuntimeWarning, stacklevel=2)
        row = {"epoch": epoch, **logs}
        self._writer.writerow([_csv_value(row.get(c, "")) for c in self._columns])
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


def _csv_value(value: Any) -> Any:
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value


class TensorBoard(Callback):
    """Write the epoch logs as TensorBoard scalars (``tensorboard --logdir LOG_DIR``).

    Needs the optional package tensorboardX (``pip install 'deepstep[tensorboard]'``); TensorFlow is
    not needed. As in Keras, training values go to ``LOG_DIR/train`` and the ``val_`` values, under
    the same tag, to ``LOG_DIR/validation``, so TensorBoard draws them on one chart; tags are
    ``epoch_<key>`` (``epoch_loss``, ``epoch_accuracy``, ``epoch_lr``), the step is the epoch (0-based).

    Parameters
    ----------
    log_dir : str or os.PathLike
    """

    def __init__(self, log_dir: str | os.PathLike = "logs") -> None:
        super().__init__()
        if not isinstance(log_dir, str | os.PathLike):
            raise TypeError(f"log_dir must be a str or os.PathLike, got {type(log_dir).__name__}")
        try:
            import tensorboardX
        except ImportError as exc:
            raise ImportError("TensorBoard logging needs the optional package 'tensorboardX': "
                              "pip install 'deepstep[tensorboard]'") from exc
        self._module = tensorboardX
        self.log_dir = os.fspath(log_dir)
        self._writers: dict[str, Any] = {}

    def _writer(self, split: str) -> Any:
        if split not in self._writers:
            self._writers[split] = self._module.SummaryWriter(os.path.join(self.log_dir, split))
        return self._writers[split]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
                continue
            split, tag = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(split).add_scalar(f"epoch_{tag}", float(value), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
