"""Resolving initializer arguments of layers (lazy import of deepstep.init)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["resolve_initializer", "initializer_config"]


def resolve_initializer(initializer: Any, name: str) -> Callable[..., np.ndarray]:
    """Return the initializer function for ``initializer`` (a name or a callable).

    Raises ``ValueError`` naming the argument for an unknown name.
    """
    from ... import init

    try:
        return init.get_initializer(initializer)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{name}: {exc}") from exc


def initializer_config(initializer: Any) -> Any:
    """The JSON-able form of an initializer argument (its name; callables by ``__name__``)."""
    if isinstance(initializer, str):
        return initializer
    return getattr(initializer, "__name__", repr(initializer))
