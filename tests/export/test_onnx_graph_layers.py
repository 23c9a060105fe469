"""Converters of graph layers (Add, Concatenate, Multiply, Average, GlobalAveragePooling2D, ZeroPadding2D,
Activation, shared layers) on real functional models: onnxruntime's outputs equal ``model(x)``."""

from __future__ import annotations

import numpy as np
import pytest
from export_graphs import random_dag, residual_graph

from deepstep.export import ExportError, to_onnx
from deepstep.nn import Add, Concatenate, Conv2D, GlobalAveragePooling2D, Input, Model, ZeroPadding2D

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"float32": 1e-5, "float64": 1e-10}


def run_onnx(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": x}), strict=True))


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype,lower", [("float32", None), ("float32", True), ("float64", None)])
def test_residual_graph_matches_onnxruntime(fmt, dtype, lower):
    model = residual_graph(dtype, fmt)
    proto = to_onnx(model, None, lower_windows=lower)
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(0).normal(size=(3, *model.input_shape)).astype(dtype)
    got = run_onnx(proto, x)
    want = model(x)
    tol = TOL[dtype]
    np.testing.assert_allclose(got["logits"], want, rtol=tol, atol=tol)
    np.testing.assert_allclose(got["probabilities"], softmax(want), rtol=tol, atol=tol)
    # the shared layer's kernel is stored once
    assert sum(i.name == "shared/kernel" for i in proto.graph.initializer) == 1


@pytest.mark.parametrize("case", range(6))
def test_random_dags_match_onnxruntime(case):
    rng = np.random.default_rng(300 + case)
    dtype = "float64" if case % 3 == 2 else "float32"
    model = random_dag(rng, dtype)
    x = rng.normal(size=(int(rng.integers(1, 4)), *model.input_shape)).astype(dtype)
    want = model(x)
    for lower in ((None, True) if dtype == "float32" else (None,)):
        got = run_onnx(to_onnx(model, None, lower_windows=lower), x)["logits"]
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding", [2, (1, 3), ((0, 2), (1, 0))])
def test_zero_padding_forms(padding, fmt):
    cl = fmt == "channels_last"
    inputs = Input((4, 5, 1) if cl else (1, 4, 5))
    z = Conv2D(2, 2, data_format=fmt, name="conv")(inputs)
    z = ZeroPadding2D(padding, data_format=fmt, name="pad")(z)
    z = ZeroPadding2D(padding, data_format=fmt, name="pad2")(z)
    model = Model(inputs, z, seed=0)
    x = np.random.default_rng(1).normal(size=(2, *model.input_shape)).astype(np.float32)
    got = run_onnx(to_onnx(model, None), x)
    assert list(got) == ["logits"]  # 4-D output: no probabilities
    assert got["logits"].shape == model(x).shape
    np.testing.assert_allclose(got["logits"], model(x), rtol=1e-5, atol=1e-6)
    pooled = Model(inputs, GlobalAveragePooling2D(data_format=fmt)(z), seed=0)
    np.testing.assert_allclose(run_onnx(to_onnx(pooled, None), x)["logits"], pooled(x), rtol=1e-5, atol=1e-6)


def test_model_output_need_not_be_the_last_node():
    inputs = Input((4, 4, 1))
    a = Conv2D(2, 2, name="first")(inputs)
    b = Conv2D(2, 1, name="second")(a)
    model = Model(inputs, Add(name="sum")([a, b]), seed=0)
    x = np.random.default_rng(2).normal(size=(2, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(to_onnx(model, None), x)["logits"], model(x), rtol=1e-5, atol=1e-6)


def test_merge_errors_name_the_layer():
    """The converters check merges themselves (deepstep's Model refuses such graphs when built, so they
    are called directly here on a context holding two tensors of different shapes)."""
    from deepstep.export.onnx_context import OnnxContext
    from deepstep.export.onnx_converters import convert_add, convert_concatenate

    ctx = OnnxContext(np.dtype(np.float32), 17, lower_windows=False)
    ctx.define("a", "a", (4, 4, 2), (0, 1, 2, 3))
    ctx.define("b", "b", (3, 3, 2), (0, 1, 2, 3))
    with pytest.raises(ExportError, match=r"'bad_add' \(Add\).*shapes"):
        convert_add(Add(name="bad_add"), ["a", "b"], "s", ctx)
    with pytest.raises(ExportError, match=r"'lonely' \(Concatenate\).*at least 2"):
        convert_concatenate(Concatenate(name="lonely"), ["a"], "s", ctx)
