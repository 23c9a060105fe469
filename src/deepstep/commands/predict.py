"""``deepstep predict``: the class and its probability for each image file."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .common import (
    RUN_FILE,
    adapt_images,
    ensure_compiled,
    expand_image_paths,
    held_out_images,
    load_images_for,
    load_model_file,
    model_class_names,
    positive_int,
    probabilities,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "predict",
        help="classify image files with a saved model",
        description="Print the predicted class and its probability for each image. Images are converted "
                    "to the model's input: resized, grayscale for 1 channel or RGB for 3, scaled to [0, 1] "
                    "as in training.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file saved by 'deepstep train' (.npz)")
    p.add_argument("images", metavar="IMAGE", nargs="*",
                   help="PNG or JPEG files, or folders of them (searched recursively); none: the images "
                        f"the training run held out for testing (from the {RUN_FILE} beside MODEL)")
    p.add_argument("--top", type=positive_int, default=1, metavar="K",
                   help="also list the K most likely classes")
    p.add_argument("--invert", action="store_true",
                   help="invert the intensities first (dark digits drawn on white, for models trained on "
                        "light-on-dark digits such as MNIST's)")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    model = ensure_compiled(load_model_file(args.model))
    classes = model_class_names(model)
    labels = None
    if args.images:
        names = expand_image_paths(args.images)
        images = load_images_for(model, names)
    else:
        images, labels, names, subset = held_out_images(args.model, model)
        print(f"{subset.description}; columns: image, true class, predicted class")
    if args.invert:
        images = 1.0 - images
    x = adapt_images(images, model, "the images")
    proba = probabilities(model, x)
    top = max(1, min(int(args.top), len(classes)))
    width = max(len(p) for p in names)
    for k, (path, row) in enumerate(zip(names, proba, strict=True)):
        order = np.argsort(-row, kind="stable")[:top]
        best = order[0]
        truth = "" if labels is None else f"{classes[labels[k]]}  "
        line = f"{path:<{width}}  {truth}{classes[best]}  (probability {row[best]:.4f})"
        if top > 1:
            line += "  [" + ", ".join(f"{classes[c]}: {row[c]:.4f}" for c in order) + "]"
        print(line)
    if labels is not None:
        correct = int(np.sum(np.argmax(proba, axis=1) == labels))
        print(f"accuracy: {correct / len(labels):.4f} ({correct}/{len(labels)})")
    return 0
