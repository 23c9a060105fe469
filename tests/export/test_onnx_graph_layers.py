"""Converters of graph layers (Add, Concatenate, Multiply, Average, GlobalAveragePooling2D,
ZeroPadding2D) on a DAG, with stand-in layers that expose the Keras config those converters read."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.export import GRAPH_BUILDERS, ExportError, GraphNode, ModelGraph, to_onnx
from deepstep.nn import BatchNormalization, Conv2D, Dense, MaxPooling2D, ReLU

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class StandIn:
    """A parameter-free layer with a Keras-style ``get_config()``; ``fn`` is its NumPy reference."""

    def __init__(self, name, fn, **config):
        self.name, self.fn, self.config = name, fn, config

    def get_config(self):
        return {"name": self.name, **self.config}

    def parameters(self):
        return []

    def forward(self, *xs):
        return self.fn(*xs, **self.config)


def stand_in(class_name, fn):
    cls = type(class_name, (StandIn,), {})
    return lambda name, **config: cls(name, fn, **config)


def _concat(*xs, axis=-1):
    return np.concatenate(xs, axis=axis)


def _zero_pad(x, padding=1, data_format="channels_last"):
    if isinstance(padding, int):
        padding = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    spatial = [(0, 0), tuple(padding[0]), tuple(padding[1])]
    if data_format == "channels_last":
        return np.pad(x, [*spatial, (0, 0)])
    widths = [(0, 0), (0, 0), *spatial[1:]]
    return np.pad(x, widths)


def _gap(x, data_format="channels_last", keepdims=False):
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    return x.mean(axis=axes, keepdims=keepdims)


Add = stand_in("Add", lambda *xs: sum(xs[1:], xs[0]))
Multiply = stand_in("Multiply", lambda *xs: np.prod(np.stack(xs), axis=0))
Average = stand_in("Average", lambda *xs: sum(xs[1:], xs[0]) / len(xs))
Concatenate = stand_in("Concatenate", _concat)
ZeroPadding2D = stand_in("ZeroPadding2D", _zero_pad)
GlobalAveragePooling2D = stand_in("GlobalAveragePooling2D", _gap)


class GraphStandIn:
    """A built DAG model: input, nodes in topological order, output (as the functional Model will be)."""

    def __init__(self, input_shape, nodes, output, dtype):
        self.name, self.built, self.input_shape = "graph", True, input_shape
        self.nodes, self.output, self.dtype = nodes, output, np.dtype(dtype)
        self.loss = self.class_names = None

    def forward(self, x):
        values = {"input": x}
        for node in self.nodes:
            values[node.output] = node.layer.forward(*(values[name] for name in node.inputs))
        return values[self.output]


@pytest.fixture(autouse=True)
def _register_graph_builder(monkeypatch):
    monkeypatch.setitem(GRAPH_BUILDERS, "GraphStandIn",
                        lambda m: ModelGraph("input", m.input_shape, tuple(m.nodes), m.output))


def built(layer, shape, dtype, seed):
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype)
    return layer


def residual_graph(dtype, fmt):
    """Residual blocks with an identity and a projection shortcut, padding, concatenation and GAP."""
    cl = fmt == "channels_last"
    shape = (6, 7, 3) if cl else (3, 6, 7)
    caxis = -1 if cl else 1

    def spatial(h, w, c):
        return (h, w, c) if cl else (c, h, w)

    conv_a = built(Conv2D(3, 3, padding="same", activation="relu", data_format=fmt, name="conv_a"),
                   shape, dtype, 1)
    bn = built(BatchNormalization(axis=caxis, name="bn"), shape, dtype, 0)
    rng = np.random.default_rng(5)
    for p in (bn.gamma, bn.beta, bn.moving_mean):
        p.value[...] = rng.normal(0.5, 0.3, 3)
    bn.moving_variance.value[...] = rng.uniform(0.5, 2, 3)
    conv_b = built(Conv2D(5, 3, strides=2, padding="same", data_format=fmt, name="conv_b"), shape, dtype, 2)
    conv_p = built(Conv2D(5, 1, strides=2, data_format=fmt, name="conv_proj"), shape, dtype, 3)
    pool = built(MaxPooling2D(2, strides=1, padding="same", data_format=fmt, name="pool"),
                 spatial(3, 4, 5), dtype, 0)
    dense = built(Dense(4, name="dense"), (5 + 10 + 3,), dtype, 4)
    relu = built(ReLU(name="relu"), shape, dtype, 0)
    nodes = [
        GraphNode(conv_a, ("input",), "a"),
        GraphNode(bn, ("a",), "a_bn"),
        GraphNode(Add("add_identity"), ("a_bn", "input"), "r1"),           # NCHW-held + NHWC input
        GraphNode(relu, ("r1",), "r1_relu"),
        GraphNode(conv_b, ("r1_relu",), "b"),
        GraphNode(conv_p, ("r1_relu",), "p"),
        GraphNode(Add("add_projection"), ("b", "p"), "r2"),
        GraphNode(Multiply("multiply"), ("r2", "p"), "m"),
        GraphNode(Average("average"), ("r2", "p", "m"), "avg"),
        GraphNode(pool, ("avg",), "pooled"),
        GraphNode(ZeroPadding2D("zero_pad", padding=((1, 0), (2, 1)), data_format=fmt), ("pooled",), "z"),
        GraphNode(Concatenate("concat_channels", axis=caxis), ("z", "z"), "zz"),
        GraphNode(GlobalAveragePooling2D("gap_z", data_format=fmt), ("zz",), "g1"),
        GraphNode(GlobalAveragePooling2D("gap_r2", data_format=fmt), ("r2",), "g2"),
        GraphNode(GlobalAveragePooling2D("gap_in", data_format=fmt), ("input",), "g3"),
        GraphNode(Concatenate("concat_features"), ("g2", "g1", "g3"), "features"),
        GraphNode(dense, ("features",), "logits"),
    ]
    return GraphStandIn(shape, nodes, "logits", dtype)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype,lower,tol", [("float32", None, 1e-5), ("float32", True, 1e-5),
                                             ("float64", None, 1e-10)])
def test_residual_graph_matches_onnxruntime(fmt, dtype, lower, tol):
    model = residual_graph(dtype, fmt)
    proto = to_onnx(model, None, lower_windows=lower)
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(3, *model.input_shape)).astype(dtype)
    logits, probabilities = session.run(None, {"input": x})
    want = model.forward(x)
    np.testing.assert_allclose(logits, want, rtol=tol, atol=tol)
    e = np.exp(want - want.max(1, keepdims=True))
    np.testing.assert_allclose(probabilities, e / e.sum(1, keepdims=True), rtol=tol, atol=tol)


@pytest.mark.parametrize("padding", [2, (1, 3), ((0, 2), (1, 0))])
def test_zero_padding_forms_and_keepdims(padding):
    conv = built(Conv2D(2, 2, name="conv"), (4, 4, 1), "float32", 0)
    nodes = [GraphNode(conv, ("input",), "c"),
             GraphNode(ZeroPadding2D("pad", padding=padding), ("c",), "z"),
             GraphNode(GlobalAveragePooling2D("gap", keepdims=True), ("z",), "g"),
             GraphNode(ZeroPadding2D("pad2", padding=padding), ("g",), "out")]
    model = GraphStandIn((4, 4, 1), nodes, "out", "float32")
    proto = to_onnx(model, None)
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 1)).astype(np.float32)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits"]  # 4-D output: no probabilities
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model.forward(x), rtol=1e-5, atol=1e-6)


def test_merge_errors_name_the_layer():
    conv = built(Conv2D(2, 2, name="conv"), (4, 4, 1), "float32", 0)
    bad = [GraphNode(conv, ("input",), "c"), GraphNode(Add("bad_add"), ("c", "input"), "s")]
    with pytest.raises(ExportError, match=r"'bad_add' \(Add\).*shapes"):
        to_onnx(GraphStandIn((4, 4, 1), bad, "s", "float32"), None)
    one = [GraphNode(Concatenate("lonely"), ("input",), "s")]
    with pytest.raises(ExportError, match=r"'lonely' \(Concatenate\).*at least 2"):
        to_onnx(GraphStandIn((4, 4, 1), one, "s", "float32"), None)
    unordered = [GraphNode(Add("early"), ("input", "later"), "s")]
    with pytest.raises(ExportError, match="later"):
        to_onnx(GraphStandIn((4, 4, 1), unordered, "s", "float32"), None)
