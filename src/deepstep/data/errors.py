"""Errors raised by the dataset loaders."""

from __future__ import annotations

__all__ = ["DataFormatError", "describe"]


class DataFormatError(ValueError):
    """A data file or folder is corrupt, of the wrong kind, or inconsistent.

    The message names the file and the problem in one sentence, so that the CLI can
    print it as is.
    """


def describe(exc: BaseException) -> str:
    """``"Type: message"`` of a library's exception, on one line (HDF5 and Pillow messages span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
