"""Keras-style layers: parameters around the kernels of deepstep.nn.functional (Module protocol)."""

from __future__ import annotations

from .activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation
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
                GlobalAveragePooling2D, ZeroPadding2D)
}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make a custom Layer subclass loadable by name (``deepstep.load``)."""
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise TypeError(f"register_layer needs a Layer subclass, got {cls!r}")
    known = LAYER_CLASSES.get(cls.__name__)
    if known is not None and known is not cls:
        raise ValueError(f"another layer class is already registered as {cls.__name__!r}")
    LAYER_CLASSES[cls.__name__] = cls
    return cls


def get_layer_class(class_name: str) -> type[Layer]:
    """The registered layer class called ``class_name``; ValueError listing the known ones otherwise."""
    if not isinstance(class_name, str) or class_name not in LAYER_CLASSES:
        raise ValueError(f"unknown layer class {class_name!r}; known: {', '.join(sorted(LAYER_CLASSES))} "
                         "(register custom layers with deepstep.nn.register_layer)")
    return LAYER_CLASSES[class_name]


__all__ = [
    "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Activation", "BatchNormalization", "Add", "Multiply",
    "Average", "Concatenate", "GlobalAveragePooling2D", "ZeroPadding2D", "ACTIVATIONS", "get_activation",
    "LAYER_CLASSES", "register_layer", "get_layer_class",
]
