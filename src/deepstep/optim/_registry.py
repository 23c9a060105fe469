"""Name registries shared by the optimizers and the schedules: lookup, construction, configs."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["lookup", "constructor_arguments", "construct", "split_config"]

T = TypeVar("T")


def lookup(registry: Mapping[str, type[T]], name: Any, kind: str) -> type[T]:
    """The class registered as ``name`` (any case), or ``ValueError`` listing the known names."""
    if not isinstance(name, str) or name.lower() not in registry:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(registry)}")
    return registry[name.lower()]


def constructor_arguments(cls: type) -> list[str]:
    """The names of ``cls.__init__``'s arguments, ``self`` excluded."""
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def construct(cls: type[T], kwargs: Mapping[str, Any]) -> T:
    """``cls(**kwargs)``, with ``ValueError`` naming unknown or missing constructor arguments."""
    allowed = constructor_arguments(cls)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(
            f"unexpected argument(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"allowed: {', '.join(allowed)}"
        )
    try:
        return cls(**kwargs)
    except TypeError as exc:
        if "missing" in str(exc):
            raise ValueError(f"{cls.__name__}: {exc}") from exc
        raise


def split_config(config: Any) -> tuple[Any, dict[str, Any]]:
    """``(config["name"], the other entries)`` of a ``get_config()`` dict, validated."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    if "name" not in config:
        raise ValueError(f"config is missing required key 'name'; got keys {sorted(map(str, config))}")
    return config["name"], {k: v for k, v in config.items() if k != "name"}
