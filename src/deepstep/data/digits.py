"""scikit-learn's bundled 8x8 handwritten digits: a real image dataset with no files to fetch."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from ._optional import require

__all__ = ["load_digits"]

_CSV = Path("datasets") / "data" / "digits.csv.gz"


def _bundled_csv() -> Path | None:
    """scikit-learn's ``digits.csv.gz``, found without importing scikit-learn (which takes seconds)."""
    spec = importlib.util.find_spec("sklearn")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / _CSV
        if candidate.is_file():
            return candidate
    return None


def load_digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load the 1797 8x8 grayscale digits shipped with scikit-learn (UCI optical digits).

    The CSV file bundled with scikit-learn is read directly (rows of 64 pixels 0..16 and
    the digit); ``sklearn.datasets.load_digits`` is the fallback if it cannot be found.

    Returns
    -------
    x : ndarray of float32, shape (1797, 8, 8, 1)
        Pixel intensities 0..16 divided by 16, so in [0, 1].
    y : ndarray of int64, shape (1797,)
        Digit 0..9.
    classes : list of str
        ``["0", "1", ..., "9"]``.
    """
    csv = _bundled_csv()
    if csv is not None:
        with gzip.open(csv, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.float64)
        pixels, target = table[:, :-1], table[:, -1]
    else:
        bunch = require("sklearn.datasets", "data", "the bundled digits dataset").load_digits()
        pixels, target = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
    x = (pixels.reshape(-1, 8, 8, 1) / 16.0).astype(np.float32)
    return x, target.astype(np.int64), [str(d) for d in range(10)]
