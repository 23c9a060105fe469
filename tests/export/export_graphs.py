"""Functional deepstep models with shortcuts, merges, padding, shared layers and dilation, shared by the
ONNX and PyTorch interop tests (real layers, built through ``deepstep.nn.Model``)."""

from __future__ import annotations

import numpy as np

from deepstep.nn import (
    Activation,
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    Model,
    Multiply,
    ReLU,
    ZeroPadding2D,
)


def randomize(model, seed):
    """Non-trivial values for every parameter (BatchNormalization's variances positive)."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        p.value[...] = rng.uniform(0.5, 1.5, p.shape) if "variance" in name else rng.normal(0, 0.5, p.shape)


def residual_graph(dtype, fmt):
    """Identity and projection shortcuts, Multiply/Average, a shared (twice-called) convolution, a dilated
    one, padding, channel and feature concatenation, three GAPs of different depths and a Dense head."""
    cl = fmt == "channels_last"
    caxis = -1 if cl else 1
    inputs = Input((6, 7, 3) if cl else (3, 6, 7))
    a = Conv2D(3, 3, padding="same", activation="relu", data_format=fmt, name="conv_a")(inputs)
    a = BatchNormalization(axis=caxis, name="bn")(a)
    r1 = ReLU(name="relu")(Add(name="add_identity")([a, inputs]))
    d = Conv2D(3, 2, padding="same", dilation_rate=2, data_format=fmt, name="conv_dilated")(r1)
    r1 = Activation("tanh", name="tanh")(Average(name="average_dilated")([r1, d]))
    b = Conv2D(5, 3, strides=2, padding="same", data_format=fmt, name="conv_b")(r1)
    p = Conv2D(5, 1, strides=2, data_format=fmt, name="conv_proj")(r1)
    r2 = Add(name="add_projection")([b, p])
    m = Multiply(name="multiply")([r2, p])
    avg = Average(name="average")([r2, p, m])
    shared = Conv2D(5, 3, padding="same", data_format=fmt, name="shared")
    s = Add(name="add_shared")([shared(avg), shared(r2)])  # one kernel, two calls
    pooled = MaxPooling2D(2, strides=1, padding="same", data_format=fmt, name="pool")(s)
    z = ZeroPadding2D(((1, 0), (2, 1)), data_format=fmt, name="zero_pad")(pooled)
    zz = Concatenate(axis=caxis, name="concat_channels")([z, z])
    features = Concatenate(name="concat_features")([
        GlobalAveragePooling2D(data_format=fmt, name="gap_r2")(r2),
        GlobalAveragePooling2D(data_format=fmt, name="gap_z")(zz),
        GlobalAveragePooling2D(data_format=fmt, name="gap_in")(inputs)])
    outputs = Dense(4, name="dense")(features)
    model = Model(inputs, outputs, name="residual_graph", dtype=dtype, seed=0)
    randomize(model, 5)
    return model


def random_dag(rng, dtype):
    """A random functional model: residual blocks (identity or 1x1-projection shortcut merged by Add,
    Average, Multiply or Concatenate), optional shared convolutions, dilation, padding and pooling;
    a GAP or Flatten head (Flatten after channels_last feeds the torch feature permutation)."""
    fmt = "channels_first" if rng.random() < 0.4 else "channels_last"
    cl = fmt == "channels_last"
    caxis = -1 if cl else 1
    h, w, c = int(rng.integers(6, 11)), int(rng.integers(6, 11)), int(rng.integers(1, 4))
    inputs = Input((h, w, c) if cl else (c, h, w))
    x = inputs

    def channels(t):
        return t.shape[-1] if cl else t.shape[0]

    for _ in range(int(rng.integers(1, 4))):
        f = int(rng.integers(2, 6))
        stride = int(rng.integers(1, 3)) if min(x.shape[:2] if cl else x.shape[1:]) >= 4 else 1
        dilation = int(rng.integers(1, 3))
        y = Conv2D(f, 3, strides=stride, padding="same", dilation_rate=dilation, activation="relu",
                   data_format=fmt)(x)
        if rng.random() < 0.5:
            y = BatchNormalization(axis=caxis)(y)
        if rng.random() < 0.4:  # a shared convolution called twice in a row
            shared = Conv2D(f, 3, padding="same", data_format=fmt)
            y = shared(Activation(str(rng.choice(["relu", "tanh", "sigmoid"])))(shared(y)))
        shortcut = x
        if stride != 1 or channels(x) != f:
            shortcut = Conv2D(f, 1, strides=stride, data_format=fmt)(x)
        merge = str(rng.choice(["add", "average", "multiply", "concatenate"]))
        x = {"add": Add, "average": Average, "multiply": Multiply}.get(
            merge, lambda: Concatenate(axis=caxis))()([y, shortcut])
        x = ReLU()(x)
        if rng.random() < 0.3:
            x = ZeroPadding2D((int(rng.integers(0, 3)), int(rng.integers(0, 3))), data_format=fmt)(x)
        if rng.random() < 0.3:
            x = MaxPooling2D(2, strides=1, padding="same", data_format=fmt)(x)
    if rng.random() < 0.5:
        x = GlobalAveragePooling2D(data_format=fmt)(x)
    else:
        x = Flatten()(x)
    x = Dense(int(rng.integers(2, 6)))(x)
    model = Model(inputs, x, name="random_dag", dtype=dtype, seed=int(rng.integers(1000)))
    randomize(model, int(rng.integers(1000)))
    return model
