"""Classification metrics on integer class labels.

All functions take 1-D arrays of class indices ``y_true`` and ``y_pred`` of equal length (integer
dtype, or floats holding whole numbers such as ``1.0``). Convert scores first, e.g.
``y_pred = probabilities.argmax(axis=1)``.

Conventions: the confusion matrix has one row per *true* class and one column per *predicted* class
(scikit-learn's layout). Precision and recall of a class whose denominator is zero (never predicted,
resp. never present) are defined as 0, like scikit-learn's ``zero_division=0``.

Score-based metrics take the model's scores instead of predicted labels: :func:`top_k_accuracy`
(``(N, K)`` scores, probabilities or logits) and :func:`roc_auc` (binary, one score per sample).
Streaming versions for the fit loop (update per batch, then ``result()``) are in
:mod:`deepstep.train.metric_objects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_class_indices, check_int

__all__ = [
    "accuracy", "confusion_matrix", "precision_recall", "classification_report",
    "top_k_accuracy", "precision_score", "recall_score", "f1_score", "roc_auc", "AVERAGES",
]

AVERAGES = ("macro", "micro", "weighted", "binary", None)


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


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    """``sample_weight`` as float64 (N,) weights >= 0 (ones when None)."""
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = check_array(sample_weight, "sample_weight", ndim=1, shape_names="(N,)").astype(np.float64)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight must have one weight per sample ({n}), got {w.shape[0]}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must hold finite weights >= 0")
    return w


def _scores(y_score: Any, name: str = "y_score") -> np.ndarray:
    s = check_array(y_score, name, ndim=2, shape_names="(N, K) of class scores").astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} must hold finite scores")
    return s


def top_k_accuracy(y_true: Any, y_score: Any, k: int = 5, sample_weight: Any = None) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    A sample counts as correct when fewer than ``k`` classes score *strictly* higher than its
    true class, so classes tied at the boundary all count as in the top ``k`` (TensorFlow's
    ``in_top_k``; scikit-learn's ``top_k_accuracy_score`` breaks such ties by class order
    instead). Without ties the two agree. ``k >= K`` gives 1.

    Parameters
    ----------
    y_true : array_like, shape (N,)
        Integer class indices in ``0..K-1``.
    y_score : array_like, shape (N, K)
        Scores, probabilities or logits (any increasing transform gives the same result).
    k : int
        >= 1.
    sample_weight : array_like, shape (N,), optional
        Weighted mean instead of the plain mean.
    """
    s = _scores(y_score)
    t = check_class_indices(y_true, "y_true", num_classes=s.shape[1])
    k = check_int(k, "k", minimum=1)
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"y_true and y_score must have the same length, got {t.shape[0]} and {s.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true and y_score must hold at least one sample, got 0")
    w = _weights(sample_weight, t.shape[0])
    true_score = s[np.arange(t.shape[0]), t]
    correct = (s > true_score[:, None]).sum(axis=1) < k
    return float(np.sum(w * correct) / np.sum(w)) if np.sum(w) > 0 else 0.0


def _weighted_confusion(y_true: Any, y_pred: Any, num_classes: int | None, sample_weight: Any) -> np.ndarray:
    t, p = _pair(y_true, y_pred)
    k = _num_classes(t, p, num_classes)
    w = _weights(sample_weight, t.shape[0])
    return np.bincount(t * k + p, weights=w, minlength=k * k).reshape(k, k)


def _averaged(per_class: np.ndarray, cm: np.ndarray, average: str | None, pos_label: int,
              micro: float) -> float | np.ndarray:
    """Reduce per-class values of a confusion matrix ``cm`` as scikit-learn's ``average`` does."""
    if average is None:
        return per_class
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError(f"average='binary' needs 2 classes, got {cm.shape[0]}; "
                             "use average='macro', 'micro' or 'weighted'")
        if pos_label not in (0, 1):
            raise ValueError(f"pos_label must be 0 or 1 for average='binary', got {pos_label!r}")
        return float(per_class[pos_label]) if pos_label < per_class.shape[0] else 0.0
    if average == "micro":
        return micro
    if average == "weighted":
        support = cm.sum(axis=1)
        return float(per_class @ support / support.sum()) if support.sum() > 0 else 0.0
    return float(per_class.mean())


def _prf(y_true: Any, y_pred: Any, average: str | None, num_classes: int | None, pos_label: int,
         sample_weight: Any) -> tuple[Any, Any, Any]:
    check_choice(average, "average", AVERAGES)
    cm = _weighted_confusion(y_true, y_pred, num_classes, sample_weight)
    if average == "binary" and num_classes is None and cm.shape[0] == 1:
        cm = np.pad(cm, ((0, 1), (0, 1)))  # only class 0 seen: class 1 is there, with no samples
    precision, recall = _precision_recall(cm)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    total = cm.sum()
    micro = float(np.trace(cm) / total) if total > 0 else 0.0  # micro P = micro R = micro F1 = accuracy
    return tuple(_averaged(v, cm, average, pos_label, micro) for v in (precision, recall, f1))


_PRF_DOC = """

    Parameters
    ----------
    y_true, y_pred : array_like, shape (N,)
        Integer class indices >= 0.
    average : {"macro", "micro", "weighted", "binary", None}
        ``"macro"``: plain mean over the classes; ``"micro"``: from the summed counts (equals the
        accuracy for single-label data); ``"weighted"``: mean weighted by each class's support;
        ``"binary"``: the value of class ``pos_label`` (2 classes only); None: the per-class array.
    num_classes : int, optional
        K; defaults to ``max(y_true.max(), y_pred.max()) + 1``.
    pos_label : {0, 1}
        The positive class for ``average="binary"``.
    sample_weight : array_like, shape (N,), optional
        Weights of the samples in the counts.

    Returns
    -------
    float, or float64 ndarray of shape (K,) when ``average`` is None
"""


def precision_score(y_true: Any, y_pred: Any, average: str | None = "macro", num_classes: int | None = None,
                    pos_label: int = 1, sample_weight: Any = None) -> Any:
    return _prf(y_true, y_pred, average, num_classes, pos_label, sample_weight)[0]


def recall_score(y_true: Any, y_pred: Any, average: str | None = "macro", num_classes: int | None = None,
                 pos_label: int = 1, sample_weight: Any = None) -> Any:
    return _prf(y_true, y_pred, average, num_classes, pos_label, sample_weight)[1]


def f1_score(y_true: Any, y_pred: Any, average: str | None = "macro", num_classes: int | None = None,
             pos_label: int = 1, sample_weight: Any = None) -> Any:
    return _prf(y_true, y_pred, average, num_classes, pos_label, sample_weight)[2]


precision_score.__doc__ = "Precision ``TP / (TP + FP)`` (0 where nothing was predicted)." + _PRF_DOC
recall_score.__doc__ = "Recall ``TP / (TP + FN)`` (0 where the class is absent)." + _PRF_DOC
f1_score.__doc__ = ("F1 ``2 P R / (P + R)`` per class (0 where ``P + R = 0``); the macro and weighted "
                    "averages are means of the per-class F1, as in scikit-learn." + _PRF_DOC)


def roc_auc(y_true: Any, y_score: Any, sample_weight: Any = None) -> float:
    """Area under the ROC curve of a binary problem, from ranks (exact, ties count one half).

    ``AUC = P(score of a random positive > score of a random negative) + P(tie) / 2``, computed
    with one sort: for every distinct score ``u``, the positive weight at ``u`` times the negative
    weight below ``u`` plus half the negative weight at ``u``; divided by ``W_pos * W_neg``. This
    is the Mann-Whitney statistic, equal to scikit-learn's ``roc_auc_score`` (ties included).

    Parameters
    ----------
    y_true : array_like, shape (N,)
        0 (negative) or 1 (positive).
    y_score : array_like, shape (N,)
        Higher means more likely positive (probability or logit).
    sample_weight : array_like, shape (N,), optional

    Raises
    ------
    ValueError
        If only one class is present (the AUC is undefined), or labels other than 0/1.
    """
    t = check_class_indices(y_true, "y_true", num_classes=2)
    s = check_array(y_score, "y_score", ndim=1, shape_names="(N,) of scores").astype(np.float64)
    if s.shape != t.shape:
        raise ValueError(f"y_true and y_score must have the same length, got {t.shape[0]} and {s.shape[0]}")
    if not np.all(np.isfinite(s)):
        raise ValueError("y_score must hold finite scores")
    w = _weights(sample_weight, t.shape[0])
    return _auc_from_sorted(*_auc_histograms(t, s, w))


def _auc_histograms(t: np.ndarray, s: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative weight per distinct score, in increasing score order."""
    _, inverse = np.unique(s, return_inverse=True)
    size = int(inverse.max()) + 1 if inverse.size else 0
    pos = np.bincount(inverse, weights=w * (t == 1), minlength=size)
    neg = np.bincount(inverse, weights=w * (t == 0), minlength=size)
    return pos, neg


def _auc_from_sorted(pos: np.ndarray, neg: np.ndarray) -> float:
    total_pos, total_neg = float(pos.sum()), float(neg.sum())
    if total_pos <= 0 or total_neg <= 0:
        raise ValueError("the AUC needs both classes (0 and 1) among the samples, "
                         f"got positive weight {total_pos:g} and negative weight {total_neg:g}")
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + 0.5 * neg)) / (total_pos * total_neg))
