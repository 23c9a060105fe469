"""Pictures of training: learning curves, confusion matrices, mistakes, filters and feature maps.

matplotlib is optional (``pip install 'deepstep[plot]'``) and imported only when a plot is
drawn. Figures are made with ``matplotlib.figure.Figure`` and rendered by the Agg canvas, so
plotting needs no display and never touches pyplot's global state or the user's backend. Every
function writes one PNG atomically (a temporary file renamed into place) and returns its path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write
from ._validation import check_array, check_class_indices, check_int, check_nonempty

__all__ = [
    "plot_history",
    "plot_confusion_matrix",
    "plot_misclassified",
    "plot_filters",
    "plot_feature_maps",
]

_DPI = 100


def _figure(figsize: tuple[float, float]) -> Any:
    """A new matplotlib Figure with an Agg canvas and constrained layout."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "plotting needs the optional package 'matplotlib': pip install 'deepstep[plot]'"
        ) from exc
    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` as PNG, atomically."""
    return atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=_DPI))


def _suptitle(fig: Any, text: str, width: float, fontsize: float = 12.0) -> None:
    """Set the figure title, wrapped to the figure's ``width`` (inches) so that no part is clipped."""
    import textwrap

    chars = max(20, int(width * _DPI / (0.6 * fontsize * _DPI / 72)))  # a character is ~0.6 em wide
    fig.suptitle("\n".join(textwrap.wrap(text, chars)) or text, fontsize=fontsize)


def _grid(n: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _history_dict(history: Any) -> Mapping[str, Sequence[float]]:
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(f"history must be a History or a dict of lists, got {type(history).__name__}")
    if "loss" not in data:
        raise ValueError(f"history must hold a 'loss' list, got keys {sorted(data)}")
    return data


def plot_history(history: Any, path: str | PathLike[str], title: str = "Learning curves") -> Path:
    """Plot the loss and the accuracy per epoch, training vs validation, in two panels.

    Parameters
    ----------
    history : History or dict
        ``History.history`` or a dict with ``"loss"`` and optionally ``"accuracy"``,
        ``"val_loss"``, ``"val_accuracy"`` lists (one value per epoch).
    path : str or path-like
        The PNG to write.
    title : str
        The figure's title.

    Returns
    -------
    Path of the PNG.
    """
    data = _history_dict(history)
    fig = _figure((10, 4))
    axes = fig.subplots(1, 2)
    for ax, metric, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy")):
        plotted = False
        for key, name, style in ((metric, "training", "o-"), (f"val_{metric}", "validation", "s--")):
            values = [float(v) for v in data.get(key, [])]
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, style, label=name, markersize=4)
                plotted = True
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.grid(True, alpha=0.3)
        if plotted:
            ax.legend()
            ax.xaxis.get_major_locator().set_params(integer=True)
        else:
            ax.text(0.5, 0.5, f"no {label} recorded", ha="center", va="center", transform=ax.transAxes)
    if data.get("accuracy") or data.get("val_accuracy"):
        axes[1].set_ylim(top=1.0)
    fig.suptitle(title)
    return _save(fig, path)


def plot_confusion_matrix(
    cm: np.ndarray, classes: Sequence[str], path: str | PathLike[str], title: str = "Confusion matrix"
) -> Path:
    """Plot a confusion matrix with the count in each cell.

    Parameters
    ----------
    cm : array_like of int, shape (K, K)
        ``cm[i, j]`` = number of samples of true class ``i`` predicted as class ``j``.
    classes : sequence of str, length K
    path : str or path-like
    title : str

    Returns
    -------
    Path of the PNG.
    """
    cm = check_array(cm, "cm", ndim=2, shape_names="(K, K)")
    k = len(classes)
    if cm.shape != (k, k):
        raise ValueError(f"cm must have shape ({k}, {k}) for {k} classes, got {cm.shape}")
    if not np.all(cm >= 0):  # also rejects NaN
        raise ValueError(f"cm must hold counts >= 0, got {cm[~(cm >= 0)].flat[0]}")
    side = min(max(4.0, 0.6 * k + 2.5), 14.0)
    fig = _figure((side + 1.0, side))
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="count")
    labels = [str(c) for c in classes]
    rotate = k > 12 or (k > 4 and max(len(label) for label in labels) > 3)  # long names would overlap
    ax.set_xticks(range(k), labels=labels, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_yticks(range(k), labels=labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    threshold = cm.max() / 2.0 if cm.size and cm.max() > 0 else 0.5
    fontsize = 10 if k <= 12 else 7
    for i in range(k):
        for j in range(k):
            value = cm[i, j]
            text = f"{int(value)}" if float(value).is_integer() else f"{value:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if value > threshold else "black")
    return _save(fig, path)


def _as_display(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Return an (H, W) or (H, W, 3) image in [0, 1] for imshow and its colormap."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 1:
        side = math.isqrt(img.size)
        if side * side == img.size:
            img = img.reshape(side, side)
        elif img.size % 3 == 0 and math.isqrt(img.size // 3) ** 2 == img.size // 3:
            side = math.isqrt(img.size // 3)
            img = img.reshape(side, side, 3)
        else:
            raise ValueError(f"cannot show a flat image of {img.size} values as a picture")
    lo, hi = float(img.min()), float(img.max())
    if lo < 0.0 or hi > 1.0:
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img, ("gray" if img.ndim == 2 else None)


def plot_misclassified(
    x: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    path: str | PathLike[str],
    max_images: int = 64,
    title: str = "Misclassified examples",
    names: Sequence[str] | None = None,
) -> Path:
    """Show up to ``max_images`` misclassified images titled ``true/pred`` (and their names).

    Parameters
    ----------
    x : ndarray, shape (m, H, W, C) with C in {1, 3}, or (m, H, W), or flat (m, D)
        Images in [0, 1] (other ranges are rescaled per image); a flat square image is
        reshaped for display.
    y_true, y_pred : ndarray of int, shape (m,)
    classes : sequence of str
    path : str or path-like
    max_images : int, >= 1
    title : str
        The figure's title; ``"(k of n errors shown)"`` is appended.
    names : sequence of str, length m, optional
        A name per image (e.g. its file), written under the tile.

    Returns
    -------
    Path of the PNG (with a note when nothing was misclassified).
    """
    x = check_array(x, "x", ndim=(2, 3, 4), shape_names="(m, H, W[, C]) or (m, D)")
    y_true = check_class_indices(y_true, "y_true", len(classes))
    y_pred = check_class_indices(y_pred, "y_pred", len(classes))
    max_images = check_int(max_images, "max_images", minimum=1)
    if not (x.shape[0] == y_true.shape[0] == y_pred.shape[0]):
        raise ValueError(
            f"x, y_true and y_pred must have the same length, got {x.shape[0]}, {y_true.shape[0]}, "
            f"{y_pred.shape[0]}"
        )
    if names is not None and len(names) != x.shape[0]:
        raise ValueError(f"names must hold one name per image ({x.shape[0]}), got {len(names)}")
    all_wrong = np.flatnonzero(y_true != y_pred)
    wrong = all_wrong[:max_images]
    if wrong.size == 0:
        fig = _figure((4, 2))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified examples", ha="center", va="center", fontsize=12)
        fig.suptitle(title)
        return _save(fig, path)
    rows, cols = _grid(wrong.size)
    fig = _figure((max(2.0 * cols, 4.0), 2.4 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        img, cmap = _as_display(x[index])
        ax.imshow(img, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"{classes[y_true[index]]}/{classes[y_pred[index]]}", fontsize=10, color="firebrick")
        if names is not None:
            label = str(names[index])
            label = label if len(label) <= 22 else "..." + label[-19:]
            ax.text(0.5, -0.04, label, transform=ax.transAxes, ha="center", va="top", fontsize=7)
    shown = f"{wrong.size} of {all_wrong.size} errors shown" if wrong.size < all_wrong.size else \
        f"all {all_wrong.size} errors"
    fig.suptitle(f"{title} (title: true/pred; {shown})")
    return _save(fig, path)


def _normalize01(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a, dtype=np.float64)


def plot_filters(kernel: np.ndarray, path: str | PathLike[str], title: str = "First-layer filters") -> Path:
    """Show each convolution filter as a tile, min-max normalized per filter.

    Parameters
    ----------
    kernel : ndarray, shape (kh, kw, Cin, Cout)
        A Conv2D kernel in Keras layout. Filters with 3 input channels are shown in colour,
        otherwise the mean over the input channels is shown in grayscale.
    path : str or path-like
    title : str

    Returns
    -------
    Path of the PNG.
    """
    kernel = check_array(kernel, "kernel", ndim=4, shape_names="(kh, kw, Cin, Cout)").astype(np.float64)
    check_nonempty(kernel, "kernel", "(kh, kw, Cin, Cout)")
    kh, kw, cin, cout = kernel.shape
    rows, cols = _grid(cout)
    tile = 1.3
    fig = _figure((max(tile * cols, 3.5), tile * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for f, ax in zip(range(cout), axes.ravel(), strict=False):
        w = kernel[..., f]
        if cin == 3:
            ax.imshow(_normalize01(w), interpolation="nearest")
        else:
            ax.imshow(_normalize01(w.mean(axis=-1)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(str(f), fontsize=8)
    fig.suptitle(f"{title} ({cout} filters, {kh}x{kw}x{cin})")
    return _save(fig, path)


def plot_feature_maps(
    maps: np.ndarray, path: str | PathLike[str], title: str = "Feature maps", max_maps: int = 64,
    image: np.ndarray | None = None,
) -> Path:
    """Show each channel of one activation volume as a grayscale tile, after the input image.

    Parameters
    ----------
    maps : ndarray, shape (H, W, C)
        The activations of one image (channels last); each channel is min-max normalized.
    path : str or path-like
    title : str
        Wrapped to the figure's width.
    max_maps : int, >= 1
        Show at most this many channels (the first ones).
    image : ndarray, shape (H', W', 1 or 3) or (H', W') or flat, optional
        The input image, shown as the first tile ("input").

    Returns
    -------
    Path of the PNG.
    """
    maps = check_array(maps, "maps", ndim=3, shape_names="(H, W, C)").astype(np.float64)
    check_nonempty(maps, "maps", "(H, W, C)")
    max_maps = check_int(max_maps, "max_maps", minimum=1)
    channels = min(maps.shape[-1], max_maps)
    shown_input = None if image is None else _as_display(check_array(image, "image", ndim=(1, 2, 3)))
    tiles = channels + (shown_input is not None)
    rows, cols = _grid(tiles)
    tile = 1.5
    width = max(tile * cols, 5.0)
    fig = _figure((width, tile * rows + 0.9))
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    if shown_input is not None:
        ax = axes.pop(0)
        img, cmap = shown_input
        ax.imshow(img, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title("input", fontsize=8, fontweight="bold")
    for c, ax in zip(range(channels), axes, strict=False):
        ax.imshow(_normalize01(maps[..., c]), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(str(c), fontsize=8)
    shown = f"{channels} of {maps.shape[-1]}" if channels < maps.shape[-1] else f"{channels}"
    _suptitle(fig, f"{title} ({shown} channels, {maps.shape[0]}x{maps.shape[1]})", width)
    return _save(fig, path)
