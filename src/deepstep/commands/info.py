"""``deepstep info``: a model's summary table, classes and training state."""

from __future__ import annotations

import argparse
from typing import Any

from ..nn.functional import kernels_line
from .common import load_model_or_name, model_class_names

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "info",
        help="print a model's summary table",
        description="Print the layers, output shapes and parameter counts of a saved model (or of a fresh "
                    "model-zoo model), its classes and how long it was trained.",
    )
    p.add_argument("model", metavar="MODEL|NAME", help="a saved model (.npz) or a model-zoo name")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    model = load_model_or_name(args.model)
    print(model.summary())
    print(f"input shape: {tuple(model.input_shape)}, dtype {model.dtype}")
    print(f"classes: {', '.join(model_class_names(model))}")
    optimizer = getattr(model, "optimizer", None)
    if getattr(model, "compiled", False) and optimizer is not None:
        config = optimizer.get_config()
        print(f"optimizer: {config.get('name', type(optimizer).__name__)} "
              f"(learning rate {float(optimizer.learning_rate):g}, {int(optimizer.iterations)} steps)")
    epochs = int(getattr(model, "epoch", 0))
    history = getattr(model, "history", {}) or {}
    line = f"trained epochs: {epochs}"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if history.get(key):
            line += f", last {key} {float(history[key][-1]):.4f}"
    print(line)
    print(kernels_line())
    print(_mpi_line())
    return 0


def _mpi_line() -> str:
    """The MPI library, and the ranks when this process was started by mpiexec."""
    from ..distributed import launched_by_mpi, mpi_library_version

    ranks = launched_by_mpi()
    return f"mpi: {mpi_library_version()}" + (f"; this job: {ranks} ranks" if ranks else "")
