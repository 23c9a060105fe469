"""Keras-style layers: parameters around the kernels of deepstep.nn.functional (Module protocol)."""

from __future__ import annotations

from .activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .augmentation import (
    AugmentationLayer,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from .base import Layer
from .conv import Conv2D
from .core import Dense, Dropout, Flatten
from .merge import Add, Average, Concatenate, Multiply
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, MaxPooling2D
from .reshaping import GlobalAveragePooling2D, ZeroPadding2D

#: class name -> class: the one registry from which models are rebuilt from their saved
#: architecture (:func:`register_layer` adds custom layers)
LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout, ReLU, LeakyReLU,
                Sigmoid, Tanh, Softmax, Activation, BatchNormalization, Add, Multiply, Average, Concatenate,
                GlobalAveragePooling2D, ZeroPadding2D, RandomFlip, RandomTranslation, RandomRotation,
                RandomZoom, RandomBrightness, RandomContrast)
}
_REGISTERED_NAMES: dict[type[Layer], str] = {}


def _redefinition(known: type, cls: type) -> bool:
    """Whether ``cls`` redefines ``known`` (same module and qualified name: a re-run cell or reload)."""
    return (known.__module__, known.__qualname__) == (cls.__module__, cls.__qualname__)


def register_layer(cls: type[Layer], name: str | None = None) -> type[Layer]:
    """Make a custom Layer subclass loadable by name (``deepstep.load``); returns ``cls``.

    Usable as a class decorator. ``name`` (default: the class name) is what saved files record;
    registering the same class again, or a redefinition of it (same module and qualified name, as
    when a notebook cell runs twice), is allowed; another class under a taken name is not.
    """
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise TypeError(f"register_layer needs a Layer subclass, got {cls!r}")
    key = cls.__name__ if name is None else name
    if not isinstance(key, str) or not key:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    known = LAYER_CLASSES.get(key)
    if known is not None and known is not cls and not _redefinition(known, cls):
        raise ValueError(f"another layer class ({known.__module__}.{known.__qualname__}) is already "
                         f"registered as {key!r}")
    LAYER_CLASSES[key] = cls
    _REGISTERED_NAMES[cls] = key
    return cls


def layer_class_name(layer: Layer) -> str:
    """The name a saved architecture records for ``layer``: its registered name, else its class name."""
    return _REGISTERED_NAMES.get(type(layer), type(layer).__name__)


def get_layer_class(class_name: str) -> type[Layer]:
    """The registered layer class called ``class_name``; ValueError listing the known ones otherwise."""
    if not isinstance(class_name, str) or class_name not in LAYER_CLASSES:
        raise ValueError(f"unknown layer class {class_name!r} (register custom layers with "
                         f"@deepstep.register); known: {', '.join(sorted(LAYER_CLASSES))}")
    return LAYER_CLASSES[class_name]


__all__ = [
    "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Activation", "BatchNormalization", "Add", "Multiply",
    "Average", "Concatenate", "GlobalAveragePooling2D", "ZeroPadding2D", "ACTIVATIONS", "get_activation",
    "LAYER_CLASSES", "register_layer", "get_layer_class", "layer_class_name", "AugmentationLayer",
    "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomBrightness", "RandomContrast",
]
