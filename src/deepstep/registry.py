"""``@deepstep.register``: make custom layers and losses known by name, so ``deepstep.load`` rebuilds them.

A saved model records each layer's registered name and ``get_config()``, and the loss's
``get_config()``; loading looks the names up in the registries of :mod:`deepstep.nn.layers` and
:mod:`deepstep.nn.losses`. Register a class once, at import time, in the module that defines it,
and import that module before ``deepstep.load``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .nn.layers import Layer, register_layer
from .nn.losses import Loss, register_loss

__all__ = ["register"]

T = TypeVar("T", bound=type)


def register(cls: T | None = None, *, name: str | None = None) -> T | Callable[[T], T]:
    """Register a :class:`~deepstep.nn.Layer` or :class:`~deepstep.nn.losses.Loss` subclass.

    Use as ``@deepstep.register`` or ``@deepstep.register(name="my_layer")``.

    Parameters
    ----------
    cls : type
        A Layer subclass (rebuilt with ``cls.from_config(layer.get_config())``, so its
        ``_config()`` must return its constructor arguments) or a Loss subclass (rebuilt as
        ``cls(**arguments)`` from ``loss.get_config()``).
    name : str, optional
        The registered name: default the class name for a layer, ``cls.name`` for a loss.

    Returns
    -------
    The class itself (unchanged, apart from a loss's ``name`` when ``name`` is given).

    Raises
    ------
    TypeError
        If ``cls`` is neither a Layer nor a Loss subclass.
    ValueError
        If another class is already registered under the name.
    """

    def decorate(klass: Any) -> Any:
        if isinstance(klass, type) and issubclass(klass, Layer):
            return register_layer(klass, name)
        if isinstance(klass, type) and issubclass(klass, Loss):
            return register_loss(klass, name)
        raise TypeError(f"deepstep.register needs a deepstep.nn.Layer or deepstep.nn.losses.Loss subclass, "
                        f"got {klass!r}")

    if cls is None:
        return decorate
    return decorate(cls)
