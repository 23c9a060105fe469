"""Where the compiled kernels are cached, and whether that cache is warm, without importing numba.

The ``auto`` kernel choice (:mod:`._registry`) asks on the first convolution whether compiled
kernels are on disk; importing numba just to answer would cost every NumPy-only run ~0.5 s.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
from pathlib import Path

from ._numba_source import kernel_sources

__all__ = ["cache_dir", "is_warm", "mark_warm", "warm_marker"]

_marked: set[str] = set()


def cache_dir() -> Path:
    """The folder of Numba's on-disk cache for deepstep's kernels.

    ``NUMBA_CACHE_DIR`` if the user set it, else ``$XDG_CACHE_HOME/deepstep/numba``
    (``~/.cache/deepstep/numba``).
    """
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return Path(user)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepstep" / "numba"


@functools.cache
def kernels_digest() -> str:
    """A hash of everything compiled: the kernels' source and numba's version."""
    try:
        version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        version = "none"
    return hashlib.sha256((kernel_sources() + version).encode()).hexdigest()[:16]


def warm_marker(dtype: str) -> Path:
    """A file that exists once :mod:`._numba.warmup` compiled every convolution kernel of ``dtype``."""
    return cache_dir() / f"warm-{kernels_digest()}-{dtype}"


def is_warm(dtype: str) -> bool:
    """Whether the kernels of ``dtype`` are compiled (in this process or in the on-disk cache)."""
    if dtype not in _marked and warm_marker(dtype).exists():
        _marked.add(dtype)
    return dtype in _marked


def mark_warm(dtype: str) -> None:
    """Record that the kernels of ``dtype`` are compiled and in the on-disk cache (best effort)."""
    if dtype in _marked:
        return
    _marked.add(dtype)
    marker = warm_marker(dtype)
    with contextlib.suppress(OSError):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
