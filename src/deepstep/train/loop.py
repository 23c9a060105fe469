"""The training loop's entry points as functions (kept for 0.1 code): see :mod:`deepstep.train.trainer`."""

from __future__ import annotations

from typing import Any

from .trainer import History, NonFiniteError, Trainer, trainer_for

__all__ = ["History", "fit", "NonFiniteError"]


def fit(model: Any, x: Any, y: Any, **kwargs: Any) -> History:
    """``Trainer(model).fit(x, y, **kwargs)`` (or the model's own ``model.trainer``)."""
    return trainer_for(model).fit(x, y, **kwargs)


__all__ += ["Trainer"]
