"""Classification metrics on integer class labels.

All functions take 1-D arrays of class indices ``y_true`` and ``y_pred`` of equal length (integer
dtype, or floats holding whole numbers such as ``1.0``). Convert scores first, e.g.
``y_pred = probabilities.argmax(axis=1)``.

Conventions: the confusion matrix has one row per *true* class and one column per *predicted* class
(scikit-learn's layout). Precision and recall of a class whose denominator is zero (never predicted,
resp. never present) are defined as 0, like scikit-learn's ``zero_division=0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_class_indices, check_int

__all__ = ["accuracy", "confusion_matrix", "precision_recall", "classification_report"]


def _labels(y: Any, name: str) -> np.ndarray:
    return check_class_indices(y, name)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true and y_pred must hold at least one sample, got 0")
    return t, p


def _num_classes(t: np.ndarray, p: np.ndarray, num_classes: Any) -> int:
    largest = int(max(t.max(), p.max()))
    if num_classes is None:
        return largest + 1
    k = check_int(num_classes, "num_classes", minimum=1)
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.max() >= k:
            raise ValueError(f"{name} holds class index {int(arr.max())} but num_classes is {k} "
                             f"(indices must be < num_classes)")
    return k


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples with ``y_pred == y_true``.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (N,)
        Integer class indices >= 0.
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (N,)
        Integer class indices >= 0.
    num_classes : int, optional
        K; defaults to ``max(y_true.max(), y_pred.max()) + 1``. Every label must be < K.

    Returns
    -------
    numpy.ndarray of int64, shape (K, K)
        Rows = true class, columns = predicted class.
    """
    t, p = _pair(y_true, y_pred)
    k = _num_classes(t, p, num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall(y_true: Any, y_pred: Any, num_classes: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision ``TP / (TP + FP)`` and recall ``TP / (TP + FN)``.

    A 0/0 ratio (class never predicted for precision, never present for recall) is defined as 0.

    Returns
    -------
    (precision, recall) : tuple of float64 ndarrays, shape (K,)
    """
    return _precision_recall(confusion_matrix(y_true, y_pred, num_classes))


def _precision_recall(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (over columns: predicted) and recall (over rows: true) of a confusion matrix."""
    tp = np.diag(cm).astype(np.float64)
    return _safe_divide(tp, cm.sum(axis=0)), _safe_divide(tp, cm.sum(axis=1))


def classification_report(y_true: Any, y_pred: Any, num_classes: int | None = None,
                          class_names: Sequence[str] | None = None, digits: int = 3) -> str:
    """A readable table of precision, recall, F1 and support per class, plus accuracy and averages.

    F1 is ``2 P R / (P + R)`` (0 when ``P + R = 0``). The macro average is the plain mean over
    classes; the weighted average weights each class by its support (number of true samples).

    Parameters
    ----------
    class_names : sequence of str, optional
        One name per class (length K); defaults to the class indices.
    digits : int
        Decimal places of the ratios.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    k = cm.shape[0]
    digits = check_int(digits, "digits", minimum=0)
    if class_names is None:
        names = [str(i) for i in range(k)]
    else:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise TypeError(f"class_names must be a sequence of str, got {type(class_names).__name__}")
        if len(class_names) != k:
            raise ValueError(f"class_names must have one name per class ({k}), got {len(class_names)}")
        names = [str(n) for n in class_names]
    precision, recall = _precision_recall(cm)
    support = cm.sum(axis=1)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    total = int(support.sum())
    weights = support / total

    width = max(len("weighted avg"), *(len(n) for n in names))
    col = max(9, digits + 3)
    titles = ("precision", "recall", "f1-score", "support")
    header = f"{'':>{width}} " + "".join(f"{h:>{col}}" for h in titles)
    lines = [header, ""]
    for i, name in enumerate(names):
        lines.append(f"{name:>{width}} {precision[i]:>{col}.{digits}f}{recall[i]:>{col}.{digits}f}"
                     f"{f1[i]:>{col}.{digits}f}{support[i]:>{col}d}")
    lines.append("")
    acc = float(np.trace(cm) / total)
    lines.append(f"{'accuracy':>{width}} {'':>{col}}{'':>{col}}{acc:>{col}.{digits}f}{total:>{col}d}")
    averages = (("macro avg", lambda a: float(a.mean())), ("weighted avg", lambda a: float(a @ weights)))
    for label, avg in averages:
        lines.append(f"{label:>{width}} {avg(precision):>{col}.{digits}f}{avg(recall):>{col}.{digits}f}"
                     f"{avg(f1):>{col}.{digits}f}{total:>{col}d}")
    return "\n".join(lines) + "\n"
