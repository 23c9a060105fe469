"""Losses from logits, numerically stable, each returning ``(loss, dlogits)``.

``loss`` is the mean over the batch, returned as a NumPy scalar of the input dtype
(``np.float32`` or ``np.float64``; ``float(loss)`` gives a Python float), and the
gradient has the input's shape and dtype. Nothing is upcast and nothing overflows:
logits of magnitude ``1e4`` give exact results without a RuntimeWarning.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_array, check_float_array
from .activations import stable_sigmoid

__all__ = ["softmax_cross_entropy", "binary_cross_entropy_with_logits", "mean_squared_error"]


def _check_probabilities(labels: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(labels)) or labels.min(initial=0) < 0 or labels.max(initial=0) > 1:
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values in "
            f"[{labels.min(initial=0)}, {labels.max(initial=0)}]"
        )


def softmax_cross_entropy(logits: np.ndarray, labels: Any) -> tuple[np.floating, np.ndarray]:
    """Mean softmax cross-entropy of ``logits`` against class indices or probability rows.

    With ``log p = logits - logsumexp(logits)`` (row-wise, max-shifted),

    - integer ``labels`` ``y`` of shape ``(N,)`` in ``[0, K)``:
      ``loss = -mean_n log p[n, y_n]``, ``dlogits = (p - onehot(y)) / N``;
    - floating ``labels`` ``Y`` of shape ``(N, K)``, values in ``[0, 1]`` (one-hot or
      soft targets, dtype of ``logits``): ``loss = -mean_n sum_k Y[n, k] log p[n, k]``,
      ``dlogits = (p * sum_k Y[n, k] - Y) / N`` (``(p - Y) / N`` when rows sum to 1).

    Parameters
    ----------
    logits : ndarray, (N, K), float32 or float64
    labels : ndarray, (N,) integer or (N, K) floating

    Returns
    -------
    loss : NumPy scalar of the logits' dtype
    dlogits : ndarray, (N, K), dtype of ``logits``

    Raises
    ------
    TypeError
        Non-float logits, non-integer 1-D labels (e.g. ``[0.0, 2.0]``), or probability
        labels of another dtype.
    ValueError
        Wrong shapes, an empty batch, class indices outside ``[0, K)`` or
        probabilities outside ``[0, 1]``.
    """
    logits = check_float_array(logits, "logits", 2, "(N, K)")
    n, k = logits.shape
    if n == 0 or k == 0:
        raise ValueError(f"logits must have at least one sample and one class, got shape {logits.shape}")
    labels = check_array(labels, "labels", (1, 2), "(N,) class indices or (N, K) probabilities")
    shifted = logits - logits.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):  # exp of very negative shifted logits underflows to 0: harmless
        log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_p = shifted - log_sum
        p = np.exp(log_p)
    inv_n = logits.dtype.type(1.0 / n)
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(
                f"1-D labels must be integer class indices, got dtype {labels.dtype}; "
                "pass (N, K) probability rows for soft targets"
            )
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape (N,) = ({n},) to match logits {logits.shape}, "
                             f"got {labels.shape}")
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"labels must be class indices in [0, {k}), got values in "
                             f"[{labels.min()}, {labels.max()}]")
        rows = np.arange(n)
        loss = -log_p[rows, labels].sum(dtype=logits.dtype) * inv_n
        dlogits = p
        dlogits[rows, labels] -= logits.dtype.type(1)
        dlogits *= inv_n
        return logits.dtype.type(loss), dlogits
    if not np.issubdtype(labels.dtype, np.floating):
        raise TypeError(f"(N, K) labels must be probabilities of dtype {logits.dtype}, got dtype "
                        f"{labels.dtype}; pass 1-D integer labels for class indices")
    if labels.dtype != logits.dtype:
        raise TypeError(f"labels must have the same dtype as logits ({logits.dtype}), got {labels.dtype}")
    if labels.shape != logits.shape:
        raise ValueError(f"labels must have the shape of logits {logits.shape}, got {labels.shape}")
    _check_probabilities(labels, "labels")
    # 0 * log p is 0 even where p underflows (log p stays finite: it is computed in log space).
    loss = -(labels * log_p).sum(dtype=logits.dtype) * inv_n
    dlogits = (p * labels.sum(axis=1, keepdims=True) - labels) * inv_n
    return logits.dtype.type(loss), dlogits


def binary_cross_entropy_with_logits(
    logits: np.ndarray, labels: np.ndarray
) -> tuple[np.floating, np.ndarray]:
    """Mean binary cross-entropy of ``sigmoid(logits)`` against ``labels`` in ``[0, 1]``.

    ``loss = mean(max(z, 0) - z * y + log1p(exp(-|z|)))``, the stable form of
    ``-mean(y log s + (1 - y) log(1 - s))`` with ``s = sigmoid(z)``;
    ``dlogits = (sigmoid(z) - y) / size``.

    Parameters
    ----------
    logits : ndarray, (N,) or (N, 1), float32 or float64
    labels : ndarray, shape and dtype of ``logits``, values in ``[0, 1]``

    Returns
    -------
    loss : NumPy scalar of the logits' dtype
    dlogits : ndarray, shape and dtype of ``logits``
    """
    logits = check_float_array(logits, "logits", (1, 2), "(N,) or (N, 1)")
    if logits.ndim == 2 and logits.shape[1] != 1:
        raise ValueError(f"logits must have shape (N,) or (N, 1), got {logits.shape}")
    if logits.size == 0:
        raise ValueError(f"logits must hold at least one sample, got shape {logits.shape}")
    labels = check_float_array(labels, "labels")
    if labels.dtype != logits.dtype:
        raise TypeError(f"labels must have the same dtype as logits ({logits.dtype}), got {labels.dtype}")
    if labels.shape != logits.shape:
        raise ValueError(f"labels must have the shape of logits {logits.shape}, got {labels.shape}")
    _check_probabilities(labels, "labels")
    inv_n = logits.dtype.type(1.0 / logits.size)
    zero = logits.dtype.type(0)
    with np.errstate(under="ignore"):
        per_sample = np.maximum(logits, zero) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    loss = per_sample.sum(dtype=logits.dtype) * inv_n
    dlogits = (stable_sigmoid(logits) - labels) * inv_n
    return logits.dtype.type(loss), dlogits


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Mean squared error ``mean((pred - target) ** 2)`` over every element.

    Parameters
    ----------
    pred : ndarray, any non-empty shape, float32 or float64
    target : ndarray, shape and dtype of ``pred``

    Returns
    -------
    loss : NumPy scalar of the dtype of ``pred``
    dpred : ``2 * (pred - target) / pred.size``, shape and dtype of ``pred``
    """
    pred = check_float_array(pred, "pred")
    target = check_float_array(target, "target")
    if target.dtype != pred.dtype:
        raise TypeError(f"target must have the same dtype as pred ({pred.dtype}), got {target.dtype}")
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    if pred.size == 0:
        raise ValueError(f"pred must hold at least one element, got shape {pred.shape}")
    diff = pred - target
    inv_n = pred.dtype.type(1.0 / pred.size)
    loss = (diff * diff).sum(dtype=pred.dtype) * inv_n
    return pred.dtype.type(loss), diff * (pred.dtype.type(2) * inv_n)
