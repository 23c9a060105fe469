"""``deepstep evaluate``: accuracy, per-class precision and recall, confusion matrix, mistakes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    CLIError,
    adapt_images,
    ensure_compiled,
    image_geometry,
    load_model_file,
    model_class_names,
    non_negative_int,
)

__all__ = ["add_parser", "run", "format_report"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy, per-class precision/recall and a confusion matrix of a saved model",
        description="Evaluate a saved model on a dataset: accuracy, a per-class precision and recall table, "
                    "a confusion-matrix picture and a grid of misclassified examples.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file saved by 'deepstep train' (.npz)")
    p.add_argument("--data", required=True, metavar="digits|PATH",
                   help="'digits', a course .h5 file, a folder of MNIST IDX files, or an image folder")
    p.add_argument("--subset", choices=("all", "test"), default="all",
                   help="'test': only the part 'deepstep train' held out for testing (same --seed); "
                        "'all' (default): every image")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the split for --subset test (default: 0)")
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


def run(args: argparse.Namespace) -> int:
    model = ensure_compiled(load_model_file(args.model))
    from ..data import load_dataset
    from ..train.metrics import confusion_matrix, precision_recall
    from ..viz import plot_confusion_matrix, plot_misclassified
    from .train import TEST_FRACTION

    h, w, c = image_geometry(model)
    dtype = str(getattr(model, "dtype", "float32"))
    dataset = load_dataset(args.data, dtype=dtype, image_size=(h, w), channels=c if c in (1, 3) else 3)
    classes = model_class_names(model)
    if len(classes) != len(dataset.classes):
        raise CLIError(f"model {args.model} predicts {len(classes)} classes, but data {dataset.name!r} has "
                       f"{len(dataset.classes)}")
    images, labels = dataset.x, dataset.y
    if args.subset == "test":
        from ..data import train_val_split

        _, (images, labels) = train_val_split(images, labels, TEST_FRACTION, seed=args.seed, stratify=True)
    x = adapt_images(images, model, f"data {dataset.name!r}")
    pred = np.asarray(model.predict(x), dtype=np.int64)
    cm = confusion_matrix(labels, pred, num_classes=len(classes))
    precision, recall = precision_recall(labels, pred, num_classes=len(classes))
    accuracy = float(np.mean(pred == labels))
    print(f"accuracy: {accuracy:.4f} ({int(np.sum(pred == labels))}/{len(labels)}) on {dataset.name} "
          f"({args.subset} subset)")
    print(format_report(classes, precision, recall, np.asarray(cm).sum(axis=1)))
    out = Path(args.out) if args.out else Path(args.model).resolve().parent
    cm_path = plot_confusion_matrix(cm, classes, out / "confusion_matrix.png",
                                    title=f"Confusion matrix: {dataset.name}, accuracy {accuracy:.3f}")
    mis_path = plot_misclassified(images, labels, pred, classes, out / "misclassified.png")
    print(f"confusion matrix: {cm_path}")
    print(f"misclassified:    {mis_path}")
    return 0
