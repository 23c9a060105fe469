"""What the subcommands share: errors, loading models and adapting images to a model's input."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CLIError",
    "load_model_file",
    "load_model_or_name",
    "model_input_shape",
    "model_class_names",
    "image_geometry",
    "adapt_images",
    "is_binary",
    "ensure_compiled",
    "load_images_for",
    "probabilities",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "fraction",
    "open_fraction",
]


class CLIError(Exception):
    """A user error: printed as one line ``deepstep: error: ...`` and exit status 2."""


def load_model_file(path: str | Path) -> Any:
    """Load a saved model (``.npz``), or raise :class:`CLIError` naming the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise CLIError(f"MODEL file not found: {path}")
    if not path.is_file():
        raise CLIError(f"MODEL is not a file: {path}")
    from ..io import load_model

    try:
        return load_model(path)
    except ValueError as exc:  # deepstep.io.ModelFormatError and friends
        raise CLIError(f"cannot load MODEL {path}: {exc}") from exc


def load_model_or_name(spec: str, dtype: str = "float32", seed: int = 0) -> Any:
    """A saved model file, or a fresh model-zoo model when ``spec`` names one (and is no file)."""
    path = Path(spec)
    if path.exists() or path.suffix.lower() == ".npz" or len(path.parts) > 1:
        return load_model_file(path)
    from ..models import MODEL_NAMES, get_model

    if spec not in MODEL_NAMES:
        known = ", ".join(MODEL_NAMES)
        raise CLIError(f"MODEL file not found and not a model name: {spec} (models: {known})")
    return get_model(spec, dtype=dtype, seed=seed)


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The model's input shape without the batch axis."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        raise CLIError(f"model {getattr(model, 'name', '?')!r} is not built: its input shape is unknown")
    return tuple(int(s) for s in shape)


def _first_data_format(model: Any) -> str:
    for layer in getattr(model, "layers", []):
        fmt = getattr(layer, "data_format", None)
        if fmt is not None:
            return str(fmt)
    return "channels_last"


def is_binary(model: Any) -> bool:
    """True when the model ends in one logit (sigmoid / binary cross-entropy)."""
    out = getattr(model, "output_shape", None)
    return out is not None and tuple(out)[-1] == 1


def model_class_names(model: Any) -> list[str]:
    """The class names saved with the model, else ``"0"``, ``"1"``, ..."""
    names = getattr(model, "class_names", None)
    if names:
        return [str(n) for n in names]
    k = tuple(model.output_shape)[-1]
    return [str(i) for i in range(2 if k == 1 else k)]


def image_geometry(model: Any) -> tuple[int, int, int]:
    """``(height, width, channels)`` of the images the model takes (before any flattening).

    A flat input of ``D`` values is taken as a square RGB image when ``D / 3`` is a perfect
    square (the course's 64x64x3 = 12288), else as a square grayscale image.
    """
    shape = model_input_shape(model)
    if len(shape) == 3:
        if _first_data_format(model) == "channels_first":
            c, h, w = shape
        else:
            h, w, c = shape
        return h, w, c
    if len(shape) == 1:
        d = shape[0]
        if d % 3 == 0 and math.isqrt(d // 3) ** 2 == d // 3:
            side = math.isqrt(d // 3)
            return side, side, 3
        if math.isqrt(d) ** 2 == d:
            side = math.isqrt(d)
            return side, side, 1
    raise CLIError(f"cannot feed images to a model with input shape {shape}")


def adapt_images(x: np.ndarray, model: Any, source: str) -> np.ndarray:
    """Return NHWC images ``x`` in the layout the model takes (flattened or channels-first if needed).

    Raises :class:`CLIError` naming ``source`` when the shapes cannot match.
    """
    shape = model_input_shape(model)
    got = tuple(x.shape[1:])
    channels_first = _first_data_format(model) == "channels_first"
    if got == shape and not channels_first:
        return x
    if len(shape) == 1 and math.prod(got) == shape[0]:
        return x.reshape(x.shape[0], -1)
    if len(shape) == 3 and len(got) == 3 and channels_first and (got[2], got[0], got[1]) == shape:
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    raise CLIError(
        f"model {getattr(model, 'name', '?')!r} takes inputs of shape {shape}, "
        f"but {source} has images of {'x'.join(map(str, got))}"
    )


def ensure_compiled(model: Any) -> Any:
    """Compile a loaded model that was saved uncompiled, with the loss its output implies."""
    if not getattr(model, "compiled", False):
        model.compile(optimizer="adam",
                      loss="binary_crossentropy" if is_binary(model) else "sparse_categorical_crossentropy")
    return model


def load_images_for(model: Any, paths: list[str]) -> np.ndarray:
    """Read image files as the model's inputs: resized, gray or RGB as it takes, scaled to [0, 1]."""
    from ..data import load_image

    h, w, c = image_geometry(model)
    if c not in (1, 3):
        raise CLIError(f"model {model.name!r} takes {c}-channel images; only 1 (gray) or 3 (RGB) can be read")
    images = np.stack([load_image(path, (h, w), channels=c) for path in paths])
    x = images.astype(getattr(model, "dtype", "float32")) / 255.0
    return x.astype(getattr(model, "dtype", "float32"), copy=False)


def probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities, (N, K); a binary model's (N, 1) sigmoid becomes (N, 2)."""
    proba = np.asarray(model.predict_proba(x))
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = np.concatenate([1.0 - proba, proba], axis=1)
    return proba


# argparse value types: a bad value becomes "argument --NAME: must be ..., got VALUE" (exit status 2)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1)."""
    value = _float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def open_fraction(text: str) -> float:
    """A number in (0, 1)."""
    value = _float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value
