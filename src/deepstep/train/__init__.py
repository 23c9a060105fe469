"""Training: the model-agnostic trainer, metrics, callbacks and the errors of the fit loop.

Importing this package registers the trainer as the implementation of the models'
``compile/fit/evaluate/predict/predict_proba/train_on_batch`` (:mod:`deepstep.nn.backend`).

Submodules
----------
trainer
    Trainer (fit, evaluate, predict; extension points for data-parallel training), compile_model.
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

from typing import Any

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
from .trainer import History, Trainer, compile_model, trainer_for


def _fit(model: Any, x: Any, y: Any, **kw: Any) -> Any:
    # the weighting options are passed only when given, so trainers that predate them still work
    for key in ("class_weight", "sample_weight"):
        if kw.get(key, 0) is None:
            del kw[key]
    return trainer_for(model).fit(x, y, **kw)


def _register() -> None:
    from ..nn import backend

    backend.register("compile", compile_model)
    backend.register("fit", _fit)
    backend.register("evaluate", lambda model, x, y, **kw: trainer_for(model).evaluate(x, y, **kw))
    backend.register("predict_proba", lambda model, x, **kw: trainer_for(model).predict_proba(x, **kw))
    backend.register("predict", lambda model, x, **kw: trainer_for(model).predict(x, **kw))
    backend.register("train_on_batch", lambda model, x, y: trainer_for(model).train_on_batch(x, y))


_register()

__all__ = [
    "Trainer",
    "History",
    "compile_model",
    "trainer_for",
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
