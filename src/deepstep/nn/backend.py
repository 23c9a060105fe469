"""Where ``Model.compile/fit/evaluate/predict/save`` find their implementation.

``deepstep.nn`` holds models but no training loop and no file format: those live in
:mod:`deepstep.train` and :mod:`deepstep.io`, which depend on ``nn``, not the other way round.
Importing them registers their functions here (``import deepstep`` imports both), and the
model methods are thin delegations to what is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register", "get"]

_REGISTRY: dict[str, Callable[..., Any]] = {}
_PROVIDERS = {"compile": "deepstep.train", "fit": "deepstep.train", "evaluate": "deepstep.train",
              "predict_proba": "deepstep.train", "predict": "deepstep.train",
              "train_on_batch": "deepstep.train", "save": "deepstep.io"}


def register(name: str, function: Callable[..., Any]) -> None:
    """Install ``function`` as the implementation of the model method ``name``."""
    if name not in _PROVIDERS:
        raise ValueError(f"unknown backend entry {name!r}; known: {', '.join(_PROVIDERS)}")
    _REGISTRY[name] = function


def get(name: str) -> Callable[..., Any]:
    """The registered implementation of ``name`` (RuntimeError naming the module to import if none)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RuntimeError(f"Model.{name} needs {_PROVIDERS.get(name, 'deepstep')}: import deepstep (or "
                           f"{_PROVIDERS.get(name, 'it')}) first") from None
