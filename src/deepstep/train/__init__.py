"""Training utilities: metrics, callbacks and the errors of the fit loop.

Submodules
----------
metrics
    accuracy, confusion_matrix, precision_recall, classification_report.
callbacks
    Callback, CallbackList, EarlyStopping, ModelCheckpoint, LearningRateScheduler, ProgressBar.
errors
    TrainingError.
"""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from .errors import TrainingError
from .metrics import accuracy, classification_report, confusion_matrix, precision_recall

__all__ = [
    "TrainingError",
    "metrics",
    "callbacks",
    "accuracy",
    "confusion_matrix",
    "precision_recall",
    "classification_report",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "ProgressBar",
]
