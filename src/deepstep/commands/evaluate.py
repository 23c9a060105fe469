"""``deepstep evaluate``: accuracy, per-class precision and recall, confusion matrix, mistakes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    RUN_FILE,
    CLIError,
    adapt_images,
    ensure_compiled,
    load_data_for,
    load_model_file,
    model_class_names,
    non_negative_int,
    read_run_beside,
    run_data,
    select_subset,
)

__all__ = ["add_parser", "run", "format_report"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy, per-class precision/recall and a confusion matrix of a saved model",
        description="Evaluate a saved model on a dataset: accuracy, a per-class precision and recall table, "
                    "a confusion-matrix picture and a grid of misclassified examples. By default it uses "
                    f"exactly the images the training run held out for testing, read from the {RUN_FILE} "
                    "beside MODEL (its data, seed and test fraction, or its --test-data).",
    )
    p.add_argument("model", metavar="MODEL", help="a model file saved by 'deepstep train' (.npz)")
    p.add_argument("--data", default=None, metavar="digits|PATH",
                   help="'digits', a course .h5 file, a folder of MNIST IDX files, or an image folder "
                        f"(default: the run's --test-data, else its --data, from {RUN_FILE})")
    p.add_argument("--subset", choices=("test", "all"), default=None,
                   help="'test': only the images the run held out (default when MODEL has a "
                        f"{RUN_FILE}); 'all': every image, training images included (default without one)")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help=f"seed of the held-out split when MODEL has no {RUN_FILE} (default: 0; with a "
                        "run file, its seed)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the pictures (default: the model file's folder)")
    p.set_defaults(handler=run)
    return p


def format_report(classes: list[str], precision: np.ndarray, recall: np.ndarray, support: np.ndarray) -> str:
    """A per-class table: precision, recall and support (number of true samples)."""
    width = max(5, *(len(c) for c in classes))
    lines = [f"{'class':<{width}}  precision  recall  support"]
    for name, p, r, s in zip(classes, precision, recall, support, strict=True):
        lines.append(f"{name:<{width}}  {p:9.3f}  {r:6.3f}  {int(s):7d}")
    return "\n".join(lines)


def _data_spec(args: argparse.Namespace, run: dict[str, Any] | None) -> str:
    if args.data is not None:
        return str(args.data)
    if run is None:
        raise CLIError(f"--data is required: there is no {RUN_FILE} beside {args.model}")
    spec = run_data(run, "test_data") or run_data(run, "data")
    if spec is None:
        raise CLIError(f"{run['_file']} names no data; give --data")
    return spec


def run(args: argparse.Namespace) -> int:
    model = ensure_compiled(load_model_file(args.model))
    from ..train.metrics import confusion_matrix, precision_recall
    from ..viz import plot_confusion_matrix, plot_misclassified

    saved_run = read_run_beside(args.model)
    if saved_run is not None and args.seed is not None and int(args.seed) != int(saved_run["seed"]):
        raise CLIError(f"--seed {args.seed} disagrees with the run's seed {saved_run['seed']} in "
                       f"{saved_run['_file']}; leave --seed out to use the run's split")
    spec = _data_spec(args, saved_run)
    subset_name = args.subset or ("test" if saved_run is not None else "all")
    dataset, all_names = load_data_for(spec, model)
    classes = model_class_names(model)
    if len(classes) != len(dataset.classes):
        raise CLIError(f"model {args.model} predicts {len(classes)} classes, but data {dataset.name!r} has "
                       f"{len(dataset.classes)}")
    subset = select_subset(subset_name, dataset, spec, saved_run, args.seed)
    images, labels = dataset.x[subset.indices], dataset.y[subset.indices]
    names = [all_names[i] for i in subset.indices]
    x = adapt_images(images, model, f"data {dataset.name!r}")
    pred = np.asarray(model.predict(x), dtype=np.int64)
    cm = confusion_matrix(labels, pred, num_classes=len(classes))
    precision, recall = precision_recall(labels, pred, num_classes=len(classes))
    accuracy = float(np.mean(pred == labels))
    print(subset.description)
    print(f"accuracy: {accuracy:.4f} ({int(np.sum(pred == labels))}/{len(labels)}) on {dataset.name} "
          f"({subset.name} subset)")
    print(format_report(classes, precision, recall, np.asarray(cm).sum(axis=1)))
    out = Path(args.out) if args.out else Path(args.model).resolve().parent
    cm_path = plot_confusion_matrix(cm, classes, out / "confusion_matrix.png",
                                    title=f"Confusion matrix: {dataset.name} ({subset.name}, "
                                          f"{len(labels)} images), accuracy {accuracy:.3f}")
    mis_path = plot_misclassified(images, labels, pred, classes, out / "misclassified.png",
                                  max_images=64, names=names)
    print(f"confusion matrix: {cm_path}")
    print(f"misclassified:    {mis_path}")
    return 0
