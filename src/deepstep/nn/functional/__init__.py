"""Fast, stateless kernels: each op is ``op(...) -> (out, cache)`` plus ``op_backward(dout, cache)``.

Losses return ``(loss, dlogits)`` directly. All kernels accept float32 and float64 and keep the
input dtype; convolution and pooling accept NHWC and NCHW.

Convolution, pooling and batch normalization (channels last) have two implementations, chosen per
call by :mod:`._registry`: the NumPy reference (always there) and compiled Numba kernels
(``pip install deepstep[fast]``); ``DEEPSTEP_KERNELS=numpy|numba|auto`` or :func:`set_kernels`
selects them.
"""

from . import _registry
from ._parallel import get_num_threads, parallel_available, set_num_threads
from ._registry import describe as kernels_line
from ._registry import get_kernels, set_kernels
from .activations import (
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
from .conv import conv2d, conv2d_backward, get_workspace_limit, set_workspace_limit
from .dense import dense, dense_backward
from .dropout import dropout, dropout_backward
from .losses import binary_cross_entropy_with_logits, mean_squared_error, softmax_cross_entropy
from .normalization import batch_norm, batch_norm_backward
from .pool import pool2d, pool2d_backward

__all__ = [
    "batch_norm",
    "batch_norm_backward",
    "dropout",
    "dropout_backward",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "conv2d_backward",
    "dense",
    "dense_backward",
    "get_kernels",
    "kernels_line",
    "get_num_threads",
    "get_workspace_limit",
    "leaky_relu",
    "leaky_relu_backward",
    "mean_squared_error",
    "parallel_available",
    "pool2d",
    "pool2d_backward",
    "relu",
    "relu_backward",
    "set_kernels",
    "set_num_threads",
    "set_workspace_limit",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "tanh",
    "tanh_backward",
]


def _load_numba_kernels() -> None:
    from ._numba.register import register_all

    register_all()


_registry.register_loader("numba", _load_numba_kernels)
