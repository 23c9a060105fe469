"""``deepstep visualize``: first-layer filters and every conv layer's feature maps for one image."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    RUN_FILE,
    CLIError,
    adapt_images,
    held_out_images,
    load_images_for,
    load_model_file,
    model_class_names,
)

__all__ = ["add_parser", "run", "conv_layers"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "visualize",
        help="pictures of the first-layer filters and of the feature maps for an image",
        description="Draw the first convolution layer's filters and, for IMAGE, the feature maps output "
                    "by every convolution layer, as PNG files.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file saved by 'deepstep train' (.npz)")
    p.add_argument("image", metavar="IMAGE", nargs="?", default=None,
                   help="a PNG or JPEG file (default: the first image the training run held out for "
                        f"testing, from the {RUN_FILE} beside MODEL)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the pictures (default: <model folder>/visualize)")
    p.set_defaults(handler=run)
    return p


def conv_layers(model: Any) -> list[Any]:
    """The layers holding a 4-D convolution kernel, in order."""
    return [layer for layer in model.layers
            if getattr(getattr(layer, "kernel", None), "value", np.empty(0)).ndim == 4]


def run(args: argparse.Namespace) -> int:
    from ..viz import plot_feature_maps, plot_filters

    model = load_model_file(args.model)
    convs = conv_layers(model)
    if not convs:
        raise CLIError(f"model {args.model} has no convolution layers to visualize")
    if args.image is not None:
        images = load_images_for(model, [args.image])
        image_name = Path(args.image).name
    else:
        held, labels, names, subset = held_out_images(args.model, model)
        images, image_name = held[:1], f"held-out test image {names[0]}"
        print(f"{image_name} (true class {model_class_names(model)[labels[0]]}; {subset.description})")
    x = adapt_images(images, model, f"image {image_name}")
    out = Path(args.out) if args.out else Path(args.model).resolve().parent / "visualize"
    written = [plot_filters(convs[0].kernel.value, out / "filters.png",
                            title=f"Filters of {convs[0].name}")]
    wanted = {id(layer) for layer in convs}
    index = 0
    for layer, activation in model.layer_outputs(x):
        if id(layer) in wanted:
            index += 1
            maps = activation[0]
            if getattr(layer, "data_format", "channels_last") == "channels_first":
                maps = np.moveaxis(maps, 0, -1)
            title = f"Feature maps of {layer.name} for {image_name}"
            path = out / f"feature_maps_{index}_{layer.name}.png"
            written.append(plot_feature_maps(maps, path, title=title, image=images[0]))
            if index == len(convs):
                break
    for path in written:
        print(path)
    return 0
