"""Fast, stateless kernels: each op is ``op(...) -> (out, cache)`` plus ``op_backward(dout, cache)``."""
