"""Argument validation shared by every public function of deepstep.

Every error names the argument, what was expected and what was received, so that
bad input never surfaces as a raw NumPy broadcast error, an ``IndexError`` deep in
a loop, or (worst of all) a silently wrong answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "dtype_name",
    "check_array",
    "check_float_array",
    "check_float_dtype",
    "check_nonempty",
    "check_int",
    "check_real",
    "brief_repr",
    "check_choice",
    "check_class_indices",
    "check_keys",
    "check_same_dtype",
    "conv_output_size",
]


def _shape_hint(shape_names: str | None) -> str:
    return f" {shape_names}" if shape_names else ""


_REAL_KINDS = frozenset("iuf")  # dtype kinds of np.signedinteger, np.unsignedinteger, np.floating
_DTYPE_NAMES: dict[np.dtype, str] = {}


def dtype_name(dtype: np.dtype) -> str:
    """``dtype.name``, remembered (NumPy computes the name on every access: ~2 us, and a training step
    of a small network asks for it a few hundred times)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = np.dtype(dtype).name
    return name


def check_array(
    x: Any,
    name: str,
    ndim: int | Iterable[int] | None = None,
    shape_names: str | None = None,
) -> np.ndarray:
    """Return ``x`` as an ndarray of real numbers, or raise a clear error.

    Parameters
    ----------
    x : array_like
        The value to check. Lists and scalars are converted with ``np.asarray``.
    name : str
        The argument's name, used in error messages.
    ndim : int or iterable of int, optional
        The allowed number of dimensions.
    shape_names : str, optional
        A description of the expected axes, e.g. ``"(m, n_H, n_W, n_C)"``.

    Raises
    ------
    TypeError
        If ``x`` is not array-like or does not hold real numbers (bool, complex,
        strings and objects are rejected).
    ValueError
        If ``x`` has the wrong number of dimensions.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # pragma: no cover - numpy raises many kinds
            raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}") from exc
    if arr.dtype.kind not in _REAL_KINDS:  # np.integer or np.floating (not bool): 0.1 us, not 3
        raise TypeError(
            f"{name} must hold real numbers (integer or floating dtype), got dtype {arr.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{name} must be a {want} array{_shape_hint(shape_names)}, "
                f"got shape {arr.shape} ({arr.ndim}-D)"
            )
    return arr


def check_float_array(
    x: Any,
    name: str,
    ndim: int | Iterable[int] | None = None,
    shape_names: str | None = None,
) -> np.ndarray:
    """Like :func:`check_array` but require a float32 or float64 ndarray (no conversion).

    The fast kernels never upcast silently: the output dtype is the input dtype, so
    the input must already be one of the two supported floating types.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    return check_array(x, name, ndim, shape_names)


def check_nonempty(arr: np.ndarray, name: str, shape_names: str | None = None) -> np.ndarray:
    """Return ``arr``, or raise ``ValueError`` if one of its axes has length 0."""
    if arr.size == 0:
        raise ValueError(
            f"{name} must have every dimension >= 1{_shape_hint(shape_names)}, got shape {arr.shape}"
        )
    return arr


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ``TypeError`` naming ``name``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be 'float32' or 'float64', got {brief_repr(dtype)}") from exc
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{name} must be 'float32' or 'float64', got {dt}")
    return dt


def check_same_dtype(arrays: Mapping[str, np.ndarray | None], reference: str) -> None:
    """Raise ``TypeError`` unless every non-None array has the dtype of ``arrays[reference]``."""
    want = arrays[reference].dtype  # type: ignore[union-attr]
    for key, arr in arrays.items():
        if arr is not None and arr.dtype != want:
            raise TypeError(f"{key} must have the same dtype as {reference} ({want}), got {arr.dtype}")


def brief_repr(value: Any) -> str:
    """``repr(value)`` for an error message: huge integers by their digit count (``10**400`` has 401
    digits), anything else cut at 80 characters (an array's repr can run to megabytes)."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        digits = len(str(abs(int(value)))) if abs(int(value)) < 10**4000 else None
        if digits is None or digits > 30:
            sign = "a negative" if value < 0 else "an"
            return f"{sign} integer of {digits or 'over 4000'} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise.

    Accepts Python and NumPy integers (not bool, not floats such as ``2.0``); ``ValueError``
    if outside ``[minimum, maximum]``.
    """
    if type(value) is not int:  # a plain int skips the ABC check (bool is not of type int)
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer, got {brief_repr(value)} ({type(value).__name__})")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {brief_repr(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {brief_repr(value)}")
    return value


def check_real(value: Any, name: str, minimum: float | None = None, maximum: float | None = None,
               *, inclusive_min: bool = True, inclusive_max: bool = True) -> float:
    """Return ``value`` as a Python float, or raise if it is not a finite real in range."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {brief_repr(value)} ({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an int or Fraction beyond float's range, e.g. 10**400
        raise ValueError(
            f"{name} must be a finite real number, got {brief_repr(value)} (too large for a float)"
        ) from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (not inclusive_min and value == minimum)):
        op = ">=" if inclusive_min else ">"
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not inclusive_max and value == maximum)):
        op = "<=" if inclusive_max else "<"
        raise ValueError(f"{name} must be {op} {maximum}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str | int | float | type(None)) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {brief_repr(value)}")
    return value


def check_class_indices(y: Any, name: str, num_classes: int | None = None) -> np.ndarray:
    """Return 1-D class indices ``y`` as int64, or raise naming ``name`` and the bad value.

    Integer arrays and floats holding whole numbers (``1.0``) are accepted; every index must be
    ``>= 0`` and, when ``num_classes`` is given, ``< num_classes``.
    """
    arr = check_array(y, name, ndim=1, shape_names="(N,) of class indices")
    if np.issubdtype(arr.dtype, np.floating):
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not np.all(whole):
            bad = arr[~whole][0]
            raise ValueError(f"{name} must hold integer class indices, got non-integer value {bad}")
    if arr.size:  # checked before the cast to int64, which would wrap 2**63 (uint64) to a negative
        low, high = int(arr.min()), int(arr.max())
        if low < 0:
            raise ValueError(f"{name} must hold class indices >= 0, got {low}")
        if num_classes is not None and high >= num_classes:
            raise ValueError(f"{name} must hold class indices in 0..{num_classes - 1}, got {high}")
        if high > np.iinfo(np.int64).max:
            raise ValueError(f"{name} must hold class indices < 2**63, got {high}")
    return arr.astype(np.int64, copy=False)


def check_keys(mapping: Any, name: str, keys: Iterable[str]) -> Mapping[str, Any]:
    """Raise unless ``mapping`` is a mapping holding every key in ``keys``."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(mapping).__name__}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(
            f"{name} is missing required key(s) {', '.join(repr(k) for k in missing)}; "
            f"got keys {sorted(map(str, mapping))}"
        )
    return mapping


def conv_output_size(in_size: int, window: int, stride: int, pad_total: int, axis: str) -> int:
    """Output length of a sliding window: ``(in + pad_total - window) // stride + 1``.

    Floor division is used (``int()`` truncates towards zero and is wrong for a
    negative numerator). A window that does not fit raises ``ValueError``.

    Parameters
    ----------
    in_size : int
        Input length along the axis.
    window : int
        Window (kernel or pool) length along the axis.
    stride : int
        Step between windows (>= 1).
    pad_total : int
        Total padding added along the axis (both sides together).
    axis : str
        The axis' name for the error message, e.g. ``"height"``.
    """
    padded = in_size + pad_total
    if window > padded:
        raise ValueError(
            f"window of {axis} {window} does not fit the padded input {axis} {padded} "
            f"(input {in_size} + padding {pad_total}): output {axis} would be < 1"
        )
    return (padded - window) // stride + 1
