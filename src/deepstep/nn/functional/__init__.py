"""Fast, stateless kernels: each op is ``op(...) -> (out, cache)`` plus ``op_backward(dout, cache)``."""

# Element-wise activations, dense, losses and pooling (helper `pool`).
from .activations import (  # noqa: F401
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from .dense import dense, dense_backward  # noqa: F401
from .losses import (  # noqa: F401
    binary_cross_entropy_with_logits,
    mean_squared_error,
    softmax_cross_entropy,
)
from .pool import pool2d, pool2d_backward  # noqa: F401
