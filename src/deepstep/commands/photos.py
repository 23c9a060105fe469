"""``deepstep train`` on a folder of photos: class selection, augmentation, the dataset summary,
streamed training through :class:`deepstep.data.ImageFolderDataset` and per-class results.

The folder is listed, not decoded: batches are decoded (and resized) as training needs them, on a
few threads, and kept in a memory-budgeted cache. The split is the one the command uses for arrays
(a stratified, seeded ``TEST_FRACTION`` test part, then ``--val-split`` of the rest with seed + 1),
computed on the labels only, so it selects the same images as ``load_dataset`` + ``train_val_split``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import TEST_FRACTION, CLIError, held_out_indices

__all__ = ["AUGMENTATIONS", "AUGMENT_PRESETS", "parse_classes", "parse_augment", "augment_transform",
           "FolderSplit", "folder_split", "per_class_report", "ModelInputs",
           "for_model"]

#: --augment names -> the transform (deepstep.data.augment) and its strength, chosen for hand photos:
#: horizontal flips (a left hand signs the same digit), shifts and zooms of 10%, rotations of up to
#: 0.04 x 360 = 14 degrees, brightness and contrast changes of 20%
AUGMENTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "flip": ("RandomFlip", {"mode": "horizontal"}),
    "translate": ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
    "rotate": ("RandomRotation", {"factor": 0.04}),
    "zoom": ("RandomZoom", {"height_factor": 0.1}),
    "brightness": ("RandomBrightness", {"factor": 0.2}),
    "contrast": ("RandomContrast", {"factor": 0.2}),
}
AUGMENT_PRESETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "light": ("flip", "translate"),
    "standard": ("flip", "translate", "rotate", "zoom"),
    "strong": tuple(AUGMENTATIONS),
}


def parse_classes(text: str) -> list[str]:
    """``--classes 0,1,2`` (class sub-folder names, in label order): a list without repeats."""
    names = [part.strip() for part in str(text).split(",")]
    if not names or any(not n for n in names):
        raise argparse.ArgumentTypeError(f"expected class folder names separated by commas, got {text!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"class {repeated[0]!r} is named twice in {text!r}")
    return names


def parse_augment(text: str) -> list[str]:
    """``--augment flip,translate,...`` or a preset (light, standard, strong, none): the names, in order."""
    parts = [part.strip() for part in str(text).split(",")]
    names: list[str] = []
    for part in parts:
        if part in AUGMENT_PRESETS:
            names += [n for n in AUGMENT_PRESETS[part] if n not in names]
        elif part in AUGMENTATIONS:
            if part not in names:
                names.append(part)
        else:
            raise argparse.ArgumentTypeError(
                f"unknown augmentation {part!r}; choose from {', '.join(AUGMENTATIONS)} or a preset "
                f"({', '.join(AUGMENT_PRESETS)})")
    return names


def augment_transform(names: list[str]) -> Any:
    """A :class:`deepstep.data.augment.Compose` of the named transforms, or None for none."""
    if not names:
        return None
    from ..data import augment

    return augment.Compose([getattr(augment, AUGMENTATIONS[n][0])(**AUGMENTATIONS[n][1]) for n in names])


class FolderSplit:
    """The image folder (``dataset``) and its ``train`` / ``validation`` (or None) / ``test`` subsets."""

    def __init__(self, dataset: Any, train: Any, validation: Any, test: Any) -> None:
        self.dataset, self.train, self.validation, self.test = dataset, train, validation, test


def folder_split(root: str | Path, image_size: tuple[int, int], classes: list[str] | None, color_mode: str,
                 seed: int, val_split: float, dtype: str, augment: list[str],
                 test_fraction: float = TEST_FRACTION) -> FolderSplit:
    """List the folder and split it as the command splits arrays; only training batches are augmented."""
    from ..data import DataFormatError, ImageFolderDataset, train_val_split

    try:
        dataset = ImageFolderDataset(root, image_size=image_size, color_mode=color_mode, classes=classes,
                                     dtype=dtype)
    except (DataFormatError, FileNotFoundError, TypeError, ValueError) as exc:
        raise CLIError(str(exc)) from exc
    labels = dataset.labels
    if test_fraction:
        rest, test = held_out_indices(labels, seed, test_fraction)
    else:
        rest, test = np.arange(len(labels)), None
    validation = None
    train = rest
    if val_split:
        (train, _), (validation, _) = train_val_split(rest, labels[rest], val_split, seed=seed + 1,
                                                      stratify=True)
    train_ds = dataset.subset(train).with_transform(augment_transform(augment))
    return FolderSplit(dataset, train_ds, None if validation is None else dataset.subset(validation),
                       None if test is None else dataset.subset(test))


def per_class_report(model: Any, test: Any, classes: list[str],
                     batch_size: int = 256) -> tuple[str, np.ndarray]:
    """The test subset's per-class precision / recall / F1 table and its confusion matrix."""
    from ..train.metrics import classification_report, confusion_matrix

    pred = np.asarray(model.predict(test, batch_size=batch_size))
    truth = test.labels
    k = len(classes)
    return (classification_report(truth, pred, num_classes=k, class_names=classes),
            confusion_matrix(truth, pred, num_classes=k))


class ModelInputs:
    """A dataset whose image batches are put in the layout a model takes (flattened, channels-first).

    Follows the dataset protocol (``len``, ``labels``, ``num_batches``, ``batches``), so ``fit``,
    ``evaluate`` and ``predict`` stream it like the dataset itself.
    """

    def __init__(self, dataset: Any, model: Any, source: str) -> None:
        self.dataset, self.model, self.source = dataset, model, source

    def __len__(self) -> int:
        return len(self.dataset)

    @property
    def labels(self) -> np.ndarray:
        return self.dataset.labels

    def num_batches(self, batch_size: int) -> int:
        return self.dataset.num_batches(batch_size)

    def batches(self, batch_size: int, **kwargs: Any) -> Any:
        from .common import adapt_images

        for x, y in self.dataset.batches(batch_size, **kwargs):
            yield adapt_images(x, self.model, self.source), y


def for_model(dataset: Any, model: Any, source: str) -> Any:
    """``dataset`` itself when the model takes its images as they are, else :class:`ModelInputs`."""
    from .common import image_geometry, model_input_shape

    if dataset is None:
        return None
    shape = model_input_shape(model)
    if shape == tuple(dataset.image_shape) and len(shape) == 3 and image_geometry(model) == shape:
        return dataset
    return ModelInputs(dataset, model, source)
