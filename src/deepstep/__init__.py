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
    Keras-style layers, losses and ``Sequential`` (compile / fit / evaluate / predict / save).
models
    The model zoo: signs_convnet, cat_dnn, mnist_cnn, digits_cnn.
io
    Saving and loading models (one atomic ``.npz``); ``deepstep.load(path)``.
optim
    Optimizers (SGD, RMSprop, Adam, AdamW; pure update functions too) and learning-rate schedules.
init
    Weight initializers (zeros, ones, course_normal, LeCun, Glorot and He).
train
    Metrics, callbacks (early stopping, checkpoints, schedules, progress bar) and ``TrainingError``.
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

if TYPE_CHECKING:  # pragma: no cover
    from .nn.sequential import Sequential

__version__ = "0.1.0"


def load(path: str | os.PathLike[str]) -> Sequential:
    """Load a model saved with ``model.save(path)``; see :func:`deepstep.io.load_model`.

    Imported lazily so that ``import deepstep`` stays light.
    """
    from .io import load_model

    return load_model(path)
