"""Keras-style layers: state (parameters, caches) around the kernels of deepstep.nn.functional."""

from .activations import ACTIVATIONS, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .base import Layer
from .conv import Conv2D
from .core import Dense, Dropout, Flatten
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, MaxPooling2D

#: class name -> class, for rebuilding models from their saved architecture
LAYER_CLASSES = {
    cls.__name__: cls
    for cls in (Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout, ReLU, LeakyReLU,
                Sigmoid, Tanh, Softmax, BatchNormalization)
}

__all__ = [
    "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "BatchNormalization", "ACTIVATIONS", "get_activation",
    "LAYER_CLASSES",
]
