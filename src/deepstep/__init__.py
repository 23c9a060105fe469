"""deepstep: convolutional and deep neural networks, step by step, in NumPy.

Subpackages
-----------
course
    The Deep Learning Specialization's and CS231n's step-by-step API, as readable loops.
nn.functional
    Fast vectorized kernels: ``op(...) -> (out, cache)`` and ``op_backward(dout, cache)``.
gradcheck
    Numerical gradient checking.
nn
    The Module protocol, Keras-style layers, losses, ``Sequential`` and the functional ``Model``
    (``Input``, merge layers; compile / fit / evaluate / predict / save).
models
    The model zoo: signs_convnet, cat_dnn, mnist_cnn, digits_cnn, resnet_small (identity_block,
    convolutional_block).
register
    ``@deepstep.register``: custom layers and losses that ``deepstep.load`` rebuilds.
io
    Saving and loading models (one atomic ``.npz``); ``deepstep.load(path)``.
optim
    Optimizers (SGD, RMSprop, Adam, AdamW; pure update functions too) and learning-rate schedules.
init
    Weight initializers (zeros, ones, course_normal, LeCun, Glorot and He).
train
    The model-agnostic Trainer, metrics, callbacks (early stopping, checkpoints, schedules, progress
    bar) and ``TrainingError``.
data
    Dataset loaders (course HDF5, MNIST IDX, image folders, scikit-learn digits) and transforms.
viz
    Pictures (matplotlib): learning curves, confusion matrix, misclassified examples, filters.
cli
    The ``deepstep`` command (``python -m deepstep``): train, evaluate, predict, visualize, ...
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The training loop and the file format register themselves as the implementation of the
# models' compile/fit/evaluate/predict/save (deepstep.nn.backend); a parent package is always
# imported before deepstep.nn, so the methods work however deepstep.nn was reached.
from . import io as _io  # noqa: E402
from . import train as _train  # noqa: E402,F401
from .registry import register  # noqa: E402

__all__ = ["load", "register", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .nn.model import Model


def load(path: str | os.PathLike[str]) -> Model:
    """Load a model saved with ``model.save(path)``; see :func:`deepstep.io.load_model`."""
    return _io.load_model(path)
