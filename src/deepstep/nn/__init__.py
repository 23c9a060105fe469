"""Neural-network building blocks: functional kernels (``deepstep.nn.functional``), parameters,
Keras-style layers, losses and the Sequential model."""

from .layers import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .parameter import Parameter
from .sequential import Sequential

__all__ = [
    "Parameter", "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "BatchNormalization", "Sequential",
]
