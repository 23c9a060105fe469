"""After-training diagnostics: do BatchNormalization's moving statistics describe the data?

In inference mode a BatchNormalization layer normalizes with its moving mean and variance,
``running = momentum * running + (1 - momentum) * batch`` after every training step. After
``T`` steps the initial values (mean 0, variance 1) still weigh ``momentum ** T``, and the moving
average remembers about ``1 / (1 - momentum)`` steps, so with the default momentum 0.99 a short
run (a few hundred steps) ends with statistics that lag the network's actual activations: the
model can be accurate in training mode and at chance in inference mode.

:func:`batch_norm_lag` measures, for every BatchNormalization layer, how far its moving statistics
are from the statistics of its inputs on a sample of training data (in inference mode, which is
what ``predict`` sees); :func:`batch_norm_warnings` turns large gaps into messages suggesting a
momentum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int, check_real

__all__ = ["BatchNormLag", "batch_norm_lag", "batch_norm_warnings", "suggest_momentum"]

#: a moving mean further than this many batch standard deviations from the batch mean is flagged
MEAN_SHIFT_LIMIT = 0.5
#: a moving variance more than this factor above or below the batch variance is flagged
VARIANCE_RATIO_LIMIT = 2.0


@dataclass(frozen=True)
class BatchNormLag:
    """The gap between one BatchNormalization layer's moving statistics and its inputs' statistics.

    Attributes
    ----------
    layer : str
        The layer's name.
    momentum : float
        The layer's momentum.
    mean_shift : float
        ``max_c |mean_c - moving_mean_c| / sqrt(var_c + epsilon)`` over the channels ``c``.
    variance_ratio : float
        ``max_c max(r_c, 1 / r_c)`` with ``r_c = (moving_var_c + epsilon) / (var_c + epsilon)`` (>= 1).
    """

    layer: str
    momentum: float
    mean_shift: float
    variance_ratio: float

    @property
    def lags(self) -> bool:
        """True when the gap is larger than :data:`MEAN_SHIFT_LIMIT` or :data:`VARIANCE_RATIO_LIMIT`."""
        return self.mean_shift > MEAN_SHIFT_LIMIT or self.variance_ratio > VARIANCE_RATIO_LIMIT


def _is_batch_norm(layer: Any) -> bool:
    names = ("moving_mean", "moving_variance", "momentum")
    return all(getattr(layer, name, None) is not None for name in names)


def batch_norm_lag(model: Any, x: np.ndarray, max_samples: int = 512) -> list[BatchNormLag]:
    """Compare every BatchNormalization layer's moving statistics with its inputs' statistics.

    The first ``max_samples`` samples of ``x`` (training inputs, in the model's layout) run through
    the model (a chain or a graph) in inference mode; at each BatchNormalization layer the mean and
    the variance of its input over every axis but ``layer.axis`` are compared with ``moving_mean`` and
    ``moving_variance``. Nothing in the model changes.

    Parameters
    ----------
    model : deepstep.nn.Model
        Anything with ``modules()`` and ``forward(x, training=False)``.
    x : ndarray, shape (N, ...)
    max_samples : int, >= 2

    Returns
    -------
    list of BatchNormLag, one per BatchNormalization layer, in order (empty when there is none).
    """
    max_samples = check_int(max_samples, "max_samples", minimum=2)
    layers = [m for m in model.modules() if _is_batch_norm(m)]
    if not layers:
        return []
    inputs: dict[int, np.ndarray] = {}

    def recorder(layer: Any) -> Any:
        forward = type(layer).forward

        def record(x: Any, training: bool = False) -> Any:
            inputs.setdefault(id(layer), np.asarray(x))
            return forward(layer, x, training)

        return record

    for layer in layers:  # instance attributes shadow the class's forward while the sample runs
        layer.forward = recorder(layer)
    try:
        model.forward(np.asarray(x)[:max_samples], training=False)
    finally:
        for layer in layers:
            del layer.forward
    results = []
    for layer in layers:
        activation = inputs[id(layer)]
        axis = int(getattr(layer, "axis", -1)) % activation.ndim
        reduce = tuple(a for a in range(activation.ndim) if a != axis)
        values = activation.astype(np.float64)
        mean, var = values.mean(axis=reduce), values.var(axis=reduce)
        eps = float(getattr(layer, "epsilon", 1e-3))
        moving_mean = np.asarray(layer.moving_mean.value, dtype=np.float64)
        moving_var = np.asarray(layer.moving_variance.value, dtype=np.float64)
        shift = float(np.max(np.abs(mean - moving_mean) / np.sqrt(var + eps)))
        ratio = (moving_var + eps) / (var + eps)
        results.append(BatchNormLag(str(layer.name), float(layer.momentum), shift,
                                    float(np.max(np.maximum(ratio, 1.0 / ratio)))))
    return results


def suggest_momentum(total_steps: int) -> float:
    """A momentum whose memory ``1 / (1 - momentum)`` is at most a tenth of the training steps.

    ``1 - 10 / total_steps``, kept within [0.9, 0.99] (below 0.9 the moving statistics follow the
    noise of single batches), rounded down to two decimals.
    """
    total_steps = check_int(total_steps, "total_steps", minimum=1)
    return float(np.clip(np.floor((1.0 - 10.0 / total_steps) * 100) / 100, 0.9, 0.99))


def batch_norm_warnings(model: Any, x: np.ndarray, total_steps: int | None = None,
                        max_samples: int = 512, mean_limit: float = MEAN_SHIFT_LIMIT,
                        variance_limit: float = VARIANCE_RATIO_LIMIT) -> list[str]:
    """One message per BatchNormalization layer whose moving statistics lag its inputs' statistics.

    Parameters
    ----------
    model, x, max_samples
        As in :func:`batch_norm_lag`.
    total_steps : int, optional
        The number of training steps run; with it the message suggests a momentum
        (:func:`suggest_momentum`).
    mean_limit, variance_limit : float
        The thresholds on :attr:`BatchNormLag.mean_shift` and :attr:`BatchNormLag.variance_ratio`.

    Returns
    -------
    list of str (empty when every layer's moving statistics are close to the data's).
    """
    mean_limit = check_real(mean_limit, "mean_limit", 0.0, inclusive_min=False)
    variance_limit = check_real(variance_limit, "variance_limit", 1.0, inclusive_min=False)
    messages = []
    for lag in batch_norm_lag(model, x, max_samples):
        if lag.mean_shift <= mean_limit and lag.variance_ratio <= variance_limit:
            continue
        advice = "train longer or lower its momentum"
        if total_steps is not None:
            suggested = suggest_momentum(total_steps)
            if suggested < lag.momentum:
                advice = f"try momentum={suggested:g} (after {total_steps} steps) or train longer"
            else:
                advice = "train longer"
        messages.append(
            f"BatchNormalization {lag.layer!r} (momentum {lag.momentum:g}): its moving statistics lag the "
            f"data's (mean off by {lag.mean_shift:.2f} standard deviations, variance off by a factor "
            f"{lag.variance_ratio:.2f}), so inference-mode outputs differ from training mode; {advice}"
        )
    return messages
