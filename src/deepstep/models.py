"""The model zoo: the courses' networks and small ConvNets for MNIST and scikit-learn's digits.

Every builder returns an uncompiled, built :class:`~deepstep.nn.Sequential` whose last
layer outputs logits, and accepts ``dtype`` ("float32"/"float64") and ``seed``.
:data:`DEFAULT_LOSS` gives each model's usual loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._validation import check_int
from .nn import Conv2D, Dense, Flatten, MaxPooling2D, Sequential

__all__ = ["signs_convnet", "cat_dnn", "mnist_cnn", "digits_cnn", "get_model", "build_zoo_model",
           "MODEL_NAMES", "DEFAULT_LOSS"]


def signs_convnet(dtype: Any = "float32", seed: int | None = None, num_classes: int = 6,
                  input_shape: tuple[int, int, int] = (64, 64, 3)) -> Sequential:
    """The SIGNS ConvNet of the Deep Learning Specialization (course 4, week 1).

    CONV2D 4x4, 8 filters, stride 1, SAME -> ReLU -> MAXPOOL 8x8, stride 8, SAME ->
    CONV2D 2x2, 16 filters, stride 1, SAME -> ReLU -> MAXPOOL 4x4, stride 4, SAME ->
    FLATTEN -> DENSE 6 (logits; softmax cross-entropy). Input 64x64x3; Glorot-uniform
    ("Xavier") kernels as in the notebook. Parameters: 392 + 528 + 390 = 1,310.
    """
    return Sequential([
        Conv2D(8, 4, strides=1, padding="same", activation="relu"),
        MaxPooling2D(8, strides=8, padding="same"),
        Conv2D(16, 2, strides=1, padding="same", activation="relu"),
        MaxPooling2D(4, strides=4, padding="same"),
        Flatten(),
        Dense(check_int(num_classes, "num_classes", 2)),
    ], input_shape=input_shape, name="signs_convnet", dtype=dtype, seed=seed)


def cat_dnn(layers_dims: Sequence[int] = (12288, 20, 7, 5, 1), dtype: Any = "float32",
            seed: int | None = None) -> Sequential:
    """The L-layer cat classifier of the Deep Learning Specialization (course 1, week 4 application).

    ``layers_dims[0]`` inputs (flattened 64x64x3 images scaled to [0, 1]), ReLU hidden
    layers of ``layers_dims[1:-1]`` units and one output logit (binary cross-entropy).
    Kernels use ``lecun_normal`` (``randn / sqrt(n_prev)``, the application notebook's
    initialization), biases zeros.
    """
    if isinstance(layers_dims, str | bytes) or not isinstance(layers_dims, Sequence) or len(layers_dims) < 2:
        raise ValueError(f"layers_dims must be a sequence of >= 2 layer sizes, got {layers_dims!r}")
    dims = [check_int(d, f"layers_dims[{i}]", 1) for i, d in enumerate(layers_dims)]
    if dims[-1] != 1:
        raise ValueError(f"layers_dims[-1] must be 1 (one output logit, binary), got {dims[-1]}")
    layers = [Dense(units, activation="relu", kernel_initializer="lecun_normal") for units in dims[1:-1]]
    layers.append(Dense(1, kernel_initializer="lecun_normal"))
    return Sequential(layers, input_shape=(dims[0],), name="cat_dnn", dtype=dtype, seed=seed)


def _two_conv_cnn(filters: tuple[int, int], kernel_size: int, input_shape: tuple[int, int, int], name: str,
                  dtype: Any, seed: int | None, num_classes: int = 10) -> Sequential:
    """CONV -> ReLU -> MAXPOOL 2 -> CONV -> ReLU -> MAXPOOL 2 -> FLATTEN -> DENSE K (SAME, He-normal)."""
    return Sequential([
        Conv2D(filters[0], kernel_size, padding="same", activation="relu", kernel_initializer="he_normal"),
        MaxPooling2D(2),
        Conv2D(filters[1], kernel_size, padding="same", activation="relu", kernel_initializer="he_normal"),
        MaxPooling2D(2),
        Flatten(),
        Dense(check_int(num_classes, "num_classes", 2)),
    ], input_shape=input_shape, name=name, dtype=dtype, seed=seed)


def mnist_cnn(dtype: Any = "float32", seed: int | None = None, num_classes: int = 10,
              input_shape: tuple[int, int, int] = (28, 28, 1)) -> Sequential:
    """A small LeNet-style ConvNet for 28x28x1 digits (10 classes; other shapes and counts on request).

    CONV 5x5x8 SAME -> ReLU -> MAXPOOL 2 -> CONV 5x5x16 SAME -> ReLU -> MAXPOOL 2 ->
    FLATTEN (7*7*16 = 784) -> DENSE 10 (logits). He-normal kernels. 11,274 parameters.
    """
    return _two_conv_cnn((8, 16), 5, input_shape, "mnist_cnn", dtype, seed, num_classes)


def digits_cnn(dtype: Any = "float32", seed: int | None = None, num_classes: int = 10,
               input_shape: tuple[int, int, int] = (8, 8, 1)) -> Sequential:
    """A small ConvNet for scikit-learn's 8x8x1 digits (10 classes; other shapes and counts on request).

    CONV 3x3x16 SAME -> ReLU -> MAXPOOL 2 -> CONV 3x3x32 SAME -> ReLU -> MAXPOOL 2 ->
    FLATTEN (2*2*32 = 128) -> DENSE 10 (logits). He-normal kernels. 6,090 parameters.
    """
    return _two_conv_cnn((16, 32), 3, input_shape, "digits_cnn", dtype, seed, num_classes)


_BUILDERS: dict[str, Callable[..., Sequential]] = {
    "signs_convnet": signs_convnet,
    "cat_dnn": cat_dnn,
    "mnist_cnn": mnist_cnn,
    "digits_cnn": digits_cnn,
}

#: names accepted by :func:`get_model`
MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)

#: the loss each zoo model is trained with (its output is logits)
DEFAULT_LOSS: dict[str, str] = {
    "signs_convnet": "sparse_categorical_crossentropy",
    "cat_dnn": "binary_crossentropy",
    "mnist_cnn": "sparse_categorical_crossentropy",
    "digits_cnn": "sparse_categorical_crossentropy",
}


def build_zoo_model(name: str, input_shape: Sequence[int], num_classes: int, dtype: Any = "float32",
                    seed: int | None = None) -> Sequential:
    """The zoo model ``name`` built for images of ``input_shape`` ``(H, W, C)`` and ``num_classes`` classes.

    The ConvNets take the shape and class count as they are; ``cat_dnn`` takes the flattened
    image (``H * W * C`` inputs) and is binary (``num_classes`` must be 2: one logit).

    Raises
    ------
    ValueError
        For an unknown name, a shape that is not ``(H, W, C)``, or classes the model cannot predict.
    """
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"name must be one of {', '.join(repr(n) for n in MODEL_NAMES)}; got {name!r}")
    shape = tuple(check_int(s, "input_shape[i]", 1) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {tuple(input_shape)}")
    num_classes = check_int(num_classes, "num_classes", 2)
    if name == "cat_dnn":
        if num_classes != 2:
            raise ValueError(f"cat_dnn is a binary classifier (one output logit); it cannot predict "
                             f"{num_classes} classes")
        return cat_dnn((shape[0] * shape[1] * shape[2], 20, 7, 5, 1), dtype=dtype, seed=seed)
    return _BUILDERS[name](dtype=dtype, seed=seed, num_classes=num_classes, input_shape=shape)


def get_model(name: str, **kwargs: Any) -> Sequential:
    """Build the zoo model ``name`` (one of :data:`MODEL_NAMES`) with the builder's keyword arguments."""
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"name must be one of {', '.join(repr(n) for n in MODEL_NAMES)}; got {name!r}")
    try:
        return _BUILDERS[name](**kwargs)
    except TypeError as exc:
        raise TypeError(f"get_model({name!r}): {exc}") from exc
