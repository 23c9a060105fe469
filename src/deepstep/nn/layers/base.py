"""The Layer base class: parameters around stateless functional kernels (Module protocol)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._limits import check_elements
from ..._validation import check_choice, check_float_dtype
from ..module import Module
from ..parameter import Parameter
from ..shapes import as_shape
from ..symbolic import call_symbolic, is_symbolic

__all__ = ["Layer", "as_shape", "DATA_FORMATS"]

DATA_FORMATS = ("channels_last", "channels_first")
_KERNEL_FORMATS = {"channels_last": "NHWC", "channels_first": "NCHW"}


def check_data_format_name(data_format: Any) -> str:
    """Validate a Keras data format and return it ("channels_last" or "channels_first")."""
    return check_choice(data_format, "data_format", DATA_FORMATS)


def kernel_data_format(data_format: str) -> str:
    """Map Keras' "channels_last"/"channels_first" to the kernels' "NHWC"/"NCHW"."""
    return _KERNEL_FORMATS[data_format]


class Layer(Module):
    """Base class of every layer.

    A layer holds its :class:`~deepstep.nn.Parameter` objects and no per-call state: the
    maths lives in :mod:`deepstep.nn.functional` and each call's cache is returned to the caller.

    Life cycle: ``build(input_shape)`` creates the parameters from the input shape (batch
    axis excluded); ``forward(x, training) -> (out, cache)``; ``backward(dout, cache) -> dx``
    adds the parameter gradients into ``param.grad`` and returns the gradient with respect to
    the input. ``layer(x)`` on an array is ``forward(x)[0]`` (inference); on a symbolic tensor
    (:func:`deepstep.nn.Input`) it records a node of a functional model.

    Subclasses implement ``_build``, ``_forward(x, training) -> (out, cache)``,
    ``_backward(dout, cache)``, ``compute_output_shape`` and ``_config`` (their constructor
    arguments). A custom layer may hold other layers as attributes (e.g. ``self.conv_a =
    Conv2D(...)``), build them in ``_build`` and call their ``forward``/``backward`` from its own;
    their parameters are then named ``"conv_a/kernel"`` and so on.

    Parameters
    ----------
    name : str, optional
        Unique within a model; models assign ``"<kind>_<k>"`` (e.g. ``"conv2d_1"``) when omitted.

    Examples
    --------
    A custom layer with one weight per channel, ``y = x * scale``, registered so that
    ``deepstep.load`` rebuilds models that use it (the cache is returned, not kept)::

        import numpy as np
        import deepstep
        from deepstep.nn import Layer

        @deepstep.register
        class ChannelScale(Layer):
            kind = "channel_scale"

            def __init__(self, initial=1.0, name=None):
                super().__init__(name)
                self.initial = float(initial)

            def _build(self, input_shape, rng):
                self.scale = self.add_parameter(np.full(input_shape[-1:], self.initial), "scale")

            def _forward(self, x, training):
                return x * self.scale.value, x

            def _backward(self, dout, x):
                self.scale.grad += (dout * x).reshape(-1, x.shape[-1]).sum(axis=0)
                return dout * self.scale.value

            def _config(self):
                return {"initial": self.initial}
    """

    #: prefix of automatic names, e.g. "conv2d"
    kind = "layer"
    #: merge layers (Add, Concatenate, ...) take a list of inputs
    takes_list = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name or "/" in name or ":" in name):
            raise ValueError(f"name must be a non-empty string without '/' or ':', got {name!r}")
        self.name = name
        self.built = False
        self.input_shape: Any = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype = np.dtype(np.float32)
        self._params: list[Parameter] = []

    # ------------------------------------------------------------------ building
    def _check_input_shape(self, input_shape: Any) -> Any:
        return as_shape(input_shape)

    def build(self, input_shape: Any, rng: np.random.Generator | None = None,
              dtype: Any = None) -> None:
        """Create the parameters for inputs of shape ``(batch, *input_shape)``.

        Parameters
        ----------
        input_shape : tuple of int (a list of them for merge layers)
            The input shape without the batch axis, e.g. ``(64, 64, 3)``.
        rng : numpy.random.Generator, optional
            Source of the random initial weights (the model passes its seeded generator).
        dtype : "float32" or "float64", optional
            The parameters' dtype (default: the layer's, float32).
        """
        shape = self._check_input_shape(input_shape)
        if self.name is None:
            self.name = self.kind
        if dtype is not None:
            self.dtype = check_float_dtype(dtype)
        if rng is None:
            rng = np.random.default_rng()
        self._check_size(shape, "input_shape")
        out_shape = self.compute_output_shape(shape)
        self._check_size(out_shape, "output shape")
        self._params = []
        self._build(shape, rng)
        self.input_shape = shape
        self.output_shape = tuple(out_shape)
        self.built = True

    def _check_size(self, shape: Any, what: str) -> None:
        """One sample's ``shape`` (a list of shapes for merge layers) within the size budget, else a
        ``ValueError`` naming the layer (``input_shape`` 10**6 x 10**6 ends here, not in a MemoryError)."""
        shapes = shape if isinstance(shape, list) else [shape]
        for one in shapes:
            if isinstance(one, tuple) and all(isinstance(d, int) for d in one):
                check_elements(one, f"{self._label()}: {what} per sample", self.dtype)

    def _build(self, input_shape: Any, rng: np.random.Generator) -> None:
        """Create parameters (subclasses with weights override)."""

    def add_parameter(self, value: np.ndarray, name: str, trainable: bool = True) -> Parameter:
        """Register a parameter created in ``_build`` (its order fixes the save and optimizer order).

        Raises ValueError if the layer already has a parameter called ``name``.
        """
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"parameter name must be a non-empty string without '/', got {name!r}")
        if any(p.name == name for p in self._params):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) already has a parameter named "
                             f"{name!r}; parameter names must be unique within a layer")
        param = Parameter(np.ascontiguousarray(value, dtype=self.dtype), name, trainable)
        self._params.append(param)
        return param

    def compute_output_shape(self, input_shape: Any) -> tuple[int, ...]:
        """Output shape (batch axis excluded) for ``input_shape``; raises if the input does not fit."""
        return tuple(input_shape)

    def own_parameters(self) -> list[Parameter]:
        return list(self._params)

    # ------------------------------------------------------------------ passes
    def __call__(self, x: Any, training: bool = False) -> Any:
        """``forward(x, training)[0]`` for arrays; a symbolic output for symbolic tensors."""
        if is_symbolic(x):
            return call_symbolic(self, x)
        return self.forward(x, training)[0]

    def _label(self) -> str:
        return f"layer {self.name!r} ({type(self).__name__})"

    def _check_array(self, x: Any, shape: tuple[int, ...] | None, what: str = "input") -> None:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self._label()}: {what} must be a numpy.ndarray, got {type(x).__name__}")
        if x.dtype != self.dtype:
            raise TypeError(f"{self._label()} expects {self.dtype} {what}, got {x.dtype}")
        if shape is not None and (x.ndim != len(shape) + 1 or x.shape[1:] != shape):
            raise ValueError(f"{self._label()} expects {what} of shape (batch, "
                             f"{', '.join(map(str, shape))}), "
                             f"got {x.shape}")

    def _prepare(self, x: Any) -> Any:
        """Build from the first input if needed and check its dtype and shape."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self._label()}: input must be a numpy.ndarray, got {type(x).__name__}")
        if not self.built:
            if x.ndim < 2:
                raise ValueError(f"{self._label()}: input must have a batch axis, got shape {x.shape}")
            self.build(x.shape[1:], dtype=x.dtype if x.dtype in (np.float32, np.float64) else None)
        self._check_array(x, self.input_shape)
        return x

    def forward(self, x: Any, training: bool = False) -> tuple[Any, Any]:
        """``(output, cache)`` for ``x`` of shape ``(batch, *input_shape)``.

        An unbuilt layer builds itself from ``x.shape[1:]`` and ``x.dtype``.
        """
        x = self._prepare(x)
        out, cache = self._forward(x, bool(training))
        return out, (out.shape, cache)

    def backward(self, dout: np.ndarray, cache: Any) -> Any:
        """Gradient with respect to the input of the forward call that returned ``cache``;
        adds the parameter gradients into ``param.grad``."""
        if not isinstance(cache, tuple) or len(cache) != 2 or not isinstance(cache[0], tuple):
            raise TypeError(f"{self._label()}: cache must be the second value returned by its forward, "
                            f"got {type(cache).__name__}")
        out_shape, inner = cache
        if not isinstance(dout, np.ndarray) or dout.shape != out_shape:
            got = dout.shape if isinstance(dout, np.ndarray) else type(dout).__name__
            raise ValueError(f"{self._label()}: dout must have the forward output's shape {out_shape}, "
                             f"got {got}")
        return self._backward(dout, inner)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> Any:
        raise NotImplementedError

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
