"""scikit-learn's bundled 8x8 handwritten digits: a real image dataset with no files to fetch."""

from __future__ import annotations

import numpy as np

from ._optional import require

__all__ = ["load_digits"]


def load_digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load the 1797 8x8 grayscale digits shipped with scikit-learn (UCI optical digits).

    Returns
    -------
    x : ndarray of float32, shape (1797, 8, 8, 1)
        Pixel intensities 0..16 divided by 16, so in [0, 1].
    y : ndarray of int64, shape (1797,)
        Digit 0..9.
    classes : list of str
        ``["0", "1", ..., "9"]``.
    """
    datasets = require("sklearn.datasets", "data", "the bundled digits dataset")
    bunch = datasets.load_digits()
    x = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0))[..., np.newaxis]
    y = np.asarray(bunch.target, dtype=np.int64)
    return x, y, [str(int(c)) for c in bunch.target_names]
