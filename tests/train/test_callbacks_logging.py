"""ReduceLROnPlateau, CSVLogger and TensorBoard, driven by a tiny fake model like the fit loop drives them."""

from __future__ import annotations

import csv
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from deepstep.optim import SGD, Adam
from deepstep.train import CallbackList, LearningRateScheduler
from deepstep.train.callbacks import CSVLogger, ReduceLROnPlateau, TensorBoard


class FakeModel:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.stop_training = False


def run(callbacks, model, epoch_logs, first_epoch=0):
    """Drive the hooks as the fit loop does; return the learning rate seen by each epoch's batches."""
    cbs = CallbackList(callbacks, model=model)
    used = []
    cbs.on_train_begin({})
    for i, values in enumerate(epoch_logs):
        epoch = first_epoch + i
        logs = {}
        cbs.on_epoch_begin(epoch, logs)
        for b in range(2):
            cbs.on_batch_begin(b, {"batch": b, "size": 4})
            cbs.on_batch_end(b, {"batch": b, "size": 4, "loss": 1.0})
        used.append(model.optimizer.learning_rate)
        logs.update(values)
        cbs.on_epoch_end(epoch, logs)
    cbs.on_train_end({})
    return used


# --------------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau_patience_and_cooldown_hand_traced():
    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85]
    cb = ReduceLROnPlateau("val_loss", factor=0.5, patience=2, min_delta=0.0, cooldown=1)
    used = run([cb], FakeModel(SGD(1.0)), [{"val_loss": v} for v in losses])
    # e2, e3 bad -> halve after e3; e4 cooldown ends, counts bad with e5 -> halve after e5;
    # e6 improves; e7, e8 bad -> halve after e8.
    assert cb.reductions == [(3, 0.5), (5, 0.25), (8, 0.125)]
    assert used == [1.0] * 4 + [0.5] * 2 + [0.25] * 3


def test_reduce_lr_on_plateau_min_delta_and_min_lr():
    cb = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05, min_delta=0.1)
    model = FakeModel(Adam(1.0))
    run([cb], model, [{"val_loss": v} for v in (1.0, 0.95, 0.5, 0.45, 0.4)])
    # 0.95 is within min_delta of 1.0: bad; 0.5 improves; 0.45 and 0.4 are bad (best stays 0.5)
    assert cb.reductions == [(1, 0.1), (3, 0.05)]
    assert model.optimizer.learning_rate == 0.05  # at min_lr: no further reduction at epoch 4


def test_reduce_lr_on_plateau_mode_auto_maximizes_accuracy():
    cb = ReduceLROnPlateau("val_accuracy", factor=0.5, patience=1)
    run([cb], FakeModel(SGD(1.0)), [{"val_accuracy": v} for v in (0.5, 0.6, 0.55)])
    assert cb.mode == "max" and cb.reductions == [(2, 0.5)]


@pytest.mark.parametrize("scheduler_first", [True, False])
def test_reduce_lr_on_plateau_multiplies_a_schedule_in_either_order(scheduler_first):
    schedule = LearningRateScheduler(lambda epoch: 1.0 / (epoch + 1))
    plateau = ReduceLROnPlateau(factor=0.5, patience=0)
    callbacks = [schedule, plateau] if scheduler_first else [plateau, schedule]
    used = run(callbacks, FakeModel(SGD(1.0)), [{"val_loss": 1.0}] * 4)
    # reductions after epochs 1, 2, 3: scale 1, 1, 0.5, 0.25 on top of 1/(epoch+1)
    np.testing.assert_allclose(used, [1.0, 1 / 2, 0.5 / 3, 0.25 / 4])


def test_reduce_lr_on_plateau_skips_a_missing_monitor_with_a_warning():
    cb = ReduceLROnPlateau("val_loss", patience=0)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        run([cb], FakeModel(SGD(1.0)), [{"loss": 1.0}] * 2)
    assert cb.reductions == []


@pytest.mark.parametrize("kwargs, match", [
    ({"factor": 1.0}, "factor"), ({"factor": 0.0}, "factor"), ({"patience": -1}, "patience"),
    ({"min_lr": -1.0}, "min_lr"), ({"cooldown": -2}, "cooldown"), ({"mode": "up"}, "mode"),
])
def test_reduce_lr_on_plateau_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReduceLROnPlateau(**kwargs)


# --------------------------------------------------------------------------- CSVLogger
def _rows(path: Path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": np.float64(0.5), "val_loss": 0.7, "lr": 0.1}, {"loss": 0.25, "val_loss": 0.6, "lr": 0.1}]
    run([CSVLogger(path)], FakeModel(SGD(0.1)), logs)
    assert _rows(path) == [["epoch", "loss", "lr", "val_loss"], ["0", "0.5", "0.1", "0.7"],
                           ["1", "0.25", "0.1", "0.6"]]


def test_csv_logger_appends_when_resuming_and_overwrites_otherwise(tmp_path):
    path = tmp_path / "log.csv"
    run([CSVLogger(path, separator=";")], FakeModel(SGD(0.1)), [{"loss": 1.0, "acc": 0.1}] * 2)
    run([CSVLogger(path, separator=";", append=True)], FakeModel(SGD(0.1)),
        [{"acc": 0.3, "loss": 0.5}], first_epoch=2)
    lines = path.read_text().splitlines()
    assert lines == ["epoch;acc;loss", "0;0.1;1.0", "1;0.1;1.0", "2;0.3;0.5"]
    with pytest.warns(RuntimeWarning, match="no column for extra"):
        run([CSVLogger(path, separator=";", append=True)], FakeModel(SGD(0.1)),
            [{"acc": 0.4, "extra": 1.0}], first_epoch=3)
    assert path.read_text().splitlines()[-1] == "3;0.4;"  # the missing loss is empty
    run([CSVLogger(path)], FakeModel(SGD(0.1)), [{"loss": 2.0}])
    assert _rows(path) == [["epoch", "loss"], ["0", "2.0"]]


def test_csv_logger_append_to_a_file_that_is_no_log_is_refused(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="notes.csv"):
        run([CSVLogger(path, append=True)], FakeModel(SGD(0.1)), [{"loss": 1.0}])


def test_csv_logger_bad_arguments():
    with pytest.raises(ValueError, match="separator"):
        CSVLogger("x.csv", separator=",,")
    with pytest.raises(TypeError, match="filename"):
        CSVLogger(3)


# --------------------------------------------------------------------------- TensorBoard
def _read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Decode the TFRecord event files of ``folder`` with tensorboardX's own protobuf classes."""
    from tensorboardX.proto import event_pb2

    scalars: dict[str, list[tuple[int, float]]] = {}
    for file in sorted(folder.glob("events.out.tfevents.*")):
        data = file.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4  # length, its CRC, the record, its CRC
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_writes_train_and_validation_scalars(tmp_path):
    pytest.importorskip("tensorboardX")
    logs = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "lr": 0.125},
            {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "lr": 0.0625}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run([TensorBoard(tmp_path)], FakeModel(SGD(0.1)), logs)
    train, val = _read_scalars(tmp_path / "train"), _read_scalars(tmp_path / "validation")
    assert train == {"epoch_loss": [(0, 0.5), (1, 0.25)], "epoch_accuracy": [(0, 0.75), (1, 0.875)],
                     "epoch_lr": [(0, 0.125), (1, 0.0625)]}
    assert val == {"epoch_loss": [(0, 0.625), (1, 0.5)]}
