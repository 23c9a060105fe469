"""What the subcommands share: errors, loading models and adapting images to a model's input."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
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
    "RUN_FILE",
    "TEST_FRACTION",
    "read_run_beside",
    "same_data",
    "run_data",
    "resolve_data_spec",
    "held_out_indices",
    "sample_names",
    "image_files",
    "Subset",
    "select_subset",
    "held_out_images",
    "load_data_for",
    "class_folders",
    "expand_image_paths",
]

#: the file ``deepstep train`` writes beside the model, holding the run's settings and its split
RUN_FILE = "run.json"
#: the fraction of ``--data`` that ``deepstep train`` holds out for testing (when no ``--test-data``)
TEST_FRACTION = 0.2


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


# The run's split: what 'deepstep train' held out, read back by evaluate, predict and visualize


def read_run_beside(model_path: str | Path) -> dict[str, Any] | None:
    """The settings ``deepstep train`` saved in ``run.json`` beside ``model_path``, or None if absent.

    Raises :class:`CLIError` when the file exists but is not a run file.
    """
    import json

    run_file = Path(model_path).resolve().parent / RUN_FILE
    if not run_file.is_file():
        return None
    try:
        run = json.loads(run_file.read_text())
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {run_file}: {exc}") from exc
    if not isinstance(run, dict) or "data" not in run or "seed" not in run:
        raise CLIError(f"{run_file} is not a deepstep run file (no 'data' and 'seed')")
    run["_file"] = str(run_file)
    return run


def resolve_data_spec(spec: Any, base: Path | None = None) -> str | None:
    """``"digits"`` as is; a path made absolute (relative ones against ``base`` when it holds them)."""
    if spec is None:
        return None
    text = str(spec)
    if text == "digits":
        return text
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None and (base / path).exists() and not path.exists():
        path = base / path
    return str(path.resolve())


def run_data(run: dict[str, Any], key: str = "data") -> str | None:
    """The run's ``data`` or ``test_data`` as an absolute path (or ``"digits"``)."""
    absolute = run.get(f"{key}_path")
    return str(absolute) if absolute else resolve_data_spec(run.get(key))


def same_data(spec: Any, other: Any) -> bool:
    """True when two ``--data`` values name the same dataset."""
    return spec is not None and other is not None and resolve_data_spec(spec) == resolve_data_spec(other)


def held_out_indices(labels: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(train_part, test_part)``: indices of the samples 'deepstep train' trains on / holds out.

    The same stratified, seeded split as the command (``train_val_split`` of the sample indices).
    """
    from ..data import train_val_split

    (rest, _), (test, _) = train_val_split(np.arange(len(labels)), labels, test_fraction, seed=seed,
                                           stratify=True)
    return rest, test


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder, sorted, hidden ones left out (the order ``load_image_folder`` uses)."""
    from ..data.images import IMAGE_EXTENSIONS

    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)


def sample_names(dataset: Any, spec: Any) -> list[str]:
    """A name per sample: the file (``class/file.png``) of an image folder, else ``#index``."""
    n = len(dataset.y)
    if getattr(dataset, "kind", None) == "images":
        root = Path(str(spec))
        names = [f"{d.name}/{f.name}" for d in sorted(p for p in root.iterdir()
                                                        if p.is_dir() and not p.name.startswith("."))
                 for f in image_files(d)]
        if len(names) == n:
            return names
    return [f"#{i}" for i in range(n)]


@dataclass(frozen=True)
class Subset:
    """The images a command works on and how it says so.

    ``indices`` index the loaded dataset; ``description`` is one line such as
    ``"test subset: the 359 images of digits held out by the run (seed 3, 20%)"``.
    """

    indices: np.ndarray
    name: str
    description: str


def select_subset(subset: str, dataset: Any, spec: Any, run: dict[str, Any] | None,
                  seed: int | None = None) -> Subset:
    """The samples of ``dataset`` (loaded from ``spec``) a command uses for ``subset``.

    ``"test"``: exactly what the training run held out. With ``run.json`` beside the model
    (``run``), its seed and test fraction; data other than the run's training data was never
    trained on, so all of it is held out; the run's ``--test-data`` is held out whole. Without a
    run file, ``seed`` (else 0) and the default 20%. ``"all"``: every image, which for the run's own
    training data includes the images it was trained on (said so in the description).
    """
    n = len(dataset.y)
    everything = np.arange(n)
    name = dataset.name
    trained_on = run is None or same_data(spec, run_data(run, "data"))
    test_file = run is not None and same_data(spec, run_data(run, "test_data"))
    fraction = TEST_FRACTION if run is None else float(run.get("test_fraction", TEST_FRACTION) or 0.0)
    if run is not None and run.get("test_data"):
        fraction = 0.0
    if seed is None:
        seed = 0 if run is None else int(run["seed"])
    if subset == "all":
        if trained_on and not test_file:
            rest, _ = held_out_indices(dataset.y, seed, fraction) if fraction else (everything, None)
            note = ("" if run is not None else " (no run.json beside the model: any of them may be "
                    "training images)")
            if run is not None:
                note = f", including the {len(rest)} the run trained or validated on"
            return Subset(everything, "all", f"all {n} images of {name}{note}")
        return Subset(everything, "all", f"all {n} images of {name} (none used in training)")
    if subset != "test":
        raise CLIError(f"unknown subset {subset!r}; choose 'test' or 'all'")
    if test_file or not trained_on:
        why = "the run's --test-data" if test_file else "not the run's training data"
        return Subset(everything, "test", f"test subset: all {n} images of {name} ({why})")
    if not fraction:
        raise CLIError(f"the run held out no part of {spec}: its test set was --test-data "
                       f"{run.get('test_data')}; evaluate on that (--data {run.get('test_data')})")
    _, test = held_out_indices(dataset.y, seed, fraction)
    source = "held out by the run" if run is not None else "held out with no run.json: assumed"
    return Subset(np.sort(test), "test", f"test subset: the {len(test)} of {n} images of {name} {source} "
                                         f"(seed {seed}, {fraction:.0%})")


def class_folders(spec: str) -> list[str] | None:
    """The class sub-folder names of an image folder ``--data`` (not ``digits`` or MNIST), else None.

    A folder without class sub-folders is not one: ``load_dataset`` then says what it expected.
    """
    path = Path(spec)
    if spec == "digits" or not path.is_dir():
        return None
    from ..data import find_mnist_pair

    if find_mnist_pair(spec) is not None:
        return None
    folders = [p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folders or None


def load_data_for(spec: str, model: Any) -> tuple[Any, list[str]]:
    """Load ``--data`` for ``model``: ``(dataset, a name per sample)``, images at the model's size.

    An image folder is read with the model's classes when every one of them is a sub-folder (a run
    trained with ``--classes 0,1,2`` keeps those classes, in that order: label ``k`` is the model's
    class ``k``), and in the model's color mode (1 channel: grayscale). Other data is loaded whole
    with :func:`deepstep.data.load_dataset`. Raises :class:`CLIError` for unreadable data.
    """
    from ..data import DataFormatError, Dataset, ImageFolderDataset, load_dataset

    h, w, c = image_geometry(model)
    dtype = str(getattr(model, "dtype", "float32"))
    folders = class_folders(spec)
    try:
        if folders is None:
            dataset = load_dataset(spec, dtype=dtype, image_size=(h, w), channels=c if c in (1, 3) else 3)
            return dataset, sample_names(dataset, spec)
        wanted = [str(n) for n in (getattr(model, "class_names", None) or [])]
        classes = wanted if wanted and set(wanted) <= set(folders) else None
        with ImageFolderDataset(spec, image_size=(h, w), color_mode="grayscale" if c == 1 else "rgb",
                                classes=classes, dtype=dtype) as folder:
            x, y = folder.to_arrays()
            names = [f"{f.parent.name}/{f.name}" for f in folder.files]
            return Dataset(x, y, list(folder.classes), Path(spec).resolve().name, "images"), names
    except (DataFormatError, FileNotFoundError) as exc:
        raise CLIError(f"--data {spec}: {exc}") from exc


def held_out_images(model_path: str | Path, model: Any) -> tuple[np.ndarray, np.ndarray, list[str], Subset]:
    """The run's held-out test images for ``model``: ``(images NHWC, labels, names, subset)``.

    Raises :class:`CLIError` when there is no ``run.json`` beside ``model_path``.
    """
    run = read_run_beside(model_path)
    if run is None:
        raise CLIError(f"give image files: there is no {RUN_FILE} beside {model_path} to take the "
                       "run's held-out test images from")
    spec = run_data(run, "test_data") or run_data(run, "data")
    dataset, names = load_data_for(spec, model)
    subset = select_subset("test", dataset, spec, run)
    return (dataset.x[subset.indices], dataset.y[subset.indices], [names[i] for i in subset.indices],
            subset)


def expand_image_paths(paths: list[str]) -> list[str]:
    """Image files named, a folder standing for its image files (those of its sub-folders too), sorted."""
    from ..data.images import IMAGE_EXTENSIONS

    files: list[str] = []
    for spec in paths:
        path = Path(spec)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                raise CLIError(f"folder {path} holds no .png/.jpg/.jpeg images")
            files.extend(found)
        else:
            files.append(str(spec))
    return files
