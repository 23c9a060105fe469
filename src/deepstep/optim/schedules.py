"""Learning-rate schedules: callables ``schedule(epoch) -> learning rate``.

Each schedule is evaluated once per epoch (``epoch`` counts from 0) by
:class:`deepstep.train.callbacks.LearningRateScheduler`. ``get_config()`` returns JSON-able
arguments including ``"name"``; :func:`schedule_from_config` rebuilds the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._validation import brief_repr, check_int, check_real
from ._registry import construct, constructor_arguments, lookup, split_config

__all__ = [
    "LearningRateSchedule",
    "InverseTimeDecay",
    "StepDecay",
    "ExponentialDecay",
    "CosineDecay",
    "SCHEDULE_NAMES",
    "get_schedule",
    "schedule_from_config",
]


class LearningRateSchedule:
    """Base class: ``schedule(epoch)`` returns the learning rate for that epoch (a float > 0)."""

    name: str = "schedule"

    def __init__(self, initial_learning_rate: float) -> None:
        self.initial_learning_rate = check_real(initial_learning_rate, "initial_learning_rate", 0.0,
                                                inclusive_min=False)

    def __call__(self, epoch: int) -> float:
        return float(self._rate(check_int(epoch, "epoch", minimum=0)))

    def _rate(self, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"name"``."""
        params = constructor_arguments(type(self))
        return {"name": self.name, **{p: getattr(self, p) for p in params}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class InverseTimeDecay(LearningRateSchedule):
    """The course's learning-rate decay (``update_lr`` / ``schedule_lr_decay``).

    ``lr(epoch) = initial_learning_rate / (1 + decay_rate * floor(epoch / decay_steps))``.
    With ``decay_steps=1`` this is ``update_lr``: ``lr0 / (1 + decay_rate * epoch)``; with
    ``decay_steps = time_interval`` it is ``schedule_lr_decay``.
    """

    name = "inverse_time_decay"

    def __init__(self, initial_learning_rate: float, decay_rate: float, decay_steps: int = 1) -> None:
        super().__init__(initial_learning_rate)
        self.decay_rate = check_real(decay_rate, "decay_rate", 0.0)
        self.decay_steps = check_int(decay_steps, "decay_steps", minimum=1)

    def _rate(self, epoch: int) -> float:
        return self.initial_learning_rate / (1.0 + self.decay_rate * (epoch // self.decay_steps))


class StepDecay(LearningRateSchedule):
    """Drop the rate by a factor every few epochs.

    ``lr(epoch) = initial_learning_rate * drop ** floor(epoch / epochs_drop)``, ``drop`` in (0, 1].
    """

    name = "step_decay"

    def __init__(self, initial_learning_rate: float, drop: float = 0.5, epochs_drop: int = 10) -> None:
        super().__init__(initial_learning_rate)
        self.drop = check_real(drop, "drop", 0.0, 1.0, inclusive_min=False)
        self.epochs_drop = check_int(epochs_drop, "epochs_drop", minimum=1)

    def _rate(self, epoch: int) -> float:
        return self.initial_learning_rate * self.drop ** (epoch // self.epochs_drop)


class ExponentialDecay(LearningRateSchedule):
    """Keras ``ExponentialDecay`` per epoch.

    ``lr(epoch) = initial_learning_rate * decay_rate ** (epoch / decay_steps)`` (the exponent is
    ``floor(epoch / decay_steps)`` when ``staircase=True``). The course's exponential decay
    ``0.95**epoch * lr0`` is ``ExponentialDecay(lr0, 0.95, 1)``.
    """

    name = "exponential_decay"

    def __init__(self, initial_learning_rate: float, decay_rate: float, decay_steps: int = 1,
                 staircase: bool = False) -> None:
        super().__init__(initial_learning_rate)
        self.decay_rate = check_real(decay_rate, "decay_rate", 0.0, inclusive_min=False)
        self.decay_steps = check_int(decay_steps, "decay_steps", minimum=1)
        if not isinstance(staircase, bool):
            raise TypeError(f"staircase must be a bool, got {brief_repr(staircase)}")
        self.staircase = staircase

    def _rate(self, epoch: int) -> float:
        exponent = epoch // self.decay_steps if self.staircase else epoch / self.decay_steps
        return self.initial_learning_rate * self.decay_rate**exponent


class CosineDecay(LearningRateSchedule):
    """Keras ``CosineDecay`` (no warm-up) per epoch.

    ``lr(epoch) = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * e / decay_steps)) + alpha)``
    with ``e = min(epoch, decay_steps)``: it falls from ``initial_learning_rate`` to
    ``alpha * initial_learning_rate`` at ``decay_steps`` and stays there. ``alpha`` in (0, 1] keeps the
    rate > 0; ``alpha = 0`` is allowed, but the rate at and after ``decay_steps`` is then 0 and
    :class:`~deepstep.optim.Optimizer` rejects it, so use it only for ``epoch < decay_steps``.
    """

    name = "cosine_decay"

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0) -> None:
        super().__init__(initial_learning_rate)
        self.decay_steps = check_int(decay_steps, "decay_steps", minimum=1)
        self.alpha = check_real(alpha, "alpha", 0.0, 1.0)

    def _rate(self, epoch: int) -> float:
        e = min(epoch, self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * e / self.decay_steps))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


_SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.name: cls for cls in (InverseTimeDecay, StepDecay, ExponentialDecay, CosineDecay)
}
SCHEDULE_NAMES: tuple[str, ...] = tuple(_SCHEDULES)


def get_schedule(name: str, **kwargs: Any) -> LearningRateSchedule:
    """Build a schedule by name (``"inverse_time_decay"``, ``"step_decay"``, ``"exponential_decay"``,
    ``"cosine_decay"``) with its constructor's keyword arguments."""
    return construct(lookup(_SCHEDULES, name, "schedule"), kwargs)


def schedule_from_config(config: Mapping[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from :meth:`LearningRateSchedule.get_config` output."""
    name, kwargs = split_config(config)
    return get_schedule(name, **kwargs)
