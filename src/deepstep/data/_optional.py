"""Lazy imports of the optional dependencies, with an error naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` telling which deepstep extra provides it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"h5py"`` or ``"PIL.Image"``.
    extra : str
        The deepstep extra that installs it, e.g. ``"data"``.
    purpose : str
        What it is needed for, e.g. ``"reading HDF5 files"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs the optional package {top!r}: pip install 'deepstep[{extra}]'"
        ) from exc
