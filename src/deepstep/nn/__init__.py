"""Neural-network building blocks: functional kernels (``deepstep.nn.functional``), parameters."""

from .parameter import Parameter

__all__ = ["Parameter"]
