"""File helpers: atomic writes (a temporary file beside the target, renamed into place when complete)
and the regular-file check every reader makes before opening a path it was given."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "require_regular_file"]


def _default_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open(path, "w")`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[Any]], Any], binary: bool = True) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``.

    Readers see either the old file or the complete new one, never a partial file; on any
    error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was. The new
    file gets the usual permissions (``mkstemp`` alone would make it private to the owner).
    The parent folder is created if needed.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder (give a file name)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def require_regular_file(
    path: str | os.PathLike[str], what: str = "file", error: type[Exception] = ValueError
) -> Path:
    """Return ``Path(path)`` if it names a regular file (symbolic links followed), else raise.

    Opening a FIFO blocks until a writer appears and reading a device such as ``/dev/zero``
    never ends, so every reader checks first.

    Parameters
    ----------
    path : str or path-like
    what : str
        What the file is, for the messages: ``"data file"``, ``"model file"``, ``"image file"``.
    error : exception class
        Raised for something that exists but is not a regular file (a FIFO, socket or device);
        e.g. ``DataFormatError`` or ``ModelFormatError``.

    Raises
    ------
    TypeError
        If ``path`` is not a str or path-like.
    FileNotFoundError
        If nothing exists at ``path`` (or a symbolic link is dangling).
    IsADirectoryError
        If ``path`` is a folder.
    OSError
        If it cannot be examined (e.g. ``PermissionError``).
    error
        If ``path`` is a FIFO, socket or device, or holds a NUL byte.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{what} path must be a str or path-like, got {type(path).__name__}")
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except OSError as exc:  # OSError(errno, text) builds the matching subclass (PermissionError ...)
        raise OSError(exc.errno, f"{what} not accessible: {path} ({exc.strerror})") from None
    except ValueError:  # os.stat's "embedded null byte"
        raise error(f"{what} path contains a NUL byte: {str(path)!r}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{what} is a folder, not a file: {path}")
    if not stat.S_ISREG(mode):
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
        raise error(f"{path}: not a regular file (a {kind}); give the path of a {what}")
    return path
