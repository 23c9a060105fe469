"""Neural-network building blocks: functional kernels (``deepstep.nn.functional``), parameters,
Keras-style layers (the Module protocol), losses, ``Sequential`` and the functional ``Model``.

``nn`` imports nothing from ``deepstep.train``, ``deepstep.io`` or ``deepstep.optim``: the
models' ``compile/fit/evaluate/predict/save`` delegate to what those packages register in
:mod:`deepstep.nn.backend` (``import deepstep`` imports them).
"""

from .layers import (
    Activation,
    Add,
    Average,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    Multiply,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    ZeroPadding2D,
    register_layer,
)
from .losses import Loss
from .model import Model
from .module import Module
from .parameter import Parameter
from .sequential import Sequential
from .symbolic import Input, SymbolicTensor

__all__ = [
    "Parameter", "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "BatchNormalization", "Sequential", "Activation", "Add",
    "Multiply", "Average", "Concatenate", "GlobalAveragePooling2D", "ZeroPadding2D", "Module", "Model",
    "Input", "SymbolicTensor", "register_layer", "RandomFlip", "RandomTranslation", "RandomRotation",
    "RandomZoom", "RandomBrightness", "RandomContrast", "Loss",
]
