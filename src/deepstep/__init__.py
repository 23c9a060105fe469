"""deepstep: convolutional and deep neural networks, step by step, in NumPy.

Subpackages
-----------
course
    The Deep Learning Specialization's and CS231n's step-by-step API, as readable loops.
nn.functional
    Fast vectorized kernels: ``op(...) -> (out, cache)`` and ``op_backward(dout, cache)``.
gradcheck
    Numerical gradient checking.
"""

__version__ = "0.1.0"


def load(path):  # noqa: ANN001, ANN201 - thin wrapper, documented in deepstep.io.load_model
    """Load a model saved with ``model.save(path)``; see :func:`deepstep.io.load_model`."""
    from .io import load_model

    return load_model(path)
