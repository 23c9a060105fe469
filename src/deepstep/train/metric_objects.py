"""Streaming metrics for the fit loop (Keras names): update per batch, read the result, reset.

Every metric follows one protocol::

    metric.reset_state()
    for x, y in batches:
        metric.update_state(y, model_outputs, sample_weight=None)
    value = metric.result()          # a float; logged under ``metric.name``

``y_true`` is ``(N,)`` integer class indices, or ``(N, K)`` one-hot rows (their argmax is used).
``y_pred`` is what the model outputs: ``(N, K)`` class scores (probabilities or logits; the argmax
is the prediction), or ``(N,)`` / ``(N, 1)`` for a single-unit binary output, thresholded at 0.5
(probabilities) or 0 (``from_logits=True``). Results equal the whole-set functions of
:mod:`deepstep.train.metrics` on the concatenated batches (tested against scikit-learn).

:func:`get_metric` turns a name as passed to ``compile(metrics=[...])`` into a fresh metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_class_indices, check_int
from . import metrics as M

__all__ = [
    "Metric", "Accuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "Precision", "Recall", "F1Score", "AUC", "get_metric", "METRIC_NAMES",
]


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _true_labels(y_true: Any) -> np.ndarray:
    """``(N,)`` class indices from indices, ``(N, 1)`` indices or ``(N, K)`` one-hot rows."""
    arr = check_array(y_true, "y_true", ndim=(1, 2), shape_names="(N,) class indices or (N, K) one-hot")
    if arr.ndim == 2:
        arr = arr[:, 0] if arr.shape[1] == 1 else np.argmax(arr, axis=1)
    return check_class_indices(arr, "y_true")


def _predictions(y_pred: Any) -> np.ndarray:
    """Model outputs as float64 ``(N, K)`` scores, or ``(N,)`` for a single-unit output."""
    arr = check_array(y_pred, "y_pred", ndim=(1, 2), shape_names="(N, K) scores or (N,) binary scores")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError("y_pred must hold finite scores")
    return arr


def _predicted_classes(scores: np.ndarray, from_logits: bool) -> np.ndarray:
    if scores.ndim == 1:
        return (scores > (0.0 if from_logits else 0.5)).astype(np.int64)
    return np.argmax(scores, axis=1).astype(np.int64)


def _batch(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, s = _true_labels(y_true), _predictions(y_pred)
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"y_true and y_pred must hold the same number of samples, got {t.shape[0]} "
                         f"and {s.shape[0]}")
    return t, s, M._weights(sample_weight, t.shape[0])


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``, ``reset_state()``.

    Subclasses implement the three; ``name`` is the key of the value in the training logs.

    Examples
    --------
    A metric of your own (here: the mean predicted probability of the true class)::

        class TrueClassProbability(Metric):
            def __init__(self, name="true_class_probability"):
                super().__init__(name)

            def reset_state(self):
                self.total, self.count = 0.0, 0.0

            def update_state(self, y_true, y_pred, sample_weight=None):
                y_true = np.asarray(y_true)
                self.total += float(np.sum(y_pred[np.arange(len(y_true)), y_true]))
                self.count += len(y_true)

            def result(self):
                return self.total / self.count if self.count else 0.0
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _MeanOfCorrect(Metric):
    """Weighted fraction of correct samples; subclasses say which are correct."""

    def reset_state(self) -> None:
        self.correct = 0.0
        self.total = 0.0

    def _correct(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, s, w = _batch(y_true, y_pred, sample_weight)
        self.correct += float(np.sum(w * self._correct(t, s)))
        self.total += float(np.sum(w))

    def result(self) -> float:
        return self.correct / self.total if self.total > 0 else 0.0


class Accuracy(_MeanOfCorrect):
    """Fraction of samples whose predicted class (argmax, or threshold for one unit) is the true one."""

    def __init__(self, name: str = "accuracy", from_logits: bool = False) -> None:
        self.from_logits = check_bool(from_logits, "from_logits")
        super().__init__(name)

    def _correct(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        return _predicted_classes(s, self.from_logits) == t


class TopKCategoricalAccuracy(_MeanOfCorrect):
    """Fraction of samples whose true class is among the ``k`` highest scores (ties at the boundary count).

    See :func:`deepstep.train.metrics.top_k_accuracy`. Needs ``(N, K)`` scores.
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy") -> None:
        self.k = check_int(k, "k", minimum=1)
        super().__init__(name)

    def _correct(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        if s.ndim != 2:
            raise ValueError(f"{self.name} needs (N, K) class scores, got y_pred of shape {s.shape}")
        if t.size and t.max() >= s.shape[1]:
            raise ValueError(f"y_true holds class {int(t.max())} but y_pred has {s.shape[1]} classes")
        true_score = s[np.arange(t.shape[0]), t]
        return (s > true_score[:, None]).sum(axis=1) < self.k


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """:class:`TopKCategoricalAccuracy` under Keras' name for integer labels (both accept either form)."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy") -> None:
        super().__init__(k, name)


_AVERAGES = ("auto", "macro", "micro", "weighted", "binary")


class _ConfusionMetric(Metric):
    """Accumulates a weighted confusion matrix (grown as new classes appear) and reduces it at the end.

    ``average="auto"`` is ``"binary"`` (positive class 1) for two classes or a single-unit output, else
    ``"macro"``.
    """

    _which = 0  # index into (precision, recall, f1)

    def __init__(self, name: str, average: str = "auto", num_classes: int | None = None,
                 from_logits: bool = False) -> None:
        self.average = check_choice(average, "average", _AVERAGES)
        self.num_classes = None if num_classes is None else check_int(num_classes, "num_classes", minimum=1)
        self.from_logits = check_bool(from_logits, "from_logits")
        super().__init__(name)

    def reset_state(self) -> None:
        self.confusion = np.zeros((self.num_classes or 0,) * 2, dtype=np.float64)
        self._binary_output = False

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, s, w = _batch(y_true, y_pred, sample_weight)
        p = _predicted_classes(s, self.from_logits)
        self._binary_output |= s.ndim == 1
        width = s.shape[1] if s.ndim == 2 else 2
        k = max(self.confusion.shape[0], width, int(t.max(initial=0)) + 1)
        if self.num_classes is not None and k > self.num_classes:
            raise ValueError(f"{self.name}: num_classes is {self.num_classes} but the batch has "
                             f"class index {k - 1}")
        if k > self.confusion.shape[0]:
            grown = np.zeros((k, k))
            grown[:self.confusion.shape[0], :self.confusion.shape[0]] = self.confusion
            self.confusion = grown
        self.confusion += np.bincount(t * k + p, weights=w, minlength=k * k).reshape(k, k)

    def _resolved_average(self) -> str:
        if self.average != "auto":
            return self.average
        return "binary" if self._binary_output or self.confusion.shape[0] == 2 else "macro"

    def result(self) -> float:
        cm = self.confusion
        if cm.sum() == 0:
            return 0.0
        precision, recall = M._precision_recall(cm)
        f1 = M._safe_divide(2 * precision * recall, precision + recall)
        micro = float(np.trace(cm) / cm.sum())
        per_class = (precision, recall, f1)[self._which]
        return float(M._averaged(per_class, cm, self._resolved_average(), 1, micro))


class Precision(_ConfusionMetric):
    """Precision ``TP / (TP + FP)`` over every batch seen (see :func:`.metrics.precision_score`).

    Parameters
    ----------
    average : {"auto", "macro", "micro", "weighted", "binary"}
        ``"auto"``: binary (class 1 positive) for 2 classes or a single-unit output, else macro.
    num_classes : int, optional
        K, if known (otherwise grown from the scores' width and the labels).
    from_logits : bool
        A single-unit output is a logit (threshold 0) rather than a probability (threshold 0.5).
    """

    _which = 0

    def __init__(self, average: str = "auto", num_classes: int | None = None, from_logits: bool = False,
                 name: str = "precision") -> None:
        super().__init__(name, average, num_classes, from_logits)


class Recall(_ConfusionMetric):
    """Recall ``TP / (TP + FN)`` over every batch seen; parameters as :class:`Precision`."""

    _which = 1

    def __init__(self, average: str = "auto", num_classes: int | None = None, from_logits: bool = False,
                 name: str = "recall") -> None:
        super().__init__(name, average, num_classes, from_logits)


class F1Score(_ConfusionMetric):
    """F1 ``2 P R / (P + R)`` over every batch seen (macro: mean of per-class F1); parameters as Precision."""

    _which = 2

    def __init__(self, average: str = "auto", num_classes: int | None = None, from_logits: bool = False,
                 name: str = "f1_score") -> None:
        super().__init__(name, average, num_classes, from_logits)


class AUC(Metric):
    """Exact area under the ROC curve of a binary problem (ties count one half).

    Unlike Keras (which bins the scores into 200 thresholds), the scores of every batch are kept
    (24 bytes per sample) and the exact rank statistic of :func:`deepstep.train.metrics.roc_auc`
    is computed by ``result()``. The positive score is the single unit's output, or for two-column
    outputs ``y_pred[:, 1] - y_pred[:, 0]`` (increasing in the probability of class 1 for both
    probabilities and logits).
    """

    def __init__(self, name: str = "auc") -> None:
        super().__init__(name)

    def reset_state(self) -> None:
        self._labels: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, s, w = _batch(y_true, y_pred, sample_weight)
        if s.ndim == 2:
            if s.shape[1] != 2:
                raise ValueError(f"{self.name} is for binary problems: y_pred must have 1 or 2 columns, "
                                 f"got {s.shape[1]}")
            s = s[:, 1] - s[:, 0]
        if t.size and t.max() > 1:
            raise ValueError(f"{self.name} is for binary problems: y_true must hold 0 or 1, "
                             f"got {int(t.max())}")
        self._labels.append(t)
        self._scores.append(s)
        self._weights.append(w)

    def result(self) -> float:
        if not self._labels:
            return 0.0
        return M.roc_auc(np.concatenate(self._labels), np.concatenate(self._scores),
                         np.concatenate(self._weights))


_FACTORIES: dict[str, Any] = {
    "accuracy": Accuracy, "acc": lambda **kw: Accuracy(name="acc", **kw),
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision, "recall": Recall,
    "f1_score": F1Score, "f1": lambda **kw: F1Score(name="f1", **kw),
    "auc": AUC,
}
METRIC_NAMES = tuple(_FACTORIES)


def get_metric(metric: str | Metric, from_logits: bool = False) -> Metric:
    """A fresh metric for a name accepted by ``compile(metrics=[...])``, or ``metric`` itself.

    Parameters
    ----------
    metric : str or Metric
        One of :data:`METRIC_NAMES` (case-insensitive), or a Metric instance (returned as is).
    from_logits : bool
        Passed to the metrics that threshold a single-unit output (accuracy, precision, recall, F1).
    """
    if isinstance(metric, Metric):
        return metric
    if not isinstance(metric, str):
        raise TypeError(f"a metric must be a name or a Metric, got {type(metric).__name__}")
    key = metric.lower()
    check_choice(key, "metric", METRIC_NAMES)
    factory = _FACTORIES[key]
    if key in ("accuracy", "acc", "precision", "recall", "f1_score", "f1"):
        return factory(from_logits=from_logits)
    return factory()
