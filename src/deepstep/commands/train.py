"""``deepstep train``: fit a model-zoo network on a dataset, with checkpoints and pictures."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write
from .._validation import brief_repr
from .common import (
    RUN_FILE,
    TEST_FRACTION,
    CLIError,
    adapt_images,
    class_folders,
    ensure_compiled,
    fraction,
    image_geometry,
    is_binary,
    load_model_file,
    non_negative_int,
    positive_float,
    positive_int,
    resolve_data_spec,
)
from .photos import AUGMENT_PRESETS, AUGMENTATIONS, folder_split, for_model, parse_augment, parse_classes

__all__ = ["add_parser", "run", "default_model_for", "parse_lr_schedule", "MODEL_DEFAULTS", "TEST_FRACTION"]

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
CHECKPOINT = "checkpoint.npz"
MODEL_FILE = "model.npz"
BEST_FILE = "best.npz"


@dataclass(frozen=True)
class Defaults:
    """Training settings used when the command line does not give them."""

    epochs: int
    batch_size: int
    learning_rate: float


# Chosen by measurement on 2 shared cores: digits_cnn reached 97.8-100% test accuracy over seeds 0-4
# in 9-15 s of CPU time; mnist_cnn (t10k, 7199 training images) 97.7% in 5 epochs (lr 0.001: 96.6%);
# cat_dnn 72% on test_catvnoncat.h5 with --test-data.
MODEL_DEFAULTS: dict[str, Defaults] = {
    "digits_cnn": Defaults(epochs=20, batch_size=32, learning_rate=0.003),
    "mnist_cnn": Defaults(epochs=5, batch_size=64, learning_rate=0.002),
    "signs_convnet": Defaults(epochs=100, batch_size=64, learning_rate=0.009),
    "cat_dnn": Defaults(epochs=100, batch_size=64, learning_rate=0.001),
}
_FALLBACK = Defaults(epochs=10, batch_size=32, learning_rate=0.001)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train a model-zoo network on a dataset",
        description=(
            "Train a model-zoo network. The data is split deterministically (by --seed) into a "
            f"{int(TEST_FRACTION * 100)}% test part, held out until the end, and a training part "
            "from which --val-split is held out for validation. Writes model.npz, history.json and "
            "learning_curves.png into --out. Ctrl-C saves a checkpoint; --resume continues from it. "
            "With no arguments: a small ConvNet on scikit-learn's 8x8 digits (well under a minute)."
        ),
    )
    p.add_argument("--data", default=None, metavar="digits|PATH",
                   help="'digits' (default; bundled with scikit-learn), a course .h5 file, a folder "
                        "holding the MNIST IDX files, or an image folder with one sub-folder per class")
    p.add_argument("--test-data", default=None, metavar="PATH",
                   help="a separate test set (e.g. test_catvnoncat.h5) instead of holding out "
                        f"{int(TEST_FRACTION * 100)}%% of --data")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="model-zoo network (default: chosen from the data: digits_cnn, mnist_cnn, "
                        "signs_convnet or cat_dnn)")
    p.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                   help="number of epochs (default: per model; with --resume, the new total)")
    p.add_argument("--batch-size", type=positive_int, default=None, metavar="N",
                   help="mini-batch size (default: per model)")
    p.add_argument("--lr", type=positive_float, default=None, metavar="F",
                   help="learning rate (default: per model)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="optimizer (default: adam)")
    p.add_argument("--seed", type=non_negative_int, default=None, metavar="N",
                   help="seed of the weights, the splits and the shuffling (default: 0)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="floating-point type of weights and activations (default: float32)")
    p.add_argument("--val-split", type=fraction, default=None, metavar="F",
                   help="fraction of the training part held out for validation (default: 0.1; 0 for none)")
    p.add_argument("--image-size", type=positive_int, default=None, metavar="N",
                   help="size images of an image folder are resized to (default: the --model's usual input "
                        "size, else 64); the model is built for the data's size, channels and classes")
    p.add_argument("--classes", type=parse_classes, default=None, metavar="A,B,...",
                   help="image folder: the class sub-folders to train on, in label order (default: all)")
    p.add_argument("--color-mode", choices=("rgb", "grayscale"), default=None,
                   help="image folder: decode images as RGB (default) or grayscale")
    p.add_argument("--augment", type=parse_augment, default=None, metavar="LIST",
                   help=f"image folder: augment the training batches with {','.join(AUGMENTATIONS)} "
                        "(comma-separated) or a preset: "
                        + "; ".join(f"{k} = {','.join(v) or 'nothing'}" for k, v in AUGMENT_PRESETS.items())
                        + " (seeded: a run is reproducible)")
    p.add_argument("--init", choices=("default", "notebook"), default=None,
                   help="initial weights: the model's own initializers (default, seeded by --seed) or, for "
                        "cat_dnn (Dense layers only), the course application notebook's: np.random.seed(1), "
                        "W = randn(n, n_prev) / sqrt(n_prev), b = 0")
    p.add_argument("--early-stopping", type=non_negative_int, default=None, metavar="PATIENCE",
                   help="stop when --monitor has not improved for PATIENCE epochs (needs validation data)")
    p.add_argument("--monitor", choices=("val_loss", "val_accuracy"), default=None,
                   help="what --early-stopping and --restore-best watch (default: val_loss)")
    p.add_argument("--restore-best", action="store_true",
                   help=f"save the best validation epoch's weights as {MODEL_FILE} (the last epoch's stay "
                        f"in {CHECKPOINT}, from which --resume continues)")
    p.add_argument("--lr-schedule", default=None, metavar="SPEC",
                   help="learning rate per epoch: constant (default), cosine[:ALPHA] (down to ALPHA*lr at "
                        "the last epoch, default 0.01), step[:EVERY[:FACTOR]] (times FACTOR every EVERY "
                        "epochs, default 10 and 0.5), exponential[:RATE] (times RATE per epoch, default "
                        "0.95) or inverse[:RATE] (lr / (1 + RATE * epoch), default 1)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: ./runs/<model>-<data>)")
    p.add_argument("--resume", action="store_true",
                   help=f"continue the run saved in --out: an interrupted one ({CHECKPOINT}) or a "
                       f"finished one ({MODEL_FILE}) with a larger --epochs (the new total)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI (under mpiexec -n N; automatic when mpiexec starts "
                        "more than one rank): the batch size is the global batch, rank 0 prints and writes")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar, one line per epoch (also what a log file or pipe gets)")
    p.set_defaults(handler=run)
    return p


def default_model_for(shape: tuple[int, ...], num_classes: int) -> str | None:
    """The zoo model matching images of ``shape`` (H, W, C) and ``num_classes``, or None."""
    table = {
        ((8, 8, 1), 10): "digits_cnn",
        ((28, 28, 1), 10): "mnist_cnn",
        ((64, 64, 3), 6): "signs_convnet",
        ((64, 64, 3), 2): "cat_dnn",
    }
    return table.get((tuple(shape), num_classes))


def _zoo_input(name: str) -> tuple[int, int, int]:
    """The (height, width, channels) images the zoo model ``name`` takes by default."""
    from ..models import MODEL_NAMES, get_model

    if name not in MODEL_NAMES:
        raise CLIError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return image_geometry(get_model(name))


def _build(name: str, shape: tuple[int, ...], num_classes: int, data_name: str, dtype: str, seed: int) -> Any:
    """The zoo model ``name`` built for the data's images and classes."""
    from ..models import build_zoo_model

    try:
        return build_zoo_model(name, shape, num_classes, dtype=dtype, seed=seed)
    except ValueError as exc:
        raise CLIError(f"model {name!r} cannot be trained on data {data_name!r} "
                       f"({'x'.join(map(str, shape))} images, {num_classes} classes): {exc}") from exc


def _notebook_init(model: Any, model_name: str) -> None:
    """Set the weights of a model of Dense layers as the course's application notebook draws them.

    ``deepstep.course.app.initialize_parameters_deep_app`` (``np.random.seed(1)``, then
    ``W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1})``, ``b_l = 0``), transposed to Dense kernels; NumPy's
    global generator is left as it was.
    """
    from ..course.app import initialize_parameters_deep_app
    from ..nn import Dense

    layers = list(getattr(model, "layers", []))
    if not layers or not all(isinstance(layer, Dense) for layer in layers) or len(model.input_shape) != 1:
        raise CLIError(f"--init notebook needs a model of Dense layers on flat inputs (cat_dnn), "
                       f"not {model_name}")
    dims = [int(model.input_shape[0])] + [int(layer.units) for layer in layers]
    state = np.random.get_state()  # noqa: NPY002 - the notebook seeds the global generator; restore it
    try:
        parameters = initialize_parameters_deep_app(dims)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    weights = []
    for index in range(1, len(dims)):
        weights += [parameters[f"W{index}"].T, parameters[f"b{index}"].reshape(-1)]
    model.set_weights([w.astype(model.dtype) for w in weights])
    print("note:  weights initialized as in the course's application notebook (np.random.seed(1), "
          "W = randn / sqrt(n_prev), b = 0)")


def _peek_size(folder: Path) -> tuple[int, int] | None:
    """(height, width) of the first image of an image folder, or None."""
    from .common import image_files

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - load_dataset reports the missing Pillow
        return None
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = image_files(class_dir)
        if files:
            try:
                with Image.open(files[0]) as img:
                    return img.size[1], img.size[0]
            except OSError:
                return None
    return None


def _save_json(obj: Any, path: Path) -> None:
    def write(handle: Any) -> None:
        json.dump(obj, handle, indent=2)
        handle.write("\n")

    atomic_write(path, write, binary=False)


def _history(model: Any) -> dict[str, list[float]]:
    return {k: [float(v) for v in values] for k, values in getattr(model, "history", {}).items()}


_RUN_KEYS = ("data", "test_data", "model", "dtype", "seed", "val_split", "image_size", "classes",
             "color_mode", "augment", "init")
_FRESH_DEFAULTS = {"data": "digits", "test_data": None, "model": None, "dtype": "float32", "seed": 0,
                   "val_split": 0.1, "image_size": None, "classes": None, "color_mode": None, "augment": None,
                   "init": "default"}
#: settings added after the first run files: a run file without them used their defaults
_LATER_KEYS = ("classes", "color_mode", "augment", "init")


def _read_run(out: Path) -> dict[str, Any]:
    """The settings of the run saved in ``out``, which must hold a checkpoint."""
    run_file = out / RUN_FILE
    if not run_file.is_file() or _resume_file(out) is None:
        raise CLIError(f"nothing to resume in {out}: it needs {RUN_FILE} and {CHECKPOINT} (or {MODEL_FILE})")
    try:
        saved = json.loads(run_file.read_text())
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {run_file}: {exc}") from exc
    if not isinstance(saved, dict) or any(key not in saved for key in _RUN_KEYS if key not in _LATER_KEYS):
        raise CLIError(f"{run_file} is not a deepstep run file")
    for key, valid, wanted in _RUN_CHECKS:
        if not valid(saved.get(key)):
            raise CLIError(f"{run_file} is not a deepstep run file: {key!r} must be {wanted}, got "
                           f"{brief_repr(saved.get(key))}")
    for key in _LATER_KEYS:
        saved.setdefault(key, _FRESH_DEFAULTS[key])
    saved["classes"] = saved.get("classes_selected")
    return saved


def _positive(value: Any, kind: type) -> bool:
    """A positive int up to 10**9 (``kind`` int), or a positive finite number (``kind`` float)."""
    if isinstance(value, bool) or not isinstance(value, kind | int):
        return False
    if kind is int:
        return 0 < value <= 10**9
    try:
        return math.isfinite(float(value)) and value > 0
    except OverflowError:  # an integer such as 10**400
        return False


_RUN_CHECKS = (
    ("epochs", lambda v: _positive(v, int), "an integer in [1, 10**9]"),
    ("batch_size", lambda v: _positive(v, int), "an integer in [1, 10**9]"),
    ("lr", lambda v: _positive(v, float), "a positive number"),
    ("optimizer", lambda v: v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
)


def _finished(saved: dict[str, Any], out: Path) -> bool:
    """Whether the run in ``out`` wrote its results (run.json says so; an older run.json without the
    mark: whether model.npz exists)."""
    if "completed" in saved:
        return saved["completed"] is True
    return (out / MODEL_FILE).is_file()


# Options that decide the trajectory of a run: with --resume they must repeat the run's values
_SAME_ON_RESUME = (("batch_size", int), ("lr", float), ("optimizer", str))


def _check_resume_options(args: argparse.Namespace, saved: dict[str, Any], out: Path) -> None:
    """--batch-size, --lr, --optimizer and --lr-schedule given with --resume must be the run's own."""
    for key, kind in _SAME_ON_RESUME:
        given = getattr(args, key)
        if given is not None and kind(given) != kind(saved[key]):
            option = "--" + key.replace("_", "-")
            raise CLIError(f"--resume: the run in {out} used {option} {saved[key]}, not {given}")
    given = args.lr_schedule
    before = saved.get("lr_schedule") or "constant"
    if given is not None and "lr_schedule" in saved and given != before:
        raise CLIError(f"--resume: the run in {out} used --lr-schedule {before}, not {given}")


def _resume_file(out: Path) -> Path | None:
    """The checkpoint of an interrupted run, else the model of a finished one, else None."""
    for name in (CHECKPOINT, MODEL_FILE):
        if (out / name).is_file():
            return out / name
    return None


def _merge(explicit: dict[str, Any], saved: dict[str, Any], out: Path) -> dict[str, Any]:
    """The saved run's settings; options given explicitly must agree with them."""
    merged = {}
    for key in _RUN_KEYS:
        given, before = explicit[key], saved[key]
        if given is not None and str(given) != str(before):
            option = "--" + key.replace("_", "-")
            raise CLIError(f"--resume: the run in {out} used {option} {before}, not {given}")
        merged[key] = before
    return merged


def parse_lr_schedule(spec: str | None, lr: float, epochs: int) -> Any:
    """The schedule ``--lr-schedule SPEC`` names (a callable ``epoch -> rate``), or None for constant.

    ``constant``; ``cosine[:ALPHA]`` (CosineDecay over ``epochs - 1`` epochs down to ``ALPHA * lr``,
    default 0.01); ``step[:EVERY[:FACTOR]]`` (StepDecay, default 10 and 0.5); ``exponential[:RATE]``
    (ExponentialDecay per epoch, default 0.95); ``inverse[:RATE]`` (InverseTimeDecay, default 1).
    """
    from ..optim.schedules import get_schedule

    if spec is None or spec == "constant":
        return None
    name, *raw = str(spec).split(":")
    forms = {"cosine": 1, "step": 2, "exponential": 1, "inverse": 1}
    if name not in forms or len(raw) > forms[name]:
        raise CLIError(f"--lr-schedule {spec!r}: expected constant, cosine[:ALPHA], step[:EVERY[:FACTOR]], "
                       "exponential[:RATE] or inverse[:RATE]")
    try:
        values = [float(v) for v in raw]
        if name == "cosine":
            return get_schedule("cosine_decay", initial_learning_rate=lr, decay_steps=max(epochs - 1, 1),
                                alpha=values[0] if values else 0.01)
        if name == "step":
            every = int(values[0]) if values else 10
            if values and values[0] != every:
                raise ValueError(f"EVERY must be a whole number of epochs, got {raw[0]}")
            return get_schedule("step_decay", initial_learning_rate=lr, epochs_drop=every,
                                drop=values[1] if len(values) > 1 else 0.5)
        if name == "exponential":
            return get_schedule("exponential_decay", initial_learning_rate=lr,
                                decay_rate=values[0] if values else 0.95)
        return get_schedule("inverse_time_decay", initial_learning_rate=lr,
                            decay_rate=values[0] if values else 1.0)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"--lr-schedule {spec!r}: {exc}") from exc


def _callbacks(out: Path, min_interval: float = 2.0) -> list[Any]:
    from ..train.callbacks import Callback

    class SaveCheckpoint(Callback):
        """Keep ``checkpoint.npz`` at an epoch boundary: weights, optimizer state, epoch, history.

        Saved when training begins and after an epoch once ``min_interval`` seconds have passed
        since the last save (so that many short epochs are not slowed down by writing files).
        Ctrl-C at any moment leaves a checkpoint from which ``--resume`` replays exactly the
        batches an uninterrupted run sees.
        """

        def _save(self) -> None:
            self.model.save(out / CHECKPOINT)
            self._saved_at = time.perf_counter()

        def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
            self._save()

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            if time.perf_counter() - self._saved_at >= min_interval:
                self._save()

    return [SaveCheckpoint()]


def _better(value: float, best: float | None, monitor: str) -> bool:
    if best is None:
        return True
    return value > best if "accuracy" in monitor else value < best


def _best_so_far(history: dict[str, list[float]], monitor: str) -> tuple[float | None, int | None]:
    """The best value of ``monitor`` in a history and its 1-based epoch number."""
    best, epoch = None, None
    for k, value in enumerate(history.get(monitor, [])):
        if _better(float(value), best, monitor):
            best, epoch = float(value), k + 1
    return best, epoch


def _keep_best(path: Path, monitor: str) -> Any:
    """A callback saving the model to ``path`` whenever ``monitor`` improves on the run's best so far."""
    from ..train.callbacks import Callback

    class KeepBest(Callback):
        def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
            self.best, self.best_epoch = _best_so_far(getattr(self.model, "history", {}), monitor)

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            value = (logs or {}).get(monitor)
            if value is not None and _better(float(value), self.best, monitor):
                self.best, self.best_epoch = float(value), epoch + 1
                self.model.save(path)

    return KeepBest()


class FolderData:
    """An image folder listed for streaming (:class:`deepstep.data.ImageFolderDataset`): nothing decoded yet.

    ``name``, ``classes`` and ``y`` (the labels) as the loaded datasets have them; ``image_shape``
    instead of ``x``.
    """

    kind = "images"

    def __init__(self, dataset: Any, name: str) -> None:
        self.dataset, self.name = dataset, name
        self.classes = list(dataset.classes)
        self.y = dataset.labels
        self.image_shape = tuple(int(s) for s in dataset.image_shape)


def _is_folder(spec: str) -> bool:
    return class_folders(spec) is not None


def _check_folder_options(settings: dict[str, Any], folder: bool) -> None:
    if folder:
        return
    for key in ("classes", "color_mode", "augment"):
        if settings.get(key):
            raise CLIError(f"--{key.replace('_', '-')} needs an image folder as --data (one sub-folder per "
                           f"class), not {settings['data']}")


def _open_folder(spec: str, size: tuple[int, int], settings: dict[str, Any]) -> FolderData:
    from ..data import DataFormatError, ImageFolderDataset

    try:
        dataset = ImageFolderDataset(spec, image_size=size, color_mode=settings["color_mode"] or "rgb",
                                     classes=settings["classes"], dtype=settings["dtype"])
    except (DataFormatError, FileNotFoundError) as exc:
        raise CLIError(str(exc)) from exc
    return FolderData(dataset, Path(spec).resolve().name or str(spec))


def _prepare(settings: dict[str, Any]) -> tuple[Any, Any, str, np.ndarray | None]:
    """Load the data and build the model for it: (dataset, model, model name, inputs in the model's layout).

    An image folder is only listed (a :class:`FolderData`, inputs None): its images are decoded as
    training streams them. Says on stdout when the images of an image folder are resized and when a
    zoo model is built for another input shape or class count than its usual one.
    """
    from ..data import load_dataset
    from ..data.datasets import DEFAULT_IMAGE_SIZE

    model_name, dtype, seed = settings["model"], settings["dtype"], settings["seed"]
    spec = str(settings["data"])
    usual = _zoo_input(model_name) if model_name is not None else None
    image_size = settings["image_size"]
    folder = _is_folder(spec)
    _check_folder_options(settings, folder)
    if folder:
        size = (image_size, image_size) if image_size else (usual[:2] if usual else (DEFAULT_IMAGE_SIZE,) * 2)
        dataset = _open_folder(spec, size, settings)
        found = _peek_size(Path(spec))
        if found is not None and found != tuple(size):
            why = "--image-size" if image_size else (f"the usual input of {model_name}" if usual else
                                                      "the default; choose with --image-size")
            mode = "as grayscale" if settings["color_mode"] == "grayscale" else "kept RGB"
            print(f"note:  images of {dataset.name} resized from {found[0]}x{found[1]} to "
                  f"{size[0]}x{size[1]} ({why}), {mode}")
        shape = dataset.image_shape
    else:
        dataset = load_dataset(spec, dtype=dtype)
        shape = tuple(int(s) for s in dataset.x.shape[1:])
    num_classes = len(dataset.classes)
    if model_name is None:
        model_name = default_model_for(shape, num_classes)
        if model_name is None:
            raise CLIError(
                f"no default model for data {dataset.name!r} ({'x'.join(map(str, shape))} images, "
                f"{num_classes} classes); choose one with --model"
            )
        usual = _zoo_input(model_name)
    model = _build(model_name, shape, num_classes, dataset.name, dtype, seed)
    if settings.get("init") == "notebook":
        _notebook_init(model, model_name)
    outputs = tuple(model.output_shape)[-1]
    usual_classes = {"cat_dnn": 2, "signs_convnet": 6}.get(model_name, 10)
    if shape != usual or (outputs if outputs > 1 else 2) != usual_classes:
        print(f"note:  {model_name} built for {'x'.join(map(str, shape))} inputs and {num_classes} classes "
              f"(usually {'x'.join(map(str, usual))}, {usual_classes})")
    x = None if folder else adapt_images(dataset.x, model, f"data {dataset.name!r}")
    return dataset, model, model_name, x


def _resolve(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any] | None, Path, tuple]:
    """Settings (fresh, or those of the run to resume), the saved run, the output folder, prepared data."""
    explicit = {key: getattr(args, key) for key in _RUN_KEYS}
    out = Path(args.out) if args.out else None
    saved = None
    if args.resume and out is not None:
        saved = _read_run(out)
        settings = _merge(explicit, saved, out)
    else:
        settings = {key: _FRESH_DEFAULTS[key] if value is None else value for key, value in explicit.items()}
    prepared = _prepare(settings)
    dataset, _, model_name, _ = prepared
    if out is None:
        out = Path("runs") / f"{model_name}-{dataset.name}"
        if args.resume:
            saved = _read_run(out)
            resumed = _merge(explicit | {"model": explicit["model"] or model_name}, saved, out)
            if resumed != settings | {"model": model_name}:
                settings = resumed
                prepared = _prepare(settings)
    settings["model"] = prepared[2]
    return settings, saved, out, prepared


def _load_test_set(spec: str, dataset: Any, model: Any) -> tuple[np.ndarray, np.ndarray]:
    """The separate test set, loaded like the training data; its classes must be the same."""
    from ..data import load_dataset

    h, w, c = dataset.x.shape[1:]
    test = load_dataset(spec, dtype=str(dataset.x.dtype), image_size=(h, w), channels=c if c in (1, 3) else 3)
    if list(test.classes) != list(dataset.classes):
        raise CLIError(f"--test-data {spec} has classes {test.classes}, but --data has {dataset.classes}")
    return adapt_images(test.x, model, f"test data {test.name!r}"), test.y


def _split(x: np.ndarray, y: np.ndarray, seed: int, val_split: float, test: tuple | None = None) -> tuple:
    from ..data import train_val_split

    if test is None:
        (x_rest, y_rest), test = train_val_split(x, y, TEST_FRACTION, seed=seed, stratify=True)
    else:
        x_rest, y_rest = x, y
    if val_split == 0:
        return (x_rest, y_rest), None, test
    train, validation = train_val_split(x_rest, y_rest, val_split, seed=seed + 1, stratify=True)
    return train, validation, test


_EXTRA_KEYS = {"early_stopping": None, "monitor": None, "restore_best": False, "lr_schedule": None}


def _training_options(args: argparse.Namespace, saved: dict[str, Any] | None) -> dict[str, Any]:
    """--early-stopping, --monitor, --restore-best and --lr-schedule: given, else the resumed run's."""
    options = {}
    for key, default in _EXTRA_KEYS.items():
        given = getattr(args, key)
        if given is not None and given is not False:
            options[key] = given
        elif saved is not None and saved.get(key) is not None:
            options[key] = saved[key]
        else:
            options[key] = default
    return options


def _restored_best(out: Path, best_epoch: int | None) -> Any:
    """The model of the best epoch, from best.npz (this session) or model.npz (a finished earlier run)."""
    for name in (BEST_FILE, MODEL_FILE):
        path = out / name
        if best_epoch is not None and path.is_file():
            candidate = load_model_file(path)
            if int(candidate.epoch) == best_epoch:
                return candidate
    return None


def _warn_batch_norm(model: Any, x: np.ndarray, steps: int) -> None:
    from ..train.diagnostics import batch_norm_warnings

    for message in batch_norm_warnings(model, x, total_steps=steps):
        print(f"warning: {message}", file=sys.stderr)


def _communicator(args: argparse.Namespace) -> Any:
    """The MPI communicator for ``--distributed`` (or a launch by mpiexec with > 1 rank), else None."""
    from ..distributed import DistributedError, get_communicator, launched_by_mpi

    if not (getattr(args, "distributed", False) or launched_by_mpi() > 1):
        return None
    try:
        return get_communicator(True)
    except DistributedError as exc:
        raise CLIError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    comm = _communicator(args)
    if comm is not None and not comm.is_root:  # only rank 0 prints and writes files
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            return _run(args, comm)
    return _run(args, comm)


def _run(args: argparse.Namespace, comm: Any) -> int:
    writer = comm is None or comm.is_root
    settings, saved, out, (dataset, model, model_name, x) = _resolve(args)
    dtype, seed, val_split = settings["dtype"], int(settings["seed"]), float(settings["val_split"])
    defaults = MODEL_DEFAULTS.get(model_name, _FALLBACK)
    if saved is not None:
        _check_resume_options(args, saved, out)
        epochs = args.epochs or int(saved["epochs"])
        batch_size, lr, optimizer = int(saved["batch_size"]), float(saved["lr"]), str(saved["optimizer"])
    else:
        epochs = args.epochs or defaults.epochs
        batch_size = args.batch_size or defaults.batch_size
        lr = args.lr or defaults.learning_rate
        optimizer = args.optimizer or "adam"
    options = _training_options(args, saved)
    monitor = options["monitor"] or "val_loss"
    schedule = parse_lr_schedule(options["lr_schedule"], lr, epochs)
    if val_split == 0 and (options["early_stopping"] is not None or options["restore_best"]):
        raise CLIError("--early-stopping and --restore-best watch the validation data: use --val-split > 0")
    folder = x is None
    separate_test = None
    if folder:
        train_data, validation, test_data = _folder_parts(settings, dataset, model)
        n_train, n_test = len(train_data), len(test_data)
        n_val = 0 if validation is None else len(validation)
        separate_test = settings["test_data"]
    else:
        if settings["test_data"] is not None:
            separate_test = _load_test_set(settings["test_data"], dataset, model)
        (x_train, y_train), validation, (x_test, y_test) = _split(x, dataset.y, seed, val_split,
                                                                  separate_test)
        train_data, test_data = (x_train, y_train), (x_test, y_test)
        n_train, n_test = len(y_train), len(y_test)
        n_val = 0 if validation is None else len(validation[1])

    initial_epoch = 0
    finishing = False  # an interrupted run that trained all its epochs but did not write its results
    if saved is not None:
        resume_from = _resume_file(out)
        model = load_model_file(resume_from)
        initial_epoch = int(model.epoch)
        if initial_epoch >= epochs:
            if _finished(saved, out):
                raise CLIError(f"--resume: the run in {out} already completed {initial_epoch} of {epochs} "
                               "epochs; raise --epochs to train longer")
            if initial_epoch > epochs:
                raise CLIError(f"--resume: {resume_from} already holds {initial_epoch} epochs, more than "
                               f"--epochs {epochs}")
            finishing = True
    else:
        from ..optim import get_optimizer

        model.compile(optimizer=get_optimizer(optimizer, learning_rate=lr),
                      loss="binary_crossentropy" if is_binary(model) else "sparse_categorical_crossentropy",
                      metrics=("accuracy",))
    model.class_names = list(dataset.classes)
    if comm is not None:
        from ..distributed import DistributedTrainer

        model.trainer = DistributedTrainer(model, comm)
    out.mkdir(parents=True, exist_ok=True)
    test_fraction = 0.0 if separate_test is not None else TEST_FRACTION
    image_shape = dataset.image_shape if folder else dataset.x.shape[1:]
    record = settings | options | {
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
        "test_fraction": test_fraction, "data_path": resolve_data_spec(settings["data"]),
        "test_data_path": resolve_data_spec(settings["test_data"]), "classes": list(dataset.classes),
        "input_shape": list(image_shape), "classes_selected": settings["classes"], "completed": False}
    if writer:
        _save_json(record, out / RUN_FILE)

    shape = "x".join(map(str, image_shape))
    n_params = sum(int(p.value.size) for p in model.parameters())
    if folder:
        print(dataset.dataset.summary())
    print(f"data:  {dataset.name} ({len(dataset.y)} images {shape}, {len(dataset.classes)} classes)")
    print(f"model: {model_name} ({n_params:,} parameters, {dtype}); {optimizer} lr {lr:g}"
          f"{'' if schedule is None else ' (' + str(options['lr_schedule']) + ' schedule)'}, "
          f"batch size {batch_size}, {epochs} epochs")
    test_from = f"from {settings['test_data']}" if separate_test is not None else f"(seed {seed})"
    print(f"split: {n_train} train / {n_val} validation / {n_test} test {test_from}")
    if settings["augment"]:
        print(f"augment: {', '.join(settings['augment'])} (training batches only, seed {seed})")
    if options["early_stopping"] is not None or options["restore_best"]:
        parts = []
        if options["early_stopping"] is not None:
            parts.append(f"early stopping after {options['early_stopping']} epoch(s) without improvement")
        if options["restore_best"]:
            parts.append(f"the best epoch is saved as {MODEL_FILE}")
        print(f"watch: {monitor}: " + "; ".join(parts))
    if finishing:
        print(f"finishing the run: {resume_from} holds all {initial_epoch} epochs; evaluating and saving")
    elif saved is not None:
        print(f"resuming from {resume_from} after epoch {initial_epoch}")
    if comm is not None:
        print(f"distributed: {comm.description}; global batch {batch_size} split over the ranks")
    sys.stdout.flush()

    from ..train.callbacks import EarlyStopping, LearningRateScheduler, ProgressBar

    steps_per_epoch = -(-n_train // batch_size)
    callbacks = _callbacks(out) if writer else []
    keep_best = None
    if options["restore_best"] and writer:
        if saved is None:  # a resumed run keeps the best epoch its earlier sessions saved
            (out / BEST_FILE).unlink(missing_ok=True)
        keep_best = _keep_best(out / BEST_FILE, monitor)
        callbacks.append(keep_best)
    if options["early_stopping"] is not None:
        callbacks.append(EarlyStopping(monitor=monitor, patience=int(options["early_stopping"])))
    if schedule is not None:
        callbacks.insert(0, LearningRateScheduler(schedule))
    if writer:
        show_batches = False if args.quiet else None
        callbacks.append(ProgressBar(steps_per_epoch, epochs=epochs, show_batches=show_batches))
    start = time.perf_counter()
    if not finishing:
        try:
            # A diverging run is reported once, by fit's NaN/inf guard (TrainingError -> one line, exit 1);
            # NumPy's overflow warnings on the way there would only clutter the terminal.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if folder:  # streamed: each epoch's batches are decoded (and augmented) as they are needed
                    model.fit(train_data, epochs=epochs, batch_size=batch_size, validation_data=validation,
                              shuffle=True, seed=seed, callbacks=callbacks, verbose=0,
                              initial_epoch=initial_epoch)
                else:
                    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                              validation_data=validation, shuffle=True, seed=seed, callbacks=callbacks,
                              verbose=0, initial_epoch=initial_epoch)
        except KeyboardInterrupt:
            if not (out / CHECKPOINT).is_file():
                print(f"\ninterrupted before the first checkpoint: nothing saved in {out}")
                return 130
            checkpoint = load_model_file(out / CHECKPOINT)
            _save_json(_history(checkpoint), out / "history.json")
            print(f"\ninterrupted during epoch {model.epoch + 1}: {out / CHECKPOINT} holds the first "
                  f"{int(checkpoint.epoch)} epoch(s)")
            print(f"continue with: deepstep train --out {out} --resume")
            return 130
        elapsed = time.perf_counter() - start
        trained = int(model.epoch) - initial_epoch
        stopped = " (early stopping)" if int(model.epoch) < epochs else ""
        print(f"trained {trained} epoch(s) in {elapsed:.1f} s{stopped}")
    try:
        return _finish(model, out, record, dataset, model_name, monitor, keep_best, steps_per_epoch,
                       train_data, test_data, folder, n_test, writer)
    except KeyboardInterrupt:
        print(f"\ninterrupted after the last epoch, before the results were written: {out / CHECKPOINT} "
              f"holds all {int(model.epoch)} epoch(s)")
        print(f"finish with: deepstep train --out {out} --resume")
        return 130


def _finish(model: Any, out: Path, record: dict[str, Any], dataset: Any, model_name: str, monitor: str,
            keep_best: Any, steps_per_epoch: int, train_data: Any, test_data: Any, folder: bool, n_test: int,
            writer: bool) -> int:
    """After the last epoch: the test evaluation, model.npz, history.json, the learning curves, and the
    run marked completed in run.json. The checkpoint is written first and removed last, so Ctrl-C at
    any moment in here leaves a run that ``--resume`` finishes. Only the ``writer`` (rank 0 of a
    distributed run) writes; every rank evaluates. ``train_data`` / ``test_data``: ``(x, y)`` arrays, or
    the streamed datasets of an image folder (``folder``)."""
    if writer:
        model.save(out / CHECKPOINT)  # the last epoch: --resume continues from (or finishes with) it
        _warn_batch_norm(model, _first_batch(train_data) if folder else train_data[0],
                         int(model.epoch) * steps_per_epoch)

    history = _history(model)
    last = model
    if keep_best is not None:
        best_value, best_epoch = _best_so_far(history, monitor)
        best = _restored_best(out, best_epoch)
        if best is not None:
            model = best
            print(f"restored the best epoch {best_epoch} ({monitor} {best_value:.4f}); "
                  f"the last epoch {int(last.epoch)} stays in {out / CHECKPOINT}")
        else:
            print(f"no saved best epoch to restore: keeping the last epoch {int(last.epoch)}")
    ensure_compiled(model)
    test = model.evaluate(test_data) if folder else model.evaluate(*test_data)
    correct = int(round(test["accuracy"] * n_test))
    print(f"test accuracy: {test['accuracy']:.4f} ({correct}/{n_test}), test loss {test['loss']:.4f}"
          f"{' (best epoch)' if model is not last else ''}")
    if not writer:
        return 0
    report, cm, per_class = _per_class(model, test_data, list(dataset.classes), folder)
    print("per class (test):")
    print(report)

    from ..viz import plot_history

    model_path = out / MODEL_FILE
    model.class_names = list(dataset.classes)
    model.save(model_path)
    _save_json(history | {"test_loss": test["loss"], "test_accuracy": test["accuracy"],
                          "model_epoch": int(model.epoch), "confusion_matrix": cm.tolist(),
                          "per_class": per_class}, out / "history.json")
    curves = plot_history(history, out / "learning_curves.png",
                          title=f"{model_name} on {dataset.name}: test accuracy {test['accuracy']:.3f}")
    from ..viz import plot_confusion_matrix

    cm_path = plot_confusion_matrix(cm, list(dataset.classes), out / "confusion_matrix.png",
                                    title=f"{model_name} on {dataset.name} (test)")
    _save_json(record | {"completed": True}, out / RUN_FILE)
    (out / BEST_FILE).unlink(missing_ok=True)
    if keep_best is None:
        (out / CHECKPOINT).unlink(missing_ok=True)
    print(f"model:           {model_path}")
    print(f"history:         {out / 'history.json'}")
    print(f"learning curves: {curves}")
    print(f"confusion:       {cm_path}")
    return 0


def _folder_parts(settings: dict[str, Any], data: FolderData, model: Any) -> tuple[Any, Any, Any]:
    """The image folder's training (augmented), validation and test subsets, in the model's layout.

    The test part is a stratified ``TEST_FRACTION`` of the folder (seed ``--seed``), or the whole
    ``--test-data`` folder (the same classes); the validation part ``--val-split`` of the rest.
    """
    seed, val_split = int(settings["seed"]), float(settings["val_split"])
    h, w, _ = data.image_shape
    separate = settings["test_data"]
    split = folder_split(data.dataset.root, (h, w), settings["classes"], settings["color_mode"] or "rgb",
                         seed, val_split, settings["dtype"], settings["augment"] or [],
                         test_fraction=0.0 if separate else TEST_FRACTION)
    test = split.test
    if separate:
        if not _is_folder(str(separate)):
            raise CLIError(f"--test-data {separate}: expected an image folder like --data")
        test = _open_folder(str(separate), (h, w), settings).dataset
        if list(test.classes) != list(data.classes):
            raise CLIError(f"--test-data {separate} has classes {test.classes}, but --data has "
                           f"{data.classes}")
    return (for_model(split.train, model, "the training images"),
            for_model(split.validation, model, "the validation images"),
            for_model(test, model, "the test images"))


def _first_batch(data: Any, size: int = 512) -> np.ndarray:
    """Up to ``size`` training images, not augmented, in the model's layout (for diagnostics)."""
    batches = data.batches(size, shuffle=False, training=False)
    return next(iter(batches))[0]


def _per_class(model: Any, test: Any, classes: list[str], folder: bool) -> tuple[str, np.ndarray, dict]:
    """The per-class table (precision, recall, F1, support), the confusion matrix and the numbers."""
    from ..train.metrics import classification_report, confusion_matrix, precision_recall

    truth = test.labels if folder else test[1]
    pred = np.asarray(model.predict(test if folder else test[0]))
    k = len(classes)
    if is_binary(model):
        k = max(k, 2)
    cm = confusion_matrix(truth, pred, num_classes=k)
    precision, recall = precision_recall(truth, pred, num_classes=k)
    names = classes if len(classes) == k else [str(i) for i in range(k)]
    per_class = {"precision": {n: float(p) for n, p in zip(names, precision, strict=True)},
                 "recall": {n: float(r) for n, r in zip(names, recall, strict=True)}}
    return classification_report(truth, pred, num_classes=k, class_names=names), cm, per_class
