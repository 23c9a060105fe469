"""File helpers: atomic writes (a temporary file beside the target, renamed into place when complete)
and the regular-file check every reader makes before opening a path it was given."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["STALE_TMP_SECONDS", "atomic_write", "remove_stale_temporaries", "require_regular_file"]

#: A temporary file of an interrupted save (``kill -9``, power cut) left unmodified this long is removed
#: at the next save to the same target. A live save writes continuously (np.savez streams each array),
#: so a minute without a write means its process is gone; no save of a model in the tests lasts 1 s.
STALE_TMP_SECONDS = 60.0


def _default_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open(path, "w")`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary_name(name: str) -> re.Pattern[str]:
    """The names ``tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")`` gives: 8 random characters
    from ``[a-z0-9_]`` between the prefix and the suffix (so another target's files never match)."""
    return re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp")


def remove_stale_temporaries(path: str | os.PathLike[str],
                             older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove the temporary files an interrupted :func:`atomic_write` to ``path`` left behind.

    Only the files named as :func:`atomic_write` names them for this very target
    (``.{name}.XXXXXXXX.tmp`` beside it) and not modified for ``older_than`` seconds are removed
    (a save in progress in another process keeps its file fresh). Files that vanish meanwhile or
    cannot be removed are skipped. Returns the removed paths.
    """
    path = Path(path)
    pattern = _temporary_name(path.name)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime < older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[Any]], Any], binary: bool = True) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``.

    Readers see either the old file or the complete new one, never a partial file; on any
    error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was. The new
    file gets the usual permissions (``mkstemp`` alone would make it private to the owner).
    The parent folder is created if needed. Temporary files that an earlier save to the same
    ``path`` left when it was killed (``kill -9`` cannot be caught) are removed first
    (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder (give a file name)")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
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
