"""Training utilities: metrics, callbacks and the errors of the fit loop.

Submodules
----------
metrics
    accuracy, confusion_matrix, precision_recall, classification_report, top_k_accuracy,
    precision_score, recall_score, f1_score, roc_auc.
metric_objects
    Streaming metrics with Keras names (Accuracy, TopKCategoricalAccuracy, Precision, Recall,
    F1Score, AUC) and get_metric(name).
callbacks
    Callback, CallbackList, EarlyStopping, ModelCheckpoint, LearningRateScheduler, ProgressBar,
    ReduceLROnPlateau, CSVLogger, TensorBoard (needs tensorboardX).
errors
    TrainingError.
"""

from . import callbacks, metric_objects, metrics
from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TensorBoard,
)
from .errors import TrainingError
from .metric_objects import Metric, get_metric
from .metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_recall,
    precision_score,
    recall_score,
    roc_auc,
    top_k_accuracy,
)

__all__ = [
    "TrainingError",
    "metrics",
    "metric_objects",
    "Metric",
    "get_metric",
    "top_k_accuracy",
    "precision_score",
    "recall_score",
    "f1_score",
    "roc_auc",
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
    "ReduceLROnPlateau",
    "CSVLogger",
    "TensorBoard",
]
