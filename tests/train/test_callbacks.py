"""Callbacks driven by a tiny fake model (no dependency on Sequential), and TrainingError."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

from deepstep.nn import Parameter
from deepstep.optim import SGD
from deepstep.optim.schedules import InverseTimeDecay
from deepstep.train import (
    Callback,
    CallbackList,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TrainingError,
)


class FakeModel:
    """The part of the Sequential interface that callbacks use."""

    def __init__(self, optimizer=None):
        self.params = [Parameter(np.zeros(3), "kernel"), Parameter(np.zeros((2, 2)), "bias")]
        self.optimizer = optimizer if optimizer is not None else SGD(0.1)
        self.stop_training = False
        self.saved: list[tuple[str, float]] = []

    def parameters(self):
        return self.params

    def save(self, path):
        self.saved.append((path, float(self.params[0].value[0])))


def simulate_fit(callbacks, model, epoch_logs, batches=2):
    """Drive the hooks like the fit loop; parameters take the value ``epoch`` during epoch ``epoch``.

    Returns the epoch indices that ran (training stops when a callback sets stop_training).
    """
    cbs = CallbackList(callbacks, model=model)
    ran = []
    cbs.on_train_begin({})
    for epoch, values in enumerate(epoch_logs):
        logs = {}
        cbs.on_epoch_begin(epoch, logs)
        for p in model.parameters():
            p.value[...] = epoch
        for b in range(batches):
            cbs.on_batch_begin(b, {"batch": b, "size": 4})
            cbs.on_batch_end(b, {"batch": b, "size": 4, "loss": 1.0, "accuracy": 0.5})
        logs.update(values)
        cbs.on_epoch_end(epoch, logs)
        ran.append(epoch)
        if model.stop_training:
            break
    cbs.on_train_end({})
    return ran


class Recorder(Callback):
    def __init__(self, tag, events):
        super().__init__()
        self.tag, self.events = tag, events

    def on_train_begin(self, logs=None):
        self.events.append((self.tag, "train_begin"))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.tag, "epoch_begin", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.events.append((self.tag, "batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append((self.tag, "batch_end", batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.tag, "epoch_end", epoch, logs["val_loss"]))

    def on_train_end(self, logs=None):
        self.events.append((self.tag, "train_end"))


# ---------------------------------------------------------------------------------------------
# CallbackList and the base class
# ---------------------------------------------------------------------------------------------

def test_callback_list_dispatches_every_hook_in_order():
    events = []
    model = FakeModel()
    first, second = Recorder("a", events), Recorder("b", events)
    simulate_fit([first, second], model, [{"val_loss": 1.0}], batches=1)
    assert events == [
        ("a", "train_begin"), ("b", "train_begin"),
        ("a", "epoch_begin", 0), ("b", "epoch_begin", 0),
        ("a", "batch_begin", 0), ("b", "batch_begin", 0),
        ("a", "batch_end", 0, 1.0), ("b", "batch_end", 0, 1.0),
        ("a", "epoch_end", 0, 1.0), ("b", "epoch_end", 0, 1.0),
        ("a", "train_end"), ("b", "train_end"),
    ]
    assert first.model is model and second.model is model


def test_callback_list_append_and_errors():
    model = FakeModel()
    cbs = CallbackList(model=model)
    late = Callback()
    cbs.append(late)
    assert late.model is model and len(cbs) == 1 and list(cbs) == [late]
    with pytest.raises(TypeError, match="callbacks must be Callback instances, got function"):
        CallbackList([lambda: None])
    base = Callback()  # every hook of the base class is a no-op
    base.set_model(model)
    base.on_train_begin()
    base.on_epoch_begin(0)
    base.on_batch_begin(0)
    base.on_batch_end(0)
    base.on_epoch_end(0)
    base.on_train_end()
    assert base.model is model


# ---------------------------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------------------------

def losses(*values, key="val_loss"):
    return [{key: v} for v in values]


def test_early_stopping_patience():
    # Best at epoch 1; epochs 2 and 3 do not improve -> with patience 2, stop after epoch 3.
    stopper = EarlyStopping(patience=2)
    ran = simulate_fit([stopper], FakeModel(), losses(1.0, 0.8, 0.9, 0.85, 0.7, 0.6))
    assert ran == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3 and stopper.best == 0.8 and stopper.best_epoch == 1


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    stopper = EarlyStopping(patience=0)
    assert simulate_fit([stopper], FakeModel(), losses(1.0, 0.9, 0.95, 0.5)) == [0, 1, 2]


def test_early_stopping_improvement_resets_the_wait():
    stopper = EarlyStopping(patience=2)
    ran = simulate_fit([stopper], FakeModel(), losses(1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.9, 0.1))
    assert ran == [0, 1, 2, 3, 4, 5, 6] and stopper.best_epoch == 4


def test_early_stopping_min_delta():
    # 0.97 and 0.96 improve by less than min_delta = 0.05 over 1.0: not improvements.
    stopper = EarlyStopping(patience=1, min_delta=0.05)
    assert simulate_fit([stopper], FakeModel(), losses(1.0, 0.97, 0.96, 0.5)) == [0, 1]
    assert stopper.best == 1.0


def test_early_stopping_mode_auto_maximises_accuracy():
    stopper = EarlyStopping(monitor="val_accuracy", patience=0)
    assert stopper.mode == "max"
    ran = simulate_fit([stopper], FakeModel(), losses(0.5, 0.7, 0.6, 0.9, key="val_accuracy"))
    assert ran == [0, 1, 2] and stopper.best == 0.7
    assert EarlyStopping(monitor="loss").mode == "min"
    assert EarlyStopping(monitor="val_accuracy", mode="min").mode == "min"


def test_early_stopping_restore_best_weights_copies_values():
    model = FakeModel()
    arrays = [p.value for p in model.parameters()]
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    simulate_fit([stopper], model, losses(1.0, 0.5, 0.7, 0.9))  # best at epoch 1, stops at 2
    for p, a in zip(model.parameters(), arrays, strict=True):
        assert p.value is a  # restored in place
        np.testing.assert_array_equal(p.value, 1.0)
    # Without restore_best_weights the last values stay.
    model = FakeModel()
    simulate_fit([EarlyStopping(patience=1)], model, losses(1.0, 0.5, 0.7, 0.9))
    np.testing.assert_array_equal(model.params[0].value, 2.0)


def test_early_stopping_restore_detects_changed_model():
    model = FakeModel()
    stopper = EarlyStopping(restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"val_loss": 1.0})
    model.params.append(Parameter(np.zeros(1), "extra"))
    with pytest.raises(RuntimeError, match="the model has 3 parameters, but 2 were saved"):
        stopper.on_train_end()
    model.params = [Parameter(np.zeros(4), "kernel"), model.params[1]]
    with pytest.raises(RuntimeError, match=r"parameter 'kernel' changed shape from \(3,\) to \(4,\)"):
        stopper.on_train_end()


def test_early_stopping_is_reset_by_train_begin():
    stopper = EarlyStopping(patience=0)
    simulate_fit([stopper], FakeModel(), losses(0.1, 0.2))
    assert simulate_fit([stopper], FakeModel(), losses(1.0, 0.9, 0.8)) == [0, 1, 2]


def test_early_stopping_warns_when_the_monitor_is_missing():
    stopper = EarlyStopping()
    model = FakeModel()
    with pytest.warns(RuntimeWarning,
                      match=r"'val_loss' is not in the epoch logs \(available: accuracy, loss"):
        ran = simulate_fit([stopper], model, [{"loss": 1.0, "accuracy": 0.5}] * 3)
    assert ran == [0, 1, 2] and not model.stop_training


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(mode="best"), ValueError, "mode must be one of 'auto', 'min', 'max'; got 'best'"),
        (dict(patience=-1), ValueError, "patience must be >= 0"),
        (dict(patience=1.5), TypeError, "patience must be an integer"),
        (dict(min_delta=-0.1), ValueError, "min_delta must be >= 0"),
        (dict(monitor=""), TypeError, "monitor must be a non-empty str"),
    ],
)
def test_early_stopping_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------------------------------------
# ModelCheckpoint
# ---------------------------------------------------------------------------------------------

def test_checkpoint_saves_only_improvements(tmp_path):
    model = FakeModel()
    checkpoint = ModelCheckpoint(tmp_path / "best-{epoch:02d}-{val_loss:.2f}.npz")
    simulate_fit([checkpoint], model, losses(1.0, 0.5, 0.7, 0.4))
    # Saved after epochs 0, 1, 3 (1-based 01, 02, 04); each save sees that epoch's weights.
    assert model.saved == [
        (str(tmp_path / "best-01-1.00.npz"), 0.0),
        (str(tmp_path / "best-02-0.50.npz"), 1.0),
        (str(tmp_path / "best-04-0.40.npz"), 3.0),
    ]
    assert checkpoint.last_saved == str(tmp_path / "best-04-0.40.npz") and checkpoint.best == 0.4


def test_checkpoint_max_mode_and_every_epoch(tmp_path):
    model = FakeModel()
    simulate_fit([ModelCheckpoint("acc.npz", monitor="val_accuracy")], model,
                 losses(0.5, 0.4, 0.6, key="val_accuracy"))
    assert [p for p, _ in model.saved] == ["acc.npz", "acc.npz"]
    model = FakeModel()
    simulate_fit([ModelCheckpoint(Path("e{epoch}.npz"), save_best_only=False)], model, losses(1.0, 2.0, 3.0))
    assert [p for p, _ in model.saved] == ["e1.npz", "e2.npz", "e3.npz"]


def test_checkpoint_missing_monitor_warns_and_skips():
    model = FakeModel()
    with pytest.warns(RuntimeWarning,
                      match="ModelCheckpoint: monitored value 'val_loss' is not in the epoch"):
        simulate_fit([ModelCheckpoint("m.npz")], model, [{"loss": 1.0}])
    assert model.saved == []


def test_checkpoint_errors():
    bad_field = r"filepath 'ckpt-\{step\}.npz' has a bad format field .*allowed fields: epoch, loss"
    with pytest.raises(ValueError, match=bad_field):
        ModelCheckpoint("ckpt-{step}.npz")
    with pytest.raises(TypeError, match="filepath must be a str or os.PathLike, got int"):
        ModelCheckpoint(3)
    with pytest.raises(ValueError, match="mode must be one of"):
        ModelCheckpoint("m.npz", mode="lowest")
    with pytest.raises(TypeError, match="monitor must be a non-empty str, got None"):
        ModelCheckpoint("m.npz", monitor=None)
    # A log key that the fit loop did not produce this epoch.
    checkpoint = ModelCheckpoint("m-{val_accuracy}.npz", save_best_only=False)
    checkpoint.set_model(FakeModel())
    with pytest.raises(ValueError, match="needs 'val_accuracy' but the epoch logs only hold loss"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})


# ---------------------------------------------------------------------------------------------
# LearningRateScheduler
# ---------------------------------------------------------------------------------------------

def test_scheduler_sets_learning_rate_each_epoch_and_logs_it():
    model = FakeModel(SGD(1.0))
    seen, logged = [], []

    class Spy(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(self.model.optimizer.learning_rate)

        def on_epoch_end(self, epoch, logs=None):
            logged.append(logs["lr"])

    schedule = InverseTimeDecay(0.5, decay_rate=1.0)
    simulate_fit([LearningRateScheduler(schedule), Spy()], model, losses(1, 1, 1, 1))
    assert seen == [0.5, 0.25, 0.5 / 3, 0.125]
    assert logged == seen


def test_scheduler_accepts_keras_two_argument_schedules():
    model = FakeModel(SGD(1.0))
    simulate_fit([LearningRateScheduler(lambda epoch, lr: lr * 0.5)], model, losses(1, 1, 1))
    assert model.optimizer.learning_rate == 0.125


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), "fast", None])
def test_scheduler_rejects_bad_rates(bad):
    scheduler = LearningRateScheduler(lambda epoch: bad)
    scheduler.set_model(FakeModel())
    with pytest.raises(ValueError, match=f"schedule returned {bad!r} at epoch 4; a learning rate must be"):
        scheduler.on_epoch_begin(4, {})


def test_scheduler_errors():
    with pytest.raises(TypeError, match="schedule must be callable, got float"):
        LearningRateScheduler(0.1)
    scheduler = LearningRateScheduler(lambda epoch: 0.1)
    model = FakeModel()
    model.optimizer = None
    scheduler.set_model(model)
    with pytest.raises(RuntimeError, match=r"needs a compiled model \(model.optimizer is None\)"):
        scheduler.on_epoch_begin(0, {})


# ---------------------------------------------------------------------------------------------
# ProgressBar
# ---------------------------------------------------------------------------------------------

def drive_progress(bar, epochs=2):
    model = FakeModel()
    cbs = CallbackList([bar], model=model)
    cbs.on_train_begin({})
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch, {})
        for b, (size, loss, acc) in enumerate([(4, 1.0, 0.25), (4, 2.0, 0.5), (2, 4.0, 1.0)]):
            cbs.on_batch_end(b, {"batch": b, "size": size, "loss": loss, "accuracy": acc})
        cbs.on_epoch_end(epoch, {"loss": 2.0, "accuracy": 0.5, "val_loss": 0.5, "val_accuracy": 0.75,
                                 "lr": 0.001})
    cbs.on_train_end({})


def test_progress_bar_plain_text():
    out = io.StringIO()
    drive_progress(ProgressBar(3, epochs=2, file=out, use_tqdm=False, min_interval=0.0))
    text = out.getvalue()
    lines = text.split("\n")
    assert len(lines) == 3 and lines[-1] == ""  # one summary line per epoch
    redraws = [s for s in lines[0].split("\r") if s.startswith("Epoch 1/2 [")]
    assert len(redraws) == 3  # one per batch with min_interval=0
    last_redraw = redraws[-1]
    # Running means are weighted by batch size: loss (4*1 + 4*2 + 2*4) / 10 = 2, accuracy 5/10.
    assert last_redraw.startswith("Epoch 1/2 [====================] 3/3 loss 2.0000 - accuracy 0.5000 - ")
    assert "img/s - ETA 0:00" in last_redraw
    summary = lines[1].split("\r")[-1]
    assert summary.startswith("Epoch 2/2 - 3 batches - ")
    assert summary.endswith("loss: 2.0000 - accuracy: 0.5000 - val_loss: 0.5000 - val_accuracy: 0.7500 - "
                            "lr: 0.001")


def test_progress_bar_plain_text_throttles_redraws():
    out = io.StringIO()
    drive_progress(ProgressBar(3, file=out, use_tqdm=False, min_interval=3600.0), epochs=1)
    # First batch draws, the second is throttled, the last batch always draws.
    assert out.getvalue().count("Epoch 1 [") == 2


def test_progress_bar_with_tqdm():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = ProgressBar(3, epochs=2, file=out, use_tqdm=True, min_interval=0.0)
    drive_progress(bar)
    text = out.getvalue()
    assert "Epoch 1/2" in text and "loss 2.0000 - accuracy 0.5000" in text
    assert text.count("val_accuracy: 0.7500") == 2
    assert bar._bar is None  # closed


def test_progress_bar_unknown_total_and_defaults(capsys):
    drive_progress(ProgressBar(None, use_tqdm=False, min_interval=0.0), epochs=1)
    err = capsys.readouterr().err
    assert "Epoch 1 3 batches loss" in err and "ETA" not in err


def test_progress_bar_errors(monkeypatch):
    with pytest.raises(ValueError, match="total_batches must be >= 1"):
        ProgressBar(0)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        ProgressBar(5, epochs=0)
    with pytest.raises(ValueError, match="min_interval must be >= 0"):
        ProgressBar(5, min_interval=-1)
    with pytest.raises(TypeError, match="total_batches must be an integer"):
        ProgressBar(5.0)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    with pytest.raises(ImportError, match=r"pip install 'deepstep\[progress\]'"):
        ProgressBar(5, use_tqdm=True)
    out = io.StringIO()
    drive_progress(ProgressBar(3, file=out), epochs=1)  # auto falls back to plain text
    assert "[====================] 3/3" in out.getvalue()


# ---------------------------------------------------------------------------------------------
# TrainingError
# ---------------------------------------------------------------------------------------------

def test_training_error():
    err = TrainingError("loss is nan at epoch 3, batch 7", epoch=3, batch=7)
    assert isinstance(err, RuntimeError)
    assert (err.epoch, err.batch, str(err)) == (3, 7, "loss is nan at epoch 3, batch 7")
    with pytest.raises(RuntimeError, match="loss is nan"):
        raise err
    assert TrainingError("x").epoch is None
