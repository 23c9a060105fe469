"""ONNX export: onnxruntime's outputs equal deepstep's for every layer kind, zoo model and layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepstep import load
from deepstep.export import ExportError, to_onnx
from deepstep.export.graph import same_or_valid
from deepstep.export.onnx_converters import CONVERTERS
from deepstep.models import MODEL_NAMES, get_model
from deepstep.nn import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"float32": 1e-5, "float64": 1e-10}


def run_onnx(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": x}), strict=True))


def assert_matches(model, proto, x, dtype):
    got = run_onnx(proto, x)
    want = model(x)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got["logits"], want, rtol=TOL[dtype], atol=TOL[dtype] * scale)
    assert got["logits"].dtype == np.dtype(dtype)
    if "probabilities" in got:
        np.testing.assert_allclose(got["probabilities"], model.predict_proba(x), rtol=TOL[dtype],
                                   atol=TOL[dtype])
    return float(np.abs(got["logits"] - want).max())


def perturb_batch_norms(model, rng):
    """Non-trivial running statistics and affine parameters (fresh ones are the identity)."""
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            c = layer.gamma.value.shape
            layer.gamma.value[...] = rng.uniform(0.5, 1.5, c)
            layer.beta.value[...] = rng.normal(0, 0.3, c)
            layer.moving_mean.value[...] = rng.normal(0, 0.3, c)
            layer.moving_variance.value[...] = rng.uniform(0.5, 2.0, c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_zoo_models_match_onnxruntime(name, dtype, tmp_path):
    model = get_model(name, dtype=dtype, seed=1)
    path = tmp_path / f"{name}.onnx"
    to_onnx(model, path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(2).random((7, *model.input_shape)).astype(dtype)
    assert_matches(model, proto, x, dtype)
    probabilities = run_onnx(proto, x)["probabilities"]
    binary = probabilities.shape[1] == 1
    predicted = (probabilities[:, 0] > 0.5).astype(int) if binary else probabilities.argmax(1)
    np.testing.assert_array_equal(predicted, model.predict(x))


def test_batch_axis_is_dynamic():
    model = get_model("digits_cnn", seed=0)
    proto = to_onnx(model, None)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [8, 8, 1]
    for n in (1, 2, 33):
        x = np.random.default_rng(n).random((n, 8, 8, 1)).astype(np.float32)
        assert_matches(model, proto, x, "float32")


def test_tensorflow_same_padding_is_asymmetric():
    assert same_or_valid(64, 4, 1, "same") == (1, 2, 64)
    assert same_or_valid(8, 8, 8, "same") == (0, 0, 1)
    assert same_or_valid(5, 2, 2, "same") == (0, 1, 3)
    assert same_or_valid(7, 3, 2, "valid") == (0, 0, 3)
    proto = to_onnx(get_model("signs_convnet", seed=0), None)
    conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    pads = next(a for a in conv.attribute if a.name == "pads").ints
    assert list(pads) == [1, 1, 2, 2]  # top, left, bottom, right for a 4x4 kernel


def _random_model(rng, dtype):
    """A random valid Sequential mixing every layer kind, channels_last or channels_first."""
    fmt = "channels_first" if rng.random() < 0.3 else "channels_last"
    h, w, c = int(rng.integers(5, 12)), int(rng.integers(5, 12)), int(rng.integers(1, 4))
    layers = []
    size = [h, w]
    for _ in range(int(rng.integers(1, 4))):
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding = str(rng.choice(["same", "valid"]))
        if padding == "valid" and (size[0] < k[0] or size[1] < k[1]):
            padding = "same"
        act = [None, "relu", "leaky_relu", "tanh", "sigmoid", "softmax"][int(rng.integers(6))]
        layers.append(Conv2D(int(rng.integers(1, 6)), k, strides=s, padding=padding, activation=act,
                             use_bias=bool(rng.random() < 0.8), data_format=fmt))
        size = [same_or_valid(size[i], k[i], s[i], padding)[2] for i in range(2)]
        extra = rng.choice(["bn", "relu", "leaky", "dropout", "none"])
        if extra == "bn":
            layers.append(BatchNormalization(axis=1 if fmt == "channels_first" else -1, epsilon=1e-3))
        elif extra == "relu":
            layers.append(ReLU())
        elif extra == "leaky":
            layers.append(LeakyReLU(alpha=0.2))
        elif extra == "dropout":
            layers.append(Dropout(0.3))
        if min(size) >= 2 and rng.random() < 0.7:
            pool = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            pstride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            ppad = str(rng.choice(["same", "valid"]))
            if ppad == "valid" and (size[0] < pool[0] or size[1] < pool[1]):
                ppad = "same"
            kind = MaxPooling2D if rng.random() < 0.5 else AveragePooling2D
            layers.append(kind(pool, strides=pstride, padding=ppad, data_format=fmt))
            size = [same_or_valid(size[i], pool[i], pstride[i], ppad)[2] for i in range(2)]
    layers.append(Flatten())
    if rng.random() < 0.5:
        layers += [Dense(int(rng.integers(2, 9)), activation="relu"), BatchNormalization(), Tanh()]
    units = int(rng.integers(1, 6))
    layers.append(Dense(units))
    if rng.random() < 0.3:
        layers.append(Sigmoid() if units == 1 else Softmax())
    shape = (c, h, w) if fmt == "channels_first" else (h, w, c)
    model = Sequential(layers, input_shape=shape, dtype=dtype, seed=int(rng.integers(1000)))
    perturb_batch_norms(model, rng)
    return model


@pytest.mark.parametrize("case", range(24))
def test_random_architectures_match_onnxruntime(case):
    rng = np.random.default_rng(100 + case)
    dtype = "float64" if case % 4 == 3 else "float32"
    model = _random_model(rng, dtype)
    x = rng.normal(size=(int(rng.integers(1, 5)), *model.input_shape)).astype(dtype)
    for lower in ((None, True) if dtype == "float32" else (None,)):  # float32: native ops and the lowering
        proto = to_onnx(model, None, lower_windows=lower)
        assert_matches(model, proto, x, dtype)


def test_average_pool_same_excludes_padding():
    model = Sequential([AveragePooling2D(3, strides=2, padding="same"), Flatten()], input_shape=(4, 5, 2))
    x = np.ones((2, 4, 5, 2), np.float32)
    for lower in (False, True):
        got = run_onnx(to_onnx(model, None, lower_windows=lower), x)["logits"]
        np.testing.assert_allclose(got, 1.0, rtol=1e-6)  # padded zeros would lower the border means


def test_float64_model_exports_double_tensors():
    model = get_model("mnist_cnn", dtype="float64", seed=3)
    proto = to_onnx(model, None)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    ops = {n.op_type for n in proto.graph.node}
    assert "Conv" not in ops and "MatMul" in ops  # onnxruntime's CPU Conv has no float64 kernel


def test_metadata_and_saved_model_export_through_the_cli(tmp_path, capsys):
    from cli_helpers import run_main

    model = get_model("digits_cnn", seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=("accuracy",))
    model.class_names = [f"digit {k}" for k in range(10)]
    model.save(tmp_path / "model.npz")  # the 0.1 file format
    status, out, err = run_main(capsys, "export", str(tmp_path / "model.npz"), "--format", "onnx")
    assert status == 0, err
    path = tmp_path / "model.onnx"
    assert str(path) in out and "Conv" in out
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["class_names"]) == model.class_names
    assert "255" in meta["input_scaling"] and meta["output_link"] == "softmax"
    assert meta["deepstep_version"]
    loaded = load(tmp_path / "model.npz")
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    assert_matches(loaded, proto, x, "float32")

    status, _, err = run_main(capsys, "export", "cat_dnn", "-o", str(tmp_path / "cat.onnx"), "--opset", "13")
    assert status == 0, err
    assert onnx.load(str(tmp_path / "cat.onnx")).opset_import[0].version == 13


def test_cli_errors_are_one_line(tmp_path, capsys):
    from cli_helpers import assert_one_line_error, run_main

    status, _, err = run_main(capsys, "export", str(tmp_path / "missing.npz"))
    assert_one_line_error(status, err, "missing.npz")
    status, _, err = run_main(capsys, "export", "digits_cnn", "--opset", "7", "-o", str(tmp_path / "a.onnx"))
    assert_one_line_error(status, err, "opset")
    status, _, err = run_main(capsys, "export", "digits_cnn", "--format", "tflite")
    assert status == 2 and "tflite" in err
    status, _, err = run_main(capsys, "export", "digits_cnn", "-o", str(tmp_path))
    assert_one_line_error(status, err, "folder")


class Square(Layer):
    kind = "square"

    def _forward(self, x, training):
        return x * x


def test_layer_without_converter_is_named():
    model = Sequential([Flatten(), Square(name="my_square"), Dense(2)], input_shape=(3, 3, 1))
    with pytest.raises(ExportError, match=r"'my_square' \(Square\).*no converter"):
        to_onnx(model, None)


def test_bad_arguments():
    with pytest.raises(ExportError, match="built"):
        to_onnx(Sequential([Dense(2)]), None)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(get_model("cat_dnn"), None, opset=12)
    with pytest.raises(ExportError, match="model of type dict"):
        to_onnx({}, None)


def test_every_deepstep_layer_has_a_converter():
    from deepstep.nn.layers import LAYER_CLASSES

    assert set(LAYER_CLASSES) <= set(CONVERTERS)
