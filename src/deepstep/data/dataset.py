"""Dataset objects that stream batches: image folders decoded lazily, and in-memory arrays.

A dataset is a list of samples with integer labels. It splits itself (stratified, seeded) into
train/validation/test subsets and yields ``(x, y)`` batches: ``x`` float ``(B, H, W, C)`` in
[0, 1] (channels last), ``y`` int64 ``(B,)``. An :class:`ImageFolderDataset` lists the files of a
folder with one sub-folder per class and decodes + resizes only the images a batch needs, on a small
pool of threads (Pillow releases the GIL while decoding), keeping decoded images in a cache up to a
memory budget; the next batch is decoded while the current one is in use.

The protocol a training loop needs (both classes, and their subsets)::

    len(ds)                               # number of samples
    ds.classes, ds.image_shape            # class names, (H, W, C)
    ds.num_batches(batch_size)            # ceil(len(ds) / batch_size)
    ds.batches(batch_size, shuffle=True, seed=0, epoch=e, training=True)  # iterator of (x, y)

``training=True`` applies the dataset's ``transform`` (augmentation); ``shuffle`` draws the
order from ``numpy.random.default_rng([seed, epoch])``, so epoch ``e`` always sees the same
batches. :meth:`BatchDataset.loader` wraps this as a PyTorch-style iterable with a length.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_array, check_class_indices, check_float_dtype, check_int, check_real
from ._optional import require
from .errors import DataFormatError
from .images import IMAGE_EXTENSIONS, as_image_size, load_image

__all__ = [
    "BatchDataset", "ImageFolderDataset", "ArrayDataset", "BatchLoader", "Split", "DatasetSummary",
    "COLOR_MODES", "DEFAULT_CACHE_BYTES",
]

COLOR_MODES = {"rgb": 3, "grayscale": 1}
# Decoded images are kept up to this many bytes: sign-digits at 64x64 RGB is 2,062 x 12 KiB = 25 MiB.
DEFAULT_CACHE_BYTES = 512 * 2**20
Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class Split(NamedTuple):
    """What :meth:`BatchDataset.split` returns; ``test`` is None when no test fraction was asked for."""

    train: BatchDataset
    validation: BatchDataset | None
    test: BatchDataset | None


def _check_transform(transform: Any) -> Transform | None:
    if transform is not None and not callable(transform):
        raise TypeError("transform must be callable as transform(x, rng) or None, "
                        f"got {type(transform).__name__}")
    return transform


class BatchDataset:
    """Base class: labelled samples that split themselves and stream ``(x, y)`` batches.

    Subclasses provide ``labels`` (int64, one per sample), ``classes``, ``image_shape``,
    ``_load(indices) -> x`` (float batch of the samples at those positions) and
    ``_subset(indices)`` (a dataset of those samples sharing this one's storage).

    Parameters
    ----------
    transform : callable, optional
        ``transform(x, rng) -> x`` applied to training batches only (see :mod:`.augment`).
    dtype : {"float32", "float64"}
    """

    labels: np.ndarray
    classes: list[str]

    def __init__(self, transform: Transform | None = None, dtype: Any = "float32") -> None:
        self.transform = _check_transform(transform)
        self.dtype = check_float_dtype(dtype)

    # ---------------------------------------------------------------- to be provided by subclasses
    @property
    def image_shape(self) -> tuple[int, int, int]:
        raise NotImplementedError

    def _load(self, indices: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _subset(self, indices: np.ndarray) -> BatchDataset:
        raise NotImplementedError

    # ---------------------------------------------------------------- shared behaviour
    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        """Samples per class name, in class order."""
        counts = np.bincount(self.labels, minlength=self.num_classes)
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}

    def with_transform(self, transform: Transform | None) -> BatchDataset:
        """The same samples with another training ``transform`` (storage and cache are shared)."""
        subset = self._subset(np.arange(len(self)))
        subset.transform = _check_transform(transform)
        return subset

    def subset(self, indices: Any) -> BatchDataset:
        """The samples at ``indices`` (positions in this dataset), sharing storage and cache."""
        idx = check_array(indices, "indices", ndim=1)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"indices must lie in 0..{len(self) - 1}, "
                             f"got {int(idx.min())}..{int(idx.max())}")
        return self._subset(idx)

    def split(self, validation_split: float = 0.2, test_split: float = 0.0, seed: int = 0,
              stratify: bool = True) -> Split:
        """Deterministic train/validation/test subsets.

        With ``stratify`` every class is split on its own: its samples are permuted with
        ``numpy.random.default_rng([seed, class])`` and ``round(test_split * n_class)`` go to test,
        ``round(validation_split * n_class)`` to validation, the rest to train, so each subset has
        the class proportions of the whole. Without it, one permutation of all samples is cut.
        Each subset keeps the original order of its samples (shuffling happens per epoch).

        Parameters
        ----------
        validation_split, test_split : float
            Fractions in [0, 1) with a sum < 1.
        seed : int
        stratify : bool

        Returns
        -------
        Split
            ``(train, validation, test)``; ``validation`` is None when ``validation_split`` is 0,
            ``test`` when ``test_split`` is 0.
        """
        val = check_real(validation_split, "validation_split", 0.0, 1.0, inclusive_max=False)
        test = check_real(test_split, "test_split", 0.0, 1.0, inclusive_max=False)
        if val + test >= 1.0:
            raise ValueError(f"validation_split + test_split must be < 1, got {val} + {test}")
        seed = check_int(seed, "seed", minimum=0)
        groups = ([np.flatnonzero(self.labels == k) for k in range(self.num_classes)] if stratify
                  else [np.arange(len(self))])
        parts: list[list[np.ndarray]] = [[], [], []]
        for k, members in enumerate(groups):
            order = members[np.random.default_rng([seed, k]).permutation(members.shape[0])]
            n_test = int(round(test * order.shape[0]))
            n_val = int(round(val * order.shape[0]))
            parts[2].append(order[:n_test])
            parts[1].append(order[n_test:n_test + n_val])
            parts[0].append(order[n_test + n_val:])
        train, validation, testing = (np.sort(np.concatenate(p)) for p in parts)
        if train.size == 0:
            raise ValueError(f"the split leaves no training sample ({len(self)} samples, "
                             f"validation_split={val}, test_split={test})")
        return Split(self._subset(train),
                     self._subset(validation) if val > 0 else None,
                     self._subset(testing) if test > 0 else None)

    def num_batches(self, batch_size: int, drop_last: bool = False) -> int:
        """Batches per epoch: ``ceil(len / batch_size)``, or ``floor`` with ``drop_last``."""
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        return len(self) // batch_size if drop_last else -(-len(self) // batch_size)

    def batch_order(self, batch_size: int, shuffle: bool = False, seed: int = 0, epoch: int = 0,
                    drop_last: bool = False) -> list[np.ndarray]:
        """The sample positions of each batch of epoch ``epoch`` (shuffled from ``[seed, epoch]``)."""
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        order = (np.random.default_rng([check_int(seed, "seed", 0), check_int(epoch, "epoch", 0)])
                 .permutation(len(self)) if shuffle else np.arange(len(self)))
        stop = self.num_batches(batch_size, drop_last) * batch_size
        return [order[i:i + batch_size] for i in range(0, min(stop, len(self)), batch_size)]

    def load_batch(self, indices: Any) -> tuple[np.ndarray, np.ndarray]:
        """The untransformed batch ``(x, y)`` of the samples at ``indices``."""
        idx = np.asarray(indices, dtype=np.int64)
        return self._load(idx), self.labels[idx]

    def batches(self, batch_size: int = 32, shuffle: bool = False, seed: int = 0, epoch: int = 0,
                training: bool = False, drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterate over the ``(x, y)`` batches of one epoch.

        Parameters
        ----------
        batch_size : int
        shuffle : bool
            Permute the samples with ``numpy.random.default_rng([seed, epoch])``.
        seed, epoch : int
        training : bool
            Apply ``transform`` (augmentation), with the generator
            ``numpy.random.default_rng([seed, epoch, batch_index, 1])`` per batch, so that the
            augmented batches are reproducible and independent of the number of threads.
        drop_last : bool
            Skip a last batch smaller than ``batch_size``.
        """
        order = self.batch_order(batch_size, shuffle, seed, epoch, drop_last)
        return self._iterate(order, training, seed, epoch)

    def _iterate(self, order: list[np.ndarray], training: bool, seed: int,
                 epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i, idx in enumerate(order):
            x, y = self.load_batch(idx)
            if training and self.transform is not None:
                x = self.transform(x, np.random.default_rng([seed, epoch, i, 1]))
            yield x, y

    def loader(self, batch_size: int = 32, shuffle: bool = False, seed: int = 0, training: bool | None = None,
               drop_last: bool = False) -> BatchLoader:
        """A PyTorch-style iterable of batches with a length; every ``iter()`` is the next epoch.

        ``training`` defaults to ``shuffle`` (a shuffled loader is a training loader).
        """
        training = shuffle if training is None else training
        return BatchLoader(self, batch_size, shuffle, seed, training, drop_last)

    def to_arrays(self, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Every sample, untransformed, as one ``(x, y)`` pair (in memory)."""
        parts = [x for x, _ in self.batches(batch_size)]
        x = np.concatenate(parts) if parts else np.zeros((0, *self.image_shape), self.dtype)
        return x, self.labels.copy()


class BatchLoader:
    """Iterate over a dataset's batches epoch after epoch (``len()`` = batches per epoch).

    Each ``iter()`` starts the next epoch (its shuffling and augmentation drawn from
    ``[seed, epoch]``); :meth:`set_epoch` jumps to an epoch, e.g. when resuming training.
    """

    def __init__(self, dataset: BatchDataset, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
                 training: bool = False, drop_last: bool = False) -> None:
        if not isinstance(dataset, BatchDataset):
            raise TypeError(f"dataset must be a BatchDataset, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.shuffle, self.training, self.drop_last = bool(shuffle), bool(training), bool(drop_last)
        self.seed = check_int(seed, "seed", minimum=0)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = check_int(epoch, "epoch", minimum=0)

    def __len__(self) -> int:
        return self.dataset.num_batches(self.batch_size, self.drop_last)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self.dataset.batches(self.batch_size, self.shuffle, self.seed, epoch, self.training,
                                    self.drop_last)


# ==================================================================== arrays
class ArrayDataset(BatchDataset):
    """In-memory images ``x`` (N, H, W, C) and labels ``y`` (N,) behind the dataset protocol.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        uint8 pixels (divided by 255) or floats (used as they are).
    y : array_like of int, shape (N,)
        Class indices.
    classes : sequence of str, optional
        Class names; defaults to ``"0"``, ``"1"``, ...
    transform, dtype
        As in :class:`BatchDataset`.
    """

    def __init__(self, x: Any, y: Any, classes: Sequence[str] | None = None,
                 transform: Transform | None = None, dtype: Any = "float32") -> None:
        super().__init__(transform, dtype)
        self.x = check_array(x, "x", ndim=4, shape_names="(N, H, W, C)")
        self.labels = check_class_indices(y, "y")
        if self.labels.shape[0] != self.x.shape[0]:
            raise ValueError(f"x and y must hold the same number of samples, got {self.x.shape[0]} "
                             f"and {self.labels.shape[0]}")
        k = int(self.labels.max()) + 1 if self.labels.size else 0
        if classes is None:
            self.classes = [str(i) for i in range(k)]
        else:
            self.classes = [str(c) for c in classes]
            if len(self.classes) < k:
                raise ValueError(f"classes names {len(self.classes)} classes but y holds class index {k - 1}")
        self._scale = 255.0 if self.x.dtype == np.uint8 else 1.0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.x.shape[1:])  # type: ignore[return-value]

    def _load(self, indices: np.ndarray) -> np.ndarray:
        out = self.x[indices].astype(self.dtype)
        if self._scale != 1.0:
            out /= out.dtype.type(self._scale)
        return out

    def _subset(self, indices: np.ndarray) -> ArrayDataset:
        sub = ArrayDataset.__new__(ArrayDataset)
        BatchDataset.__init__(sub, self.transform, self.dtype)
        sub.x, sub.labels = self.x[indices], self.labels[indices]
        sub.classes, sub._scale = self.classes, self._scale
        return sub

    def summary(self) -> DatasetSummary:
        """Classes and counts (every image has the same size)."""
        h, w, c = self.image_shape
        mode = {3: "rgb", 1: "grayscale"}.get(c, f"{c} channels")
        return DatasetSummary("arrays", self.class_counts(), (h, w), mode, Counter({(w, h): len(self)}), [])


# ==================================================================== image folders
@dataclass
class _DecodeState:
    """What a folder dataset and its subsets share: the files, the worker pool and the decoded cache."""

    files: list[Path]
    image_size: tuple[int, int]
    channels: int
    num_workers: int
    cache_bytes: int
    cache: dict[int, np.ndarray] = field(default_factory=dict)
    cached_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor | None = None

    def decode(self, index: int) -> np.ndarray:
        image = load_image(self.files[index], self.image_size, self.channels)
        with self.lock:
            if index not in self.cache and self.cached_bytes + image.nbytes <= self.cache_bytes:
                self.cache[index] = image
                self.cached_bytes += image.nbytes
        return image

    def submit(self, indices: np.ndarray) -> list[np.ndarray | Future]:
        """Cached images as they are, the rest as decoding futures (or decoded now without workers)."""
        pending: list[np.ndarray | Future] = []
        for i in indices.tolist():
            image = self.cache.get(i)
            if image is not None:
                pending.append(image)
            elif self.num_workers == 0:
                pending.append(self.decode(i))
            else:
                if self.pool is None:
                    with self.lock:
                        if self.pool is None:
                            self.pool = ThreadPoolExecutor(self.num_workers,
                                                           thread_name_prefix="deepstep-decode")
                pending.append(self.pool.submit(self.decode, i))
        return pending

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _collect(pending: list[np.ndarray | Future], shape: tuple[int, int, int], dtype: np.dtype) -> np.ndarray:
    out = np.empty((len(pending), *shape), dtype=dtype)
    for k, item in enumerate(pending):
        out[k] = item.result() if isinstance(item, Future) else item
    out /= dtype.type(255.0)
    return out


def _image_files(folder: Path) -> tuple[list[Path], int]:
    """The image files of ``folder`` (sorted, hidden ones skipped) and the number of other files."""
    files, other = [], 0
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(p)
        else:
            other += 1
    return files, other


class ImageFolderDataset(BatchDataset):
    """The images of a folder with one sub-folder per class, decoded lazily in batches.

    ``root/0/a.jpg``, ``root/1/b.png``, ... Class names are the sub-folder names; files other than
    ``.png``/``.jpg``/``.jpeg`` (any case) and hidden entries are skipped (and counted in the
    summary). Nothing is decoded at construction: only the file list is read.

    Parameters
    ----------
    root : str or path-like
    image_size : int or (height, width)
        Every image is resized to this size (bilinear) when decoded.
    color_mode : {"rgb", "grayscale"}
    classes : sequence of str or int, optional
        The class sub-folders to use, in this order (label ``k`` is ``classes[k]``); ints name the
        folders ``"0"``, ``"1"``, ... Default: every sub-folder, sorted by name.
    transform : callable, optional
        ``transform(x, rng) -> x`` for training batches (augmentation).
    num_workers : int
        Decoding threads (0 decodes in the calling thread). Default ``min(4, cpu_count)``.
    cache_bytes : int
        Memory budget of the decoded-image cache (uint8 pixels): images are kept once decoded until
        the budget is full; later ones are decoded every time they are needed. 0 disables it.
    dtype : {"float32", "float64"}
        Of the batches (pixels divided by 255).

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    DataFormatError
        If it has no class sub-folders, a selected class is missing, or no images.
    """

    def __init__(self, root: str | PathLike[str], image_size: int | Sequence[int] = 64,
                 color_mode: str = "rgb", classes: Sequence[str | int] | None = None,
                 transform: Transform | None = None,
                 num_workers: int | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 dtype: Any = "float32") -> None:
        super().__init__(transform, dtype)
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder not found: {self.root}")
        if color_mode not in COLOR_MODES:
            raise ValueError(f"color_mode must be one of {', '.join(map(repr, COLOR_MODES))}; "
                             f"got {color_mode!r}")
        self.color_mode = color_mode
        size = as_image_size(image_size)
        workers = (min(4, os.cpu_count() or 1) if num_workers is None
                   else check_int(num_workers, "num_workers", 0))
        folders = {p.name: p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")}
        if not folders:
            raise DataFormatError(f"{self.root}: no class sub-folders "
                                  "(expected one sub-folder of images per class)")
        self.classes = self._select(folders, classes)
        files: list[Path] = []
        labels: list[int] = []
        self.skipped_files = 0
        for k, name in enumerate(self.classes):
            found, other = _image_files(folders[name])
            files += found
            labels += [k] * len(found)
            self.skipped_files += other
        if not files:
            raise DataFormatError(f"{self.root}: no {'/'.join(IMAGE_EXTENSIONS)} images in the class "
                                  f"sub-folders {', '.join(self.classes)}")
        self._state = _DecodeState(files, size, COLOR_MODES[color_mode], workers,
                                   check_int(cache_bytes, "cache_bytes", minimum=0))
        self._positions = np.arange(len(files), dtype=np.int64)  # indices into the shared file list
        self.labels = np.asarray(labels, dtype=np.int64)

    def _select(self, folders: dict[str, Path], classes: Sequence[str | int] | None) -> list[str]:
        if classes is None:
            return sorted(folders)
        if isinstance(classes, str | bytes) or not isinstance(classes, Sequence):
            raise TypeError(f"classes must be a sequence of class names, got {classes!r}")
        names = [str(c) for c in classes]
        if not names:
            raise ValueError("classes must name at least one class, got an empty sequence")
        if len(set(names)) != len(names):
            raise ValueError(f"classes must not repeat a name, got {names}")
        missing = [n for n in names if n not in folders]
        if missing:
            raise DataFormatError(f"{self.root}: no class sub-folder {', '.join(map(repr, missing))} "
                                  f"(found: {', '.join(sorted(folders))})")
        return names

    @property
    def files(self) -> list[Path]:
        """The image files of this dataset, in sample order."""
        return [self._state.files[i] for i in self._positions.tolist()]

    @property
    def image_size(self) -> tuple[int, int]:
        return self._state.image_size

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (*self._state.image_size, self._state.channels)

    @property
    def cached_images(self) -> int:
        """Decoded images held in the cache (shared with the subsets)."""
        return len(self._state.cache)

    def _load(self, indices: np.ndarray) -> np.ndarray:
        return _collect(self._state.submit(self._positions[indices]), self.image_shape, self.dtype)

    def _iterate(self, order: list[np.ndarray], training: bool, seed: int,
                 epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # Decode batch i + 1 on the worker threads while batch i is in use.
        pending = self._state.submit(self._positions[order[0]]) if order else []
        for i, idx in enumerate(order):
            current = pending
            if i + 1 < len(order):
                pending = self._state.submit(self._positions[order[i + 1]])
            x = _collect(current, self.image_shape, self.dtype)
            if training and self.transform is not None:
                x = self.transform(x, np.random.default_rng([seed, epoch, i, 1]))
            yield x, self.labels[idx]

    def _subset(self, indices: np.ndarray) -> ImageFolderDataset:
        sub = ImageFolderDataset.__new__(ImageFolderDataset)
        BatchDataset.__init__(sub, self.transform, self.dtype)
        sub.root, sub.color_mode, sub.classes = self.root, self.color_mode, self.classes
        sub.skipped_files, sub._state = self.skipped_files, self._state
        sub._positions, sub.labels = self._positions[indices], self.labels[indices]
        return sub

    def close(self) -> None:
        """Stop the decoding threads (shared with the subsets; they restart when needed)."""
        self._state.close()

    def __enter__(self) -> ImageFolderDataset:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def summary(self) -> DatasetSummary:
        """Classes, counts, the files' own sizes and color modes, and the odd files.

        Reads only the image headers. Odd files: sizes other than the most common one, color modes
        other than RGB/grayscale (e.g. RGBA, palette, 16-bit), and files Pillow cannot open.
        """
        image_module = require("PIL.Image", "data", "reading image files")
        sizes: Counter[tuple[int, int]] = Counter()
        modes: Counter[str] = Counter()
        per_file: list[tuple[Path, tuple[int, int] | None, str]] = []
        for path in self.files:
            try:
                with image_module.open(path) as img:
                    info: tuple[tuple[int, int] | None, str] = (tuple(img.size), img.mode)  # type: ignore[assignment]
            except (OSError, SyntaxError, ValueError) as exc:
                info = (None, f"unreadable ({type(exc).__name__})")
            per_file.append((path, *info))
            if info[0] is not None:
                sizes[info[0]] += 1
                modes[info[1]] += 1
        common = sizes.most_common(1)[0][0] if sizes else None
        odd = []
        for path, size, mode in per_file:
            where = str(path.relative_to(self.root))
            if size is None:
                odd.append((where, mode))
            elif size != common or mode not in ("RGB", "L"):
                usual = f" (most are {common[0]}x{common[1]})" if size != common else ""
                odd.append((where, f"{size[0]}x{size[1]} {mode}{usual}"))
        h, w = self.image_size
        return DatasetSummary(str(self.root), self.class_counts(), (h, w), self.color_mode, sizes, odd,
                              modes=modes, skipped_files=self.skipped_files)


@dataclass
class DatasetSummary:
    """What :meth:`ImageFolderDataset.summary` found; ``str()`` gives the table the CLI prints.

    Attributes
    ----------
    source : str
    counts : dict of str to int
        Samples per class.
    image_size : (int, int)
        ``(height, width)`` images are resized to.
    color_mode : str
    sizes : Counter of (width, height)
        The files' own sizes.
    odd_files : list of (str, str)
        ``(path relative to the root, what is odd)``.
    modes : Counter of str
        The files' Pillow color modes.
    skipped_files : int
        Files in the class folders that are not images.
    """

    source: str
    counts: dict[str, int]
    image_size: tuple[int, int]
    color_mode: str
    sizes: Counter
    odd_files: list[tuple[str, str]]
    modes: Counter = field(default_factory=Counter)
    skipped_files: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        h, w = self.image_size
        lines = [f"{self.source}: {self.total} images in {len(self.counts)} classes, "
                 f"resized to {h}x{w} {self.color_mode}"]
        width = max(5, *(len(n) for n in self.counts))
        lines.append(f"  {'class':<{width}}  count")
        lines += [f"  {name:<{width}}  {count:>5}" for name, count in self.counts.items()]
        if self.sizes:
            sizes = ", ".join(f"{sw}x{sh} ({n})" for (sw, sh), n in self.sizes.most_common())
            lines.append(f"  file sizes: {sizes}")
        if self.modes:
            lines.append("  color modes: " + ", ".join(f"{m} ({n})" for m, n in self.modes.most_common()))
        if self.skipped_files:
            lines.append(f"  skipped {self.skipped_files} non-image files")
        if self.odd_files:
            lines.append(f"  odd files ({len(self.odd_files)}):")
            lines += [f"    {path}: {what}" for path, what in self.odd_files[:20]]
            if len(self.odd_files) > 20:
                lines.append(f"    ... and {len(self.odd_files) - 20} more")
        return "\n".join(lines)
