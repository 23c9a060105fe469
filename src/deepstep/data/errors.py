"""Errors raised by the dataset loaders."""

from __future__ import annotations

__all__ = ["DataFormatError"]


class DataFormatError(ValueError):
    """A data file or folder is corrupt, of the wrong kind, or inconsistent.

    The message names the file and the problem in one sentence, so that the CLI can
    print it as is.
    """
