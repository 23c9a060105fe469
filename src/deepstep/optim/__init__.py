"""Optimizers (pure update functions and stateful classes) and learning-rate schedules.

See :mod:`deepstep.optim.optimizers` for the exact update formulas and how they relate to Keras and
PyTorch, and :mod:`deepstep.optim.schedules` for the per-epoch schedules.
"""

from . import schedules
from .optimizers import (
    OPTIMIZER_NAMES,
    SGD,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    adam_update,
    adamw_update,
    get_optimizer,
    momentum_update,
    nesterov_update,
    optimizer_from_config,
    rmsprop_update,
    sgd_update,
)
from .schedules import (
    SCHEDULE_NAMES,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    StepDecay,
    get_schedule,
    schedule_from_config,
)

__all__ = [
    "schedules",
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "OPTIMIZER_NAMES",
    "get_optimizer",
    "optimizer_from_config",
    "sgd_update",
    "momentum_update",
    "nesterov_update",
    "rmsprop_update",
    "adam_update",
    "adamw_update",
    "LearningRateSchedule",
    "InverseTimeDecay",
    "StepDecay",
    "ExponentialDecay",
    "CosineDecay",
    "SCHEDULE_NAMES",
    "get_schedule",
    "schedule_from_config",
]
