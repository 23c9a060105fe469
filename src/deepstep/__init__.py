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
