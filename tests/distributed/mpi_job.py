"""A small data-parallel training job for the MPI tests: ``mpiexec -n N python mpi_job.py MODE OUT``.

Modes: ``train`` (float64 chain model), ``bn`` (a model with BatchNormalization), ``weighted``
(``class_weight`` and ``sample_weight``), ``stream`` (a dataset, with ``class_weight``), ``mismatch``
(rank 1 gets different data), ``nan`` (a learning rate that diverges), ``kill`` (rank 1 dies at
the second epoch, after rank 0 saved a checkpoint). Rank 0 writes the final weights to OUT.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import numpy as np

import deepstep
from deepstep.data import ArrayDataset
from deepstep.distributed import DistributedTrainer, get_communicator
from deepstep.nn import BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, Sequential
from deepstep.train import Callback, TrainingError


def data(rank_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7 + rank_offset)
    x = rng.standard_normal((37, 6, 6, 2))
    y = rng.integers(0, 3, 37)
    return x, y


def model(bn: bool, dtype: str = "float64") -> Sequential:
    layers = [Conv2D(4, 3, padding="same", activation="relu")]
    if bn:
        layers.append(BatchNormalization())
    layers += [MaxPooling2D(2), Flatten(), Dense(3)]
    return Sequential(layers, input_shape=(6, 6, 2), dtype=dtype, seed=3)


def fit(net: Sequential, mode: str, x: np.ndarray, y: np.ndarray, callbacks: list | None = None) -> Any:
    """The job's ``net.fit`` call (the single-process reference in the tests makes the same one)."""
    options: dict[str, Any] = {"epochs": 4, "batch_size": 10, "validation_split": 0.2, "seed": 5,
                               "verbose": 0, "callbacks": callbacks}
    if mode in ("weighted", "stream"):
        options["class_weight"] = {0: 0.5, 2: 3.0}
    if mode == "weighted":
        options["sample_weight"] = np.linspace(0.2, 2.0, len(y))
    if mode == "stream":
        return net.fit(ArrayDataset(x, y, dtype="float64"), **options)
    return net.fit(x, y, **options)


class DieAtEpoch(Callback):
    def __init__(self, rank: int, epoch: int) -> None:
        self.rank, self.epoch = rank, epoch

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        if epoch == self.epoch and self.rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)


class SaveEachEpoch(Callback):
    def __init__(self, path: str) -> None:
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.model.save(self.path)


def main(mode: str, out: str) -> int:
    comm = get_communicator()
    x, y = data(comm.rank if mode == "mismatch" else 0)
    net = model(bn=mode == "bn")
    net.compile(optimizer=deepstep.optim.SGD(learning_rate=1e200) if mode == "nan"
                else deepstep.optim.Adam(learning_rate=0.01),
                loss="sparse_categorical_crossentropy")
    net.trainer = DistributedTrainer(net, comm)
    callbacks = []
    if mode == "kill":
        callbacks = [DieAtEpoch(comm.rank, 2)] + ([SaveEachEpoch(out)] if comm.is_root else [])
    try:
        history = fit(net, mode, x, y, callbacks)
    except TrainingError as exc:
        with open(f"{out}.rank{comm.rank}.txt", "w") as report:
            report.write(str(exc))
        return 3
    weights = net.get_weight_dict()
    same = comm.allgather({k: v.tobytes() for k, v in weights.items()})
    identical = all(s == same[0] for s in same[1:])
    if comm.is_root:
        np.savez(out, identical=identical, loss=np.array(history.history["loss"]),
                 val_loss=np.array(history.history["val_loss"]), **{f"w/{k}": v for k, v in weights.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
