"""Datasets: the course's HDF5 files, MNIST IDX files, image folders and scikit-learn's digits.

:class:`ImageFolderDataset` and :class:`ArrayDataset` stream ``(x, y)`` batches (lazy decoding,
stratified splits, augmentation from :mod:`deepstep.data.augment` on training batches).

Loaders return uint8 images (``(m, H, W, C)``, channels last), int64 labels and class names;
:func:`load_dataset` gives scaled float arrays in one call. h5py, Pillow and scikit-learn are
optional (``pip install 'deepstep[data]'``) and imported only when needed. Malformed files
raise :class:`DataFormatError` (a ``ValueError``) naming the file and the problem.
"""

from __future__ import annotations

from . import augment
from .dataset import ArrayDataset, BatchDataset, BatchLoader, DatasetSummary, ImageFolderDataset, Split
from .datasets import Dataset, find_mnist_pair, load_dataset
from .digits import load_digits
from .errors import DataFormatError
from .h5 import load_h5
from .idx import load_idx, read_idx
from .images import load_image, load_image_folder
from .transforms import iterate_batches, normalize, one_hot, train_val_split

__all__ = [
    "ArrayDataset",
    "BatchDataset",
    "BatchLoader",
    "DataFormatError",
    "DatasetSummary",
    "ImageFolderDataset",
    "Split",
    "augment",
    "Dataset",
    "find_mnist_pair",
    "iterate_batches",
    "load_dataset",
    "load_digits",
    "load_h5",
    "load_idx",
    "load_image",
    "load_image_folder",
    "normalize",
    "one_hot",
    "read_idx",
    "train_val_split",
]
