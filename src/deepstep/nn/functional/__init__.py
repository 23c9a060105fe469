"""Fast, stateless kernels: each op is ``op(...) -> (out, cache)`` plus ``op_backward(dout, cache)``."""

from .conv import conv2d, conv2d_backward, get_workspace_limit, set_workspace_limit

__all__ = ["conv2d", "conv2d_backward", "get_workspace_limit", "set_workspace_limit"]
