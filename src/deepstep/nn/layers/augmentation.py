"""Augmentation layers (Keras names): random image transforms applied in training, the identity otherwise.

Each layer wraps the transform of the same name in :mod:`deepstep.data.augment` (NumPy, NHWC, one
random draw per image). ``forward(x, training=False)`` returns ``x`` unchanged; ``forward(x,
training=True)`` returns the transformed batch, drawing from ``layer.rng``: a
``numpy.random.Generator`` made from ``seed`` on first use, which a training loop may replace per
epoch, as it does for Dropout.

Gradients. A random transform of the input has no useful gradient, so these layers belong at the
input of a model, in front of the first layer with weights; in training that layer skips its input
gradient and the backward pass stops there, before reaching them. ``backward`` after an inference
forward is the identity (exact); after a training forward it raises, rather than return a
gradient that is not the transform's adjoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int
from ..functional import augment
from .base import Layer

__all__ = [
    "AugmentationLayer", "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom",
    "RandomBrightness", "RandomContrast",
]


class AugmentationLayer(Layer):
    """Base: ``self.transform`` (a :mod:`deepstep.data.augment` transform) in training, else the identity.

    ``rng`` is public: ``fit`` sets it each epoch from ``[seed, 1, epoch]``, as for Dropout.
    """

    kind = "augmentation"
    _transform_class: type

    def __init__(self, seed: int | None, name: str | None, **kwargs: Any) -> None:
        super().__init__(name)
        self.seed = None if seed is None else check_int(seed, "seed", minimum=0)
        self.transform = self._transform_class(**kwargs)
        self._kwargs = kwargs
        self.rng: np.random.Generator | None = None

    def _forward(self, x: np.ndarray, training: bool) -> tuple[np.ndarray, Any]:
        """The identity (cache None) at inference; the seeded transform (cache True) in training."""
        if not training:
            return x, None
        if self.rng is None:
            self.rng = np.random.default_rng(self.seed)
        return self.transform(x, self.rng), True

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        if cache is None:
            return dout
        raise RuntimeError(f"layer {self.name!r} ({type(self).__name__}) has no gradient in training: put "
                           "augmentation layers before the first layer with weights, where the backward "
                           "pass stops")

    def _config(self) -> dict[str, Any]:
        config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._kwargs.items()}
        return {**config, "seed": self.seed}


class RandomFlip(AugmentationLayer):
    """Random left-right and/or up-down flips (see :func:`deepstep.data.augment.random_flip`)."""

    kind = "random_flip"
    _transform_class = augment.RandomFlip

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(seed, name, mode=mode)


class RandomTranslation(AugmentationLayer):
    """Random shifts by fractions of the height and width (see :func:`.augment.random_translation`)."""

    kind = "random_translation"
    _transform_class = augment.RandomTranslation

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 name: str | None = None) -> None:
        super().__init__(seed, name, height_factor=height_factor, width_factor=width_factor,
                         fill_mode=fill_mode, interpolation=interpolation, fill_value=fill_value)


class RandomRotation(AugmentationLayer):
    """Random rotations by fractions of a full turn (see :func:`.augment.random_rotation`)."""

    kind = "random_rotation"
    _transform_class = augment.RandomRotation

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, name: str | None = None) -> None:
        super().__init__(seed, name, factor=factor, fill_mode=fill_mode, interpolation=interpolation,
                         fill_value=fill_value)


class RandomZoom(AugmentationLayer):
    """Random zooms in and out (see :func:`.augment.random_zoom`)."""

    kind = "random_zoom"
    _transform_class = augment.RandomZoom

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 name: str | None = None) -> None:
        super().__init__(seed, name, height_factor=height_factor, width_factor=width_factor,
                         fill_mode=fill_mode, interpolation=interpolation, fill_value=fill_value)


class RandomBrightness(AugmentationLayer):
    """Random brightness shifts (see :func:`.augment.random_brightness`).

    ``value_range`` defaults to ``(0, 1)``, the range of deepstep's scaled images (Keras: ``(0, 255)``).
    """

    kind = "random_brightness"
    _transform_class = augment.RandomBrightness

    def __init__(self, factor: Any, value_range: Any = (0.0, 1.0), seed: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(seed, name, factor=factor, value_range=tuple(value_range))


class RandomContrast(AugmentationLayer):
    """Random contrast changes (see :func:`.augment.random_contrast`); ``value_range`` as RandomBrightness."""

    kind = "random_contrast"
    _transform_class = augment.RandomContrast

    def __init__(self, factor: Any, value_range: Any = (0.0, 1.0), seed: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(seed, name, factor=factor, value_range=tuple(value_range))
