"""The Layer base class: state (parameters, caches) around stateless functional kernels."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_choice, check_float_dtype
from ..parameter import Parameter

__all__ = ["Layer", "as_shape", "DATA_FORMATS"]

DATA_FORMATS = ("channels_last", "channels_first")
_KERNEL_FORMATS = {"channels_last": "NHWC", "channels_first": "NCHW"}


def as_shape(shape: Any, name: str = "input_shape") -> tuple[int, ...]:
    """Validate a shape without the batch axis: a non-empty tuple of positive ints."""
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or len(shape) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of positive ints (batch axis excluded), "
                        f"got {shape!r}")
    out = []
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise ValueError(f"{name} must hold positive ints (batch axis excluded), got {tuple(shape)!r}")
        out.append(int(dim))
    return tuple(out)


def check_data_format_name(data_format: Any) -> str:
    """Validate a Keras data format and return it ("channels_last" or "channels_first")."""
    return check_choice(data_format, "data_format", DATA_FORMATS)


def kernel_data_format(data_format: str) -> str:
    """Map Keras' "channels_last"/"channels_first" to the kernels' "NHWC"/"NCHW"."""
    return _KERNEL_FORMATS[data_format]


class Layer:
    """Base class of every layer.

    A layer holds state only: its :class:`~deepstep.nn.Parameter` objects and the cache
    of its last forward pass. The maths lives in :mod:`deepstep.nn.functional`.

    Life cycle: ``build(input_shape)`` creates the parameters from the input shape
    (batch axis excluded); ``forward(x, training)`` computes the output and keeps one
    cache; ``backward(dout)`` consumes that cache, accumulates parameter gradients into
    ``param.grad`` and returns the gradient with respect to the input.

    Subclasses implement ``_build``, ``_forward``, ``_backward``,
    ``compute_output_shape`` and ``_config`` (their constructor arguments).

    Parameters
    ----------
    name : str, optional
        Unique within a model; :class:`~deepstep.nn.Sequential` assigns ``"<kind>_<k>"``
        (e.g. ``"conv2d_1"``) when omitted.
    """

    #: prefix of automatic names, e.g. "conv2d"
    kind = "layer"

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"name must be a non-empty string without '/', got {name!r}")
        self.name = name
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype = np.dtype(np.float32)
        self._params: list[Parameter] = []
        self._cache: Any = None
        self._has_cache = False
        self._out_shape_seen: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ building
    def build(self, input_shape: Any, rng: np.random.Generator | None = None,
              dtype: Any = None) -> None:
        """Create the parameters for inputs of shape ``(batch, *input_shape)``.

        Parameters
        ----------
        input_shape : tuple of int
            The input shape without the batch axis, e.g. ``(64, 64, 3)``.
        rng : numpy.random.Generator, optional
            Source of the random initial weights (the model passes its seeded generator).
        dtype : "float32" or "float64", optional
            The parameters' dtype (default: the layer's, float32).
        """
        shape = as_shape(input_shape)
        if self.name is None:
            self.name = self.kind
        if dtype is not None:
            self.dtype = check_float_dtype(dtype)
        if rng is None:
            rng = np.random.default_rng()
        out_shape = self.compute_output_shape(shape)
        self._params = []
        self._build(shape, rng)
        self.input_shape = shape
        self.output_shape = out_shape
        self.built = True
        self._has_cache = False
        self._cache = None

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        """Create parameters (subclasses with weights override)."""

    def add_parameter(self, value: np.ndarray, name: str, trainable: bool = True) -> Parameter:
        """Register a parameter created in ``_build`` (its order fixes the save and optimizer order)."""
        param = Parameter(np.ascontiguousarray(value, dtype=self.dtype), name, trainable)
        self._params.append(param)
        return param

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape (batch axis excluded) for ``input_shape``; raises if the input does not fit."""
        return tuple(input_shape)

    # ------------------------------------------------------------------ passes
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Output of the layer for ``x`` of shape ``(batch, *input_shape)``.

        An unbuilt layer builds itself from ``x.shape[1:]`` and ``x.dtype``.
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"layer {self.name!r}: input must be a numpy.ndarray, got {type(x).__name__}")
        if not self.built:
            if x.ndim < 2:
                raise ValueError(f"layer {self.name!r}: input must have a batch axis, got shape {x.shape}")
            self.build(x.shape[1:], dtype=x.dtype if x.dtype in (np.float32, np.float64) else None)
        if x.dtype != self.dtype:
            raise TypeError(f"layer {self.name!r} ({type(self).__name__}) expects {self.dtype} input, "
                            f"got {x.dtype}")
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"layer {self.name!r} ({type(self).__name__}) expects input of shape "
                f"(batch, {', '.join(map(str, self.input_shape))}), got {x.shape}"
            )
        out = self._forward(x, bool(training))
        self._has_cache = True
        self._out_shape_seen = out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Gradient with respect to the last forward's input; accumulates parameter gradients."""
        if not self._has_cache:
            raise RuntimeError(f"layer {self.name!r}: backward called before forward")
        if not isinstance(dout, np.ndarray) or dout.shape != self._out_shape_seen:
            got = dout.shape if isinstance(dout, np.ndarray) else type(dout).__name__
            raise ValueError(f"layer {self.name!r}: dout must have the forward output's shape "
                             f"{self._out_shape_seen}, got {got}")
        dx = self._backward(dout)
        self._has_cache = False
        self._cache = None
        return dx

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters
    def parameters(self) -> list[Parameter]:
        """Every parameter, trainable and not, in a fixed order."""
        return list(self._params)

    def trainable_parameters(self) -> list[Parameter]:
        return [p for p in self._params if p.trainable]

    def zero_grad(self) -> None:
        for param in self._params:
            param.zero_grad()

    def count_params(self) -> int:
        """Number of scalars in all parameters (trainable and not)."""
        return sum(p.size for p in self._params)

    # ------------------------------------------------------------------ config
    def _config(self) -> dict[str, Any]:
        """Constructor arguments other than ``name`` (JSON-able)."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments: ``type(layer).from_config(layer.get_config())`` rebuilds it."""
        return {"name": self.name, **self._config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config needs a dict, got {type(config).__name__}")
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
