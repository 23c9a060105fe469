"""Compare a learner's output with the expected one, structurally, and describe the first difference.

Tuples and lists are compared item by item (a list and a tuple are the same thing), dicts
key by key (the learner may hold extra keys), arrays by shape and then value with a
tolerance, and a 0-d array equals the number it holds. A ``(1,)`` array is *not* a
scalar: the notebooks ``np.squeeze`` their costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Mismatch", "first_mismatch", "close", "RTOL", "ATOL"]

# The notebooks print 8 decimals; a correct loop or vectorized version agrees to ~1e-15
# relative, every catalogued mistake differs by far more than this.
RTOL = 1e-6
ATOL = 1e-8


@dataclass(frozen=True)
class Mismatch:
    """Where the output differs: a path like ``cache[0]`` or ``grads['dW1']``, and how."""

    where: str
    message: str
    index: tuple[int, ...] | None = None
    got: str | None = None
    expected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "message": self.message,
            "index": list(self.index) if self.index is not None else None,
            "got": self.got,
            "expected": self.expected,
        }


def _fmt(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else str(value)
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | complex | np.number | np.bool_ | bool)


def _as_array(x: Any) -> np.ndarray | None:
    if isinstance(x, np.ndarray):
        return x
    if _is_number(x):
        return np.asarray(x)
    return None


def _kind(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if x is None:
        return "None"
    if isinstance(x, tuple | list):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"


def _compare_arrays(
    got: np.ndarray, want: np.ndarray, where: str, rtol: float, atol: float
) -> Mismatch | None:
    if got.shape != want.shape:
        what = "a scalar" if want.ndim == 0 else f"shape {want.shape}"
        return Mismatch(
            where,
            f"{where} has shape {got.shape}, expected {what}",
            got=str(got.shape),
            expected=str(want.shape),
        )
    if want.dtype == np.bool_ or got.dtype == np.bool_:
        try:
            differ = np.asarray(got != want)
        except (TypeError, ValueError):
            return Mismatch(where, f"{where} cannot be compared with the expected booleans")
    else:
        try:
            g = got.astype(np.float64)
        except (TypeError, ValueError):
            return Mismatch(where, f"{where} holds {got.dtype} values, expected numbers")
        w = want.astype(np.float64)
        ok = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        differ = ~ok
    if not differ.any():
        return None
    count = int(differ.sum())
    if want.ndim == 0:
        return Mismatch(
            where,
            f"{where} = {_fmt(got.item())}, expected {_fmt(want.item())}",
            got=_fmt(got.item()),
            expected=_fmt(want.item()),
        )
    index = tuple(int(i) for i in np.argwhere(differ)[0])
    g, w = got[index], want[index]
    label = f"{where}[{', '.join(map(str, index))}]"
    tail = (
        f" (1 of {count} entries differ)" if count == 1 else f" (first of {count} of {differ.size} entries)"
    )
    return Mismatch(where, f"{label} = {_fmt(g)}, expected {_fmt(w)}{tail}", index, _fmt(g), _fmt(w))


def first_mismatch(
    got: Any, want: Any, where: str = "output", rtol: float = RTOL, atol: float = ATOL
) -> Mismatch | None:
    """The first difference between ``got`` (the learner's) and ``want``, or ``None``."""
    want_arr = _as_array(want)
    if want_arr is not None:
        got_arr = _as_array(got)
        if got_arr is None:
            if isinstance(got, list | tuple):
                try:
                    got_arr = np.asarray(got)
                except (TypeError, ValueError):
                    got_arr = None
            if got_arr is None or got_arr.dtype == object:
                return Mismatch(
                    where,
                    f"{where} is {_kind(got)}, expected {_kind(want_arr)}",
                    got=_kind(got),
                    expected=_kind(want_arr),
                )
        return _compare_arrays(got_arr, want_arr, where, rtol, atol)
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            return Mismatch(where, f"{where} is {_kind(got)}, expected a dict with keys {sorted(want)}")
        missing = [k for k in want if k not in got]
        if missing:
            return Mismatch(
                where,
                f"{where} lacks the key(s) {', '.join(map(repr, missing))}",
                got=repr(sorted(map(str, got))),
                expected=repr(sorted(map(str, want))),
            )
        for key in want:
            found = first_mismatch(got[key], want[key], f"{where}[{key!r}]", rtol, atol)
            if found:
                return found
        return None
    if isinstance(want, Sequence) and not isinstance(want, str | bytes):
        if not isinstance(got, Sequence) or isinstance(got, str | bytes):
            return Mismatch(
                where,
                f"{where} is {_kind(got)}, expected {_kind(want)}",
                got=_kind(got),
                expected=_kind(want),
            )
        if len(got) != len(want):
            return Mismatch(
                where,
                f"{where} has {len(got)} items, expected {len(want)}",
                got=str(len(got)),
                expected=str(len(want)),
            )
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            found = first_mismatch(g, w, f"{where}[{k}]", rtol, atol)
            if found:
                return found
        return None
    if got != want:
        return Mismatch(
            where, f"{where} = {_fmt(got)}, expected {_fmt(want)}", got=_fmt(got), expected=_fmt(want)
        )
    return None


def close(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same structure with close values (both ways)."""
    try:
        return first_mismatch(a, b) is None and first_mismatch(b, a) is None
    except Exception:  # noqa: BLE001 - an incomparable output is simply not close
        return False
