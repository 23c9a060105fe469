"""The model zoo: the courses' networks, small ConvNets for MNIST and scikit-learn's digits, and
residual networks built with the functional API.

Every model builder returns an uncompiled, built model (:class:`~deepstep.nn.Sequential` or
:class:`~deepstep.nn.Model`) whose last layer outputs logits, and accepts ``dtype``
("float32"/"float64") and ``seed``. :data:`DEFAULT_LOSS` gives each model's usual loss.
:func:`identity_block` and :func:`convolutional_block` are the Residual Networks notebook's blocks
as reusable functions on symbolic tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._validation import check_int
from .nn import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    Model,
    Sequential,
    SymbolicTensor,
    ZeroPadding2D,
)

__all__ = ["signs_convnet", "signs_convnet_functional", "cat_dnn", "mnist_cnn", "digits_cnn",
           "identity_block", "convolutional_block", "resnet_small", "resnet_mnist", "get_model",
           "build_zoo_model", "MODEL_NAMES", "DEFAULT_LOSS"]


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


def signs_convnet_functional(dtype: Any = "float32", seed: int | None = None, num_classes: int = 6,
                             input_shape: tuple[int, int, int] = (64, 64, 3)) -> Model:
    """:func:`signs_convnet` written with the functional API, as the course's ConvNet notebook does
    (``Input``, layer calls, ``Model(inputs, outputs)``); with the same seed, the same weights."""
    inputs = Input(input_shape)
    x = Conv2D(8, 4, strides=1, padding="same", activation="relu")(inputs)
    x = MaxPooling2D(8, strides=8, padding="same")(x)
    x = Conv2D(16, 2, strides=1, padding="same", activation="relu")(x)
    x = MaxPooling2D(4, strides=4, padding="same")(x)
    outputs = Dense(check_int(num_classes, "num_classes", 2))(Flatten()(x))
    return Model(inputs, outputs, name="signs_convnet", dtype=dtype, seed=seed)


def _conv_bn(x: SymbolicTensor, filters: int, kernel_size: int, strides: int, padding: str, name: str,
             bn_momentum: float, kernel_initializer: Any, relu: bool) -> SymbolicTensor:
    """CONV2D -> BatchNorm (channels last) -> optional ReLU.

    The layers are named ``<name>``, ``<name>_bn`` and ``<name>_relu``.
    """
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, kernel_initializer=kernel_initializer,
               name=name)(x)
    x = BatchNormalization(momentum=bn_momentum, axis=-1, name=f"{name}_bn")(x)
    return Activation("relu", name=f"{name}_relu")(x) if relu else x


def identity_block(x: SymbolicTensor, f: int, filters: Sequence[int], name: str, bn_momentum: float = 0.99,
                   kernel_initializer: Any = "glorot_uniform") -> SymbolicTensor:
    """The course's identity block: the main path and the unchanged input are added, then ReLU.

    Main path: CONV 1x1 (F1, valid) -> BN -> ReLU -> CONV fxf (F2, same) -> BN -> ReLU ->
    CONV 1x1 (F3, valid) -> BN. Output ``ReLU(main + x)``; ``x`` must have F3 channels.
    Layers are named ``<name>_conv1``, ``<name>_conv1_bn``, ..., ``<name>_add``, ``<name>_out``.

    Parameters
    ----------
    x : SymbolicTensor
        ``(None, H, W, F3)``.
    f : int
        The middle convolution's window.
    filters : (F1, F2, F3)
    name : str
        Prefix of the layer names (e.g. ``"stage2_b"``), which makes parameter paths stable.
    """
    f1, f2, f3 = _three(filters)
    if x.shape[-1] != f3:
        raise ValueError(f"identity_block {name!r}: the input has {x.shape[-1]} channels but filters[2] "
                         f"is {f3}; "
                         "the shortcut needs them equal (use convolutional_block to change the channels)")
    y = _conv_bn(x, f1, 1, 1, "valid", f"{name}_conv1", bn_momentum, kernel_initializer, True)
    y = _conv_bn(y, f2, f, 1, "same", f"{name}_conv2", bn_momentum, kernel_initializer, True)
    y = _conv_bn(y, f3, 1, 1, "valid", f"{name}_conv3", bn_momentum, kernel_initializer, False)
    y = Add(name=f"{name}_add")([y, x])
    return Activation("relu", name=f"{name}_out")(y)


def convolutional_block(x: SymbolicTensor, f: int, filters: Sequence[int], name: str, s: int = 2,
                        bn_momentum: float = 0.99, kernel_initializer: Any = "glorot_uniform"
                        ) -> SymbolicTensor:
    """The course's convolutional block: like :func:`identity_block`, with a CONV 1x1 (F3, stride s)
    -> BN on the shortcut, so that the block can change the size (stride ``s``) and the channels.

    Main path: CONV 1x1 (F1, stride s, valid) -> BN -> ReLU -> CONV fxf (F2, same) -> BN -> ReLU ->
    CONV 1x1 (F3, valid) -> BN. Output ``ReLU(main + BN(CONV_1x1_s(x)))``.
    """
    f1, f2, f3 = _three(filters)
    s = check_int(s, "s", 1)
    y = _conv_bn(x, f1, 1, s, "valid", f"{name}_conv1", bn_momentum, kernel_initializer, True)
    y = _conv_bn(y, f2, f, 1, "same", f"{name}_conv2", bn_momentum, kernel_initializer, True)
    y = _conv_bn(y, f3, 1, 1, "valid", f"{name}_conv3", bn_momentum, kernel_initializer, False)
    shortcut = _conv_bn(x, f3, 1, s, "valid", f"{name}_shortcut", bn_momentum, kernel_initializer, False)
    y = Add(name=f"{name}_add")([y, shortcut])
    return Activation("relu", name=f"{name}_out")(y)


def _three(filters: Sequence[int]) -> tuple[int, int, int]:
    if isinstance(filters, str) or not isinstance(filters, Sequence) or len(filters) != 3:
        raise ValueError(f"filters must be three ints (F1, F2, F3), got {filters!r}")
    f1, f2, f3 = (check_int(v, f"filters[{i}]", 1) for i, v in enumerate(filters))
    return f1, f2, f3


def resnet_small(dtype: Any = "float32", seed: int | None = None, num_classes: int = 6,
                 input_shape: tuple[int, int, int] = (64, 64, 3), width: int = 8,
                 name: str = "resnet_small") -> Model:
    """A small residual network (the course's ResNet50 in miniature) that trains on a CPU in minutes.

    ZEROPAD 1 -> CONV 3x3 (2w, stride 2) -> BN -> ReLU -> MAXPOOL 2 ->
    convolutional block (w, w, 4w; s=1) -> identity block (w, w, 4w) ->
    convolutional block (2w, 2w, 8w; s=2) -> identity block (2w, 2w, 8w) ->
    GLOBAL AVERAGE POOL -> DENSE ``num_classes`` (logits). He-normal kernels; batch-norm momentum
    0.9 (running statistics that settle within a few short epochs). ``width`` w = 8 gives 15,622
    parameters for 64x64x3 inputs and 6 classes; a 64x64 image is 16x16 after the stem.
    """
    width = check_int(width, "width", 1)
    init, mom = "he_normal", 0.9
    inputs = Input(input_shape)
    x = ZeroPadding2D(1, name="stem_pad")(inputs)
    x = _conv_bn(x, 2 * width, 3, 2, "valid", "stem_conv", mom, init, True)
    x = MaxPooling2D(2, name="stem_pool")(x)
    x = convolutional_block(x, 3, (width, width, 4 * width), "stage1_a", s=1, bn_momentum=mom,
                            kernel_initializer=init)
    x = identity_block(x, 3, (width, width, 4 * width), "stage1_b", bn_momentum=mom, kernel_initializer=init)
    x = convolutional_block(x, 3, (2 * width, 2 * width, 8 * width), "stage2_a", s=2, bn_momentum=mom,
                            kernel_initializer=init)
    x = identity_block(x, 3, (2 * width, 2 * width, 8 * width), "stage2_b", bn_momentum=mom,
                       kernel_initializer=init)
    x = GlobalAveragePooling2D(name="pool")(x)
    outputs = Dense(check_int(num_classes, "num_classes", 2), name="logits")(x)
    return Model(inputs, outputs, name=name, dtype=dtype, seed=seed)


def resnet_mnist(dtype: Any = "float32", seed: int | None = None, num_classes: int = 10,
                 input_shape: tuple[int, int, int] = (28, 28, 1)) -> Model:
    """:func:`resnet_small` for 28x28x1 digits and 10 classes (7x7 after the stem)."""
    return resnet_small(dtype=dtype, seed=seed, num_classes=num_classes, input_shape=input_shape,
                        name="resnet_mnist")


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


_BUILDERS: dict[str, Callable[..., Model]] = {
    "signs_convnet": signs_convnet,
    "cat_dnn": cat_dnn,
    "mnist_cnn": mnist_cnn,
    "digits_cnn": digits_cnn,
    "resnet_small": resnet_small,
    "resnet_mnist": resnet_mnist,
}

#: names accepted by :func:`get_model`
MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)

#: the loss each zoo model is trained with (its output is logits)
DEFAULT_LOSS: dict[str, str] = {
    "signs_convnet": "sparse_categorical_crossentropy",
    "cat_dnn": "binary_crossentropy",
    "mnist_cnn": "sparse_categorical_crossentropy",
    "digits_cnn": "sparse_categorical_crossentropy",
    "resnet_small": "sparse_categorical_crossentropy",
    "resnet_mnist": "sparse_categorical_crossentropy",
}


def build_zoo_model(name: str, input_shape: Sequence[int], num_classes: int, dtype: Any = "float32",
                    seed: int | None = None) -> Model:
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


def get_model(name: str, **kwargs: Any) -> Model:
    """Build the zoo model ``name`` (one of :data:`MODEL_NAMES`) with the builder's keyword arguments."""
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"name must be one of {', '.join(repr(n) for n in MODEL_NAMES)}; got {name!r}")
    try:
        return _BUILDERS[name](**kwargs)
    except TypeError as exc:
        raise TypeError(f"get_model({name!r}): {exc}") from exc
