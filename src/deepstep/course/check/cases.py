"""The graded cases of every course function: the notebooks' inputs and numbers, edge cases, gradients.

Each :class:`Case` builds fresh arguments. The learner's output is compared with the
output of the deepstep function of the same name, *called at grading time* on a copy of the
same arguments (``oracle=True``); a published case also compares the values the notebook
prints (its Expected Output) with the notebook's own numbers. A gradient case compares a
backward function with float64 centred differences of the learner's own forward function.

Cases are listed smallest first, so that a slow implementation is diagnosed on small
inputs before it meets the notebook's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...gradcheck import numerical_gradients
from .. import app, cnn, cs231n, dnn, optim
from .compare import Mismatch, first_mismatch

__all__ = [
    "Case",
    "Expect",
    "Skip",
    "CASES",
    "MODULES",
    "ORACLES",
    "FUNCTIONS",
    "CALLEES",
    "module_of",
    "adapt_expected",
]

Args = tuple[tuple[Any, ...], dict[str, Any]]

MODULES: dict[str, tuple[str, ...]] = {
    "cnn": (
        "zero_pad",
        "conv_single_step",
        "conv_forward",
        "conv_backward",
        "pool_forward",
        "create_mask_from_window",
        "distribute_value",
        "pool_backward",
    ),
    "cs231n": (
        "conv_forward_naive",
        "conv_backward_naive",
        "max_pool_forward_naive",
        "max_pool_backward_naive",
    ),
    "dnn": (
        "sigmoid",
        "relu",
        "sigmoid_backward",
        "relu_backward",
        "initialize_parameters",
        "initialize_parameters_deep",
        "linear_forward",
        "linear_activation_forward",
        "L_model_forward",
        "compute_cost",
        "linear_backward",
        "linear_activation_backward",
        "L_model_backward",
        "update_parameters",
        "predict",
    ),
    "optim": (
        "update_parameters_with_gd",
        "random_mini_batches",
        "initialize_velocity",
        "update_parameters_with_momentum",
        "initialize_adam",
        "update_parameters_with_adam",
        "update_lr",
        "schedule_lr_decay",
    ),
    "app": ("two_layer_model", "L_layer_model"),
}
FUNCTIONS: tuple[str, ...] = tuple(name for names in MODULES.values() for name in names)
_MODULE_OBJECTS = {"cnn": cnn, "cs231n": cs231n, "dnn": dnn, "optim": optim, "app": app}
ORACLES: dict[str, Callable[..., Any]] = {
    name: getattr(_MODULE_OBJECTS[module], name) for module, names in MODULES.items() for name in names
}

# Which course functions a function's notebook solution calls: a failure there is the first thing to fix.
CALLEES: dict[str, tuple[str, ...]] = {
    "conv_forward": ("zero_pad", "conv_single_step"),
    "conv_backward": ("zero_pad",),
    "pool_backward": ("create_mask_from_window", "distribute_value"),
    "linear_activation_forward": ("linear_forward", "sigmoid", "relu"),
    "L_model_forward": ("linear_activation_forward",),
    "linear_activation_backward": ("linear_backward", "sigmoid_backward", "relu_backward"),
    "L_model_backward": ("linear_activation_backward",),
    "update_parameters_with_gd": ("update_parameters",),
    "two_layer_model": (
        "initialize_parameters",
        "linear_activation_forward",
        "compute_cost",
        "linear_activation_backward",
        "update_parameters",
    ),
    "L_layer_model": ("L_model_forward", "compute_cost", "L_model_backward", "update_parameters"),
}


def module_of(name: str) -> str:
    """The course module (``"cnn"``, ``"dnn"``, ...) that holds ``name``."""
    for module, names in MODULES.items():
        if name in names:
            return module
    raise KeyError(name)


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a case's builder when its inputs are unavailable (e.g. the cat dataset)."""


@dataclass(frozen=True)
class Expect:
    """One value the notebook prints: ``get(output)`` must equal ``value`` within ``atol``."""

    what: str
    get: Callable[[Any], Any]
    value: Any
    atol: float = 1e-8


@dataclass(frozen=True)
class Case:
    """One graded call.

    ``kind`` is ``"published"`` (the notebook's Expected Output), ``"edge"`` or
    ``"gradient"``. ``gradient(fn, forward, args)`` returns a :class:`Mismatch` or ``None``.
    """

    label: str
    kind: str
    make: Callable[[], Args]
    expect: tuple[Expect, ...] = ()
    oracle: bool = True
    forward: str | None = None
    gradient: Callable[[Callable[..., Any], Callable[..., Any], Args], Mismatch | None] | None = None
    notes: tuple[str, ...] = field(default=())


def _rs(seed: int = 1) -> np.random.RandomState:
    return np.random.RandomState(seed)  # noqa: NPY002 - the notebooks' legacy generator and seeds


def adapt_expected(name: str, got: Any, expected: Any) -> Any:
    """Accept the older notebooks' return conventions (Adam returning 3 items)."""
    if (
        name == "update_parameters_with_adam"
        and isinstance(got, tuple | list)
        and len(got) == 3
        and isinstance(expected, tuple | list)
        and len(expected) == 5
    ):
        return tuple(expected[:3])
    return expected


# --------------------------------------------------------------------------- gradient checks
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-7


def _grad_mismatch(
    got: Any, numeric: Sequence[np.ndarray], names: Sequence[str], forward_name: str
) -> Mismatch | None:
    if not isinstance(got, tuple | list):
        got = (got,)
    if len(got) < len(names):
        return Mismatch("output", f"returns {len(got)} items, expected {len(names)} ({', '.join(names)})")
    for g, n, name in zip(got, numeric, names, strict=False):
        found = first_mismatch(g, n, name, rtol=GRAD_RTOL, atol=GRAD_ATOL)
        if found:
            return Mismatch(
                found.where,
                found.message + f" (numerical gradient of your {forward_name})",
                found.index,
                found.got,
                found.expected,
            )
    return None


def _layer_gradient(n_inputs: int, names: tuple[str, ...], forward_name: str, mode: str | None = None):
    """Gradient check of ``backward(dout, cache[, mode])`` against ``sum(forward(*inputs)[0] * dout)``."""

    def run(backward, forward, args: Args) -> Mismatch | None:
        (*inputs, dout), _ = args
        extra = (mode,) if mode is not None else ()
        arrays = [x for x in inputs[:n_inputs]]
        rest = inputs[n_inputs:]
        numeric = numerical_gradients(
            lambda: np.asarray(forward(*arrays, *rest, *extra)[0], dtype=np.float64), arrays, df=dout
        )
        _, cache = forward(*arrays, *rest, *extra)
        got = backward(dout, cache, *extra)
        return _grad_mismatch(got, numeric, names, forward_name)

    return run


def _activation_gradient(forward_name: str):
    def run(backward, forward, args: Args) -> Mismatch | None:
        (Z, dA), _ = args
        numeric = numerical_gradients(lambda: np.asarray(forward(Z)[0], dtype=np.float64), [Z], df=dA)
        _, cache = forward(Z)
        return _grad_mismatch(backward(dA, cache), numeric, ("dZ",), forward_name)

    return run


def _linear_gradient(forward_name: str, activation: str | None):
    def run(backward, forward, args: Args) -> Mismatch | None:
        (A, W, b, dout), _ = args
        m = A.shape[1]
        extra = (activation,) if activation else ()

        def out() -> np.ndarray:
            return np.asarray(forward(A, W, b, *extra)[0], dtype=np.float64)

        dA = numerical_gradients(out, [A], df=dout)[0]
        dW, db = (g / m for g in numerical_gradients(out, [W, b], df=dout))  # the notebook averages dW, db
        _, cache = forward(A, W, b, *extra)
        return _grad_mismatch(
            backward(dout, cache, *extra), [dA, dW, db], ("dA_prev", "dW", "db"), forward_name
        )

    return run


def _L_model_gradient(backward, forward, args: Args) -> Mismatch | None:
    (X, Y, params), _ = args
    keys = [k for k in params]

    def cost() -> float:
        AL = np.asarray(forward(X, params)[0], dtype=np.float64)
        return float(dnn.compute_cost(AL, Y))

    numeric = numerical_gradients(cost, [params[k] for k in keys])
    AL, caches = forward(X, params)
    grads = backward(AL, Y, caches)
    if not isinstance(grads, Mapping):
        return Mismatch("grads", f"grads is a {type(grads).__name__}, expected a dict")
    want = {"d" + k: g for k, g in zip(keys, numeric, strict=True)}
    found = first_mismatch(grads, want, "grads", rtol=GRAD_RTOL, atol=GRAD_ATOL)
    if found:
        return Mismatch(
            found.where,
            found.message + " (numerical gradient of compute_cost(your L_model_forward))",
            found.index,
            found.got,
            found.expected,
        )
    return None


# --------------------------------------------------------------------------- cnn
def _conv_inputs(
    seed: int, m: int, h: int, w: int, c: int, f: int, n_c: int, stride: int, pad: int, with_dZ: bool = False
) -> Args:
    r = _rs(seed)
    A_prev, W, b = r.randn(m, h, w, c), r.randn(f, f, c, n_c), r.randn(1, 1, 1, n_c)
    hp = {"stride": stride, "pad": pad}
    if not with_dZ:
        return (A_prev, W, b, hp), {}
    n_H, n_W = (h + 2 * pad - f) // stride + 1, (w + 2 * pad - f) // stride + 1
    return (A_prev, W, b, hp, r.randn(m, n_H, n_W, n_c)), {}


def _conv_backward_args(
    seed: int, m: int, h: int, w: int, c: int, f: int, n_c: int, stride: int, pad: int
) -> Callable[[], Args]:
    def make() -> Args:
        (A_prev, W, b, hp, dZ), _ = _conv_inputs(seed, m, h, w, c, f, n_c, stride, pad, with_dZ=True)
        _, cache = cnn.conv_forward(A_prev, W, b, hp)
        return (dZ, cache), {}

    return make


def _notebook_conv_001() -> Args:
    r = _rs(1)
    A_prev, W, b = r.randn(10, 4, 4, 3), r.randn(2, 2, 3, 8), r.randn(1, 1, 1, 8)
    return (A_prev, W, b, {"pad": 2, "stride": 2}), {}


def _pool_args(
    seed: int, shape: tuple[int, ...], f: int, stride: int, mode: str | None = None, ties: bool = False
) -> Callable[[], Args]:
    def make() -> Args:
        A_prev = _rs(seed).randn(*shape)
        if ties:
            A_prev = np.maximum(A_prev, 0.0)  # after a ReLU: windows of equal zeros
            A_prev[0, :2, :2, :] = 0.0
        kwargs = {"mode": mode} if mode else {}
        return (A_prev, {"f": f, "stride": stride}), kwargs

    return make


def _pool_backward_args(
    seed: int,
    shape: tuple[int, ...],
    f: int,
    stride: int,
    mode: str,
    ties: bool = False,
    with_A_prev: bool = False,
) -> Callable[[], Args]:
    def make() -> Args:
        (A_prev, hp), _ = _pool_args(seed, shape, f, stride, ties=ties)()
        m, h, w, c = A_prev.shape
        dA = _rs(seed + 1).randn(m, (h - f) // stride + 1, (w - f) // stride + 1, c)
        if with_A_prev:
            return (A_prev, hp, dA), {}
        _, cache = cnn.pool_forward(A_prev, hp, mode=mode)
        return (dA, cache), {"mode": mode}

    return make


def _pool_gradient(mode: str):
    def run(backward, forward, args: Args) -> Mismatch | None:
        (A_prev, hp, dA), _ = args
        numeric = numerical_gradients(
            lambda: np.asarray(forward(A_prev, hp, mode=mode)[0], dtype=np.float64), [A_prev], df=dA
        )
        _, cache = forward(A_prev, hp, mode=mode)
        return _grad_mismatch(backward(dA, cache, mode=mode), numeric, ("dA_prev",), "pool_forward")

    return run


def _notebook_pool_backward(mode: str) -> Callable[[], Args]:
    def make() -> Args:
        r = _rs(1)
        A_prev = r.randn(5, 5, 3, 2)
        hp = {"stride": 1, "f": 2}
        _, cache = cnn.pool_forward(A_prev, hp)
        dA = r.randn(5, 4, 2, 2)
        return (dA, cache), {"mode": mode}

    return make


def _mean(x: Any) -> float:
    return float(np.mean(np.asarray(x, dtype=np.float64)))


_CNN: dict[str, list[Case]] = {
    "zero_pad": [
        Case("pad 0 leaves X unchanged", "edge", lambda: ((_rs(2).randn(2, 3, 3, 2), 0), {})),
        Case(
            "x = randn(4, 3, 3, 2), pad = 2",
            "published",
            lambda: ((_rs(1).randn(4, 3, 3, 2), 2), {}),
            (
                Expect("x_pad.shape", np.shape, (4, 7, 7, 2)),
                Expect("x_pad[1, 1]", lambda o: o[1, 1], np.zeros((7, 2))),
            ),
        ),
        Case(
            "x = randn(4, 3, 3, 2), pad = 3",
            "published",
            lambda: ((_rs(1).randn(4, 3, 3, 2), 3), {}),
            (Expect("x_pad.shape", np.shape, (4, 9, 9, 2)),),
        ),
        Case("rectangular images (1, 2, 5, 3), pad = 1", "edge", lambda: ((_rs(3).randn(1, 2, 5, 3), 1), {})),
    ],
    "conv_single_step": [
        Case(
            "a 2 x 2 x 1 window",
            "edge",
            lambda: (
                (np.array([[[1.0], [2.0]], [[3.0], [4.0]]]), np.full((2, 2, 1), 0.5), np.array([[[-1.0]]])),
                {},
            ),
        ),
        Case(
            "np.random.seed(1); a_slice_prev, W = randn(4, 4, 3); b = randn(1, 1, 1)",
            "published",
            lambda: ((lambda r: (r.randn(4, 4, 3), r.randn(4, 4, 3), r.randn(1, 1, 1)))(_rs(1)), {}),
            (Expect("Z", lambda o: o, -6.999089450680221, 1e-10),),
        ),
    ],
    "conv_forward": [
        Case("batch of 1, pad 0, stride 1", "edge", lambda: _conv_inputs(5, 1, 4, 4, 2, 3, 2, 1, 0)),
        Case(
            "np.random.seed(1); A_prev (2, 5, 7, 4), W (3, 3, 4, 8), pad 1, stride 2",
            "published",
            lambda: _conv_inputs(1, 2, 5, 7, 4, 3, 8, 2, 1),
            (
                Expect("mean(Z)", lambda o: _mean(o[0]), 0.5511276474566768, 1e-12),
                Expect(
                    "Z[0, 2, 1]",
                    lambda o: o[0][0, 2, 1],
                    [
                        -2.17796037,
                        8.07171329,
                        -0.5772704,
                        3.36286738,
                        4.48113645,
                        -2.89198428,
                        10.99288867,
                        3.03171932,
                    ],
                ),
                Expect(
                    "cache_conv[0][1][2][3]",
                    lambda o: o[1][0][1][2][3],
                    [-1.1191154, 1.9560789, -0.3264995, -1.34267579],
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (10, 4, 4, 3), W (2, 2, 3, 8), pad 2, stride 2",
            "published",
            _notebook_conv_001,
            (
                Expect("mean(Z)", lambda o: _mean(o[0]), 0.0489952035289, 1e-12),
                Expect(
                    "Z[3, 2, 1]",
                    lambda o: o[0][3, 2, 1],
                    [
                        -0.61490741,
                        -6.7439236,
                        -2.55153897,
                        1.75698377,
                        3.56208902,
                        0.53036437,
                        5.18531798,
                        8.75898442,
                    ],
                ),
                Expect(
                    "cache_conv[0][1][2][3]",
                    lambda o: o[1][0][1][2][3],
                    [-0.20075807, 0.18656139, 0.41005165],
                ),
            ),
        ),
        Case(
            "a filter larger than the image (2 x 2, f 3, pad 0, stride 2): no valid output",
            "edge",
            lambda: _conv_inputs(12, 1, 2, 2, 1, 3, 1, 2, 0),
        ),
        Case(
            "stride 3 on 7 x 8 images (the last rows do not fit: floor)",
            "edge",
            lambda: _conv_inputs(6, 2, 7, 8, 2, 2, 3, 3, 0),
        ),
        Case(
            "rectangular images (1, 5, 8, 3), f 3, pad 1, stride 2",
            "edge",
            lambda: _conv_inputs(7, 1, 5, 8, 3, 3, 2, 2, 1),
        ),
    ],
    "conv_backward": [
        Case("batch of 1, pad 0, stride 1", "edge", _conv_backward_args(5, 1, 4, 4, 2, 3, 2, 1, 0)),
        Case(
            "dZ = Z of the notebook's conv_forward (A_prev (10, 4, 4, 3), pad 2, stride 2)",
            "published",
            lambda: (lambda Z, cache: ((Z, cache), {}))(*cnn.conv_forward(*_notebook_conv_001()[0])),
            (
                Expect("mean(dA)", lambda o: _mean(o[0]), 1.4524377775388075, 1e-10),
                Expect("mean(dW)", lambda o: _mean(o[1]), 1.7269914583139097, 1e-10),
                Expect("mean(db)", lambda o: _mean(o[2]), 7.839232564616838, 1e-10),
            ),
        ),
        Case(
            "stride 2 with fewer output rows than input rows (5 x 5 input, f 3, pad 0)",
            "edge",
            _conv_backward_args(8, 2, 5, 5, 2, 3, 2, 2, 0),
        ),
        Case(
            "overlapping windows (f 3, stride 1, pad 1)",
            "edge",
            _conv_backward_args(9, 1, 4, 4, 2, 3, 2, 1, 1),
        ),
        Case(
            "rectangular images (1, 4, 6, 2), pad 1, stride 2",
            "edge",
            _conv_backward_args(10, 1, 4, 6, 2, 2, 3, 2, 1),
        ),
        Case(
            "dA_prev, dW, db against the numerical gradient of conv_forward (pad 1, stride 2)",
            "gradient",
            lambda: _conv_inputs(11, 1, 4, 5, 2, 3, 2, 2, 1, with_dZ=True),
            oracle=False,
            forward="conv_forward",
            gradient=_layer_gradient(3, ("dA_prev", "dW", "db"), "conv_forward"),
        ),
    ],
    "pool_forward": [
        Case("batch of 1, f 2, stride 2, max", "edge", _pool_args(5, (1, 4, 4, 2), 2, 2)),
        Case(
            "np.random.seed(1); A_prev (2, 5, 5, 3), f 3, stride 1, mode max",
            "published",
            _pool_args(1, (2, 5, 5, 3), 3, 1, "max"),
            (
                Expect(
                    "A[1, 1]",
                    lambda o: o[0][1, 1],
                    [
                        [1.96710175, 0.84616065, 1.27375593],
                        [1.96710175, 0.84616065, 1.23616403],
                        [1.62765075, 1.12141771, 1.2245077],
                    ],
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (2, 5, 5, 3), f 3, stride 1, mode average",
            "published",
            _pool_args(1, (2, 5, 5, 3), 3, 1, "average"),
            (
                Expect(
                    "A[1, 1]",
                    lambda o: o[0][1, 1],
                    [
                        [0.44497696, -0.00261695, -0.31040307],
                        [0.50811474, -0.23493734, -0.23961183],
                        [0.11872677, 0.17255229, -0.22112197],
                    ],
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (2, 5, 5, 3), f 3, stride 2, mode max",
            "published",
            _pool_args(1, (2, 5, 5, 3), 3, 2, "max"),
            (
                Expect(
                    "A[0]",
                    lambda o: o[0][0],
                    [
                        [[1.74481176, 0.90159072, 1.65980218], [1.74481176, 1.6924546, 1.65980218]],
                        [[1.13162939, 1.51981682, 2.18557541], [1.13162939, 1.6924546, 2.18557541]],
                    ],
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (2, 5, 5, 3), f 3, stride 2, mode average",
            "published",
            _pool_args(1, (2, 5, 5, 3), 3, 2, "average"),
            (
                Expect(
                    "A[1]",
                    lambda o: o[0][1],
                    [
                        [[-0.17313416, 0.32377198, -0.34317572], [0.02030094, 0.14141479, -0.01231585]],
                        [[0.42944926, 0.08446996, -0.27290905], [0.15077452, 0.28911175, 0.00123239]],
                    ],
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (2, 4, 4, 3), f 3, stride 2 (older notebook)",
            "published",
            _pool_args(1, (2, 4, 4, 3), 3, 2),
            (
                Expect(
                    "A",
                    lambda o: o[0],
                    [[[[1.74481176, 0.86540763, 1.13376944]]], [[[1.13162939, 1.51981682, 2.18557541]]]],
                ),
            ),
        ),
        Case(
            "a window larger than the image (2 x 2 input, f 3, stride 2)",
            "edge",
            _pool_args(3, (1, 2, 2, 1), 3, 2),
        ),
        Case(
            "rectangular images (1, 4, 6, 2), f 2, stride 2, average",
            "edge",
            _pool_args(4, (1, 4, 6, 2), 2, 2, "average"),
        ),
    ],
    "create_mask_from_window": [
        Case(
            "np.random.seed(1); x = randn(2, 3)",
            "published",
            lambda: ((_rs(1).randn(2, 3),), {}),
            (Expect("mask", lambda o: o, [[True, False, False], [False, False, False]]),),
        ),
        Case(
            "x = [[-1, 2, 3], [2, -3, 2], [1, 5, -2]]",
            "published",
            lambda: ((np.array([[-1, 2, 3], [2, -3, 2], [1, 5, -2]]),), {}),
            (
                Expect(
                    "mask", lambda o: o, [[False, False, False], [False, False, False], [False, True, False]]
                ),
            ),
        ),
        Case("tied maxima [[1, 5], [5, 2]]", "edge", lambda: ((np.array([[1.0, 5.0], [5.0, 2.0]]),), {})),
    ],
    "distribute_value": [
        Case(
            "distribute_value(2, (2, 2))",
            "published",
            lambda: ((2, (2, 2)), {}),
            (Expect("a", lambda o: o, [[0.5, 0.5], [0.5, 0.5]]),),
        ),
        Case(
            "distribute_value(100, (10, 10))",
            "published",
            lambda: ((100, (10, 10)), {}),
            (Expect("a", lambda o: o, np.ones((10, 10))),),
        ),
        Case("a rectangular window: distribute_value(6.0, (2, 3))", "edge", lambda: ((6.0, (2, 3)), {})),
    ],
    "pool_backward": [
        Case("batch of 1, f 2, stride 2, max", "edge", _pool_backward_args(5, (1, 4, 4, 2), 2, 2, "max")),
        Case(
            "np.random.seed(1); A_prev (5, 5, 3, 2), f 2, stride 1, dA randn(5, 4, 2, 2), mode max",
            "published",
            _notebook_pool_backward("max"),
            (
                Expect(
                    "dA_prev[1, 1]", lambda o: o[1, 1], [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]
                ),
            ),
        ),
        Case(
            "np.random.seed(1); A_prev (5, 5, 3, 2), f 2, stride 1, dA randn(5, 4, 2, 2), mode average",
            "published",
            _notebook_pool_backward("average"),
            (
                Expect(
                    "dA_prev[1, 1]",
                    lambda o: o[1, 1],
                    [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]],
                ),
            ),
        ),
        Case(
            "overlapping windows (f 3, stride 1), max",
            "edge",
            _pool_backward_args(6, (1, 5, 5, 2), 3, 1, "max"),
        ),
        Case(
            "overlapping windows (f 3, stride 2), average",
            "edge",
            _pool_backward_args(7, (1, 5, 7, 2), 3, 2, "average"),
        ),
        Case(
            "tied maxima (windows of zeros after a ReLU), f 2, stride 2, max",
            "edge",
            _pool_backward_args(8, (1, 4, 4, 2), 2, 2, "max", ties=True),
        ),
        Case(
            "dA_prev against the numerical gradient of pool_forward, max",
            "gradient",
            _pool_backward_args(9, (1, 5, 5, 2), 3, 2, "max", with_A_prev=True),
            oracle=False,
            forward="pool_forward",
            gradient=_pool_gradient("max"),
        ),
        Case(
            "dA_prev against the numerical gradient of pool_forward, average",
            "gradient",
            _pool_backward_args(10, (1, 5, 5, 2), 3, 1, "average", with_A_prev=True),
            oracle=False,
            forward="pool_forward",
            gradient=_pool_gradient("average"),
        ),
    ],
}


# --------------------------------------------------------------------------- cs231n
def _naive_conv_inputs(
    seed: int,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: int,
    pad: int,
    with_dout: bool = False,
) -> Args:
    r = _rs(seed)
    x, w, b = r.randn(*x_shape), r.randn(*w_shape), r.randn(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    if not with_dout:
        return (x, w, b, conv_param), {}
    H = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    W = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    return (x, w, b, conv_param, r.randn(x_shape[0], w_shape[0], H, W)), {}


def _naive_conv_backward_args(*spec: Any) -> Callable[[], Args]:
    def make() -> Args:
        (x, w, b, conv_param, dout), _ = _naive_conv_inputs(*spec, with_dout=True)
        _, cache = cs231n.conv_forward_naive(x, w, b, conv_param)
        return (dout, cache), {}

    return make


def _assignment_conv() -> Args:
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    return (x, w, b, {"stride": 2, "pad": 1}), {}


def _naive_pool_args(
    seed: int,
    shape: tuple[int, ...],
    ph: int,
    pw: int,
    stride: int,
    ties: bool = False,
    backward: bool = False,
    with_x: bool = False,
) -> Callable[[], Args]:
    def make() -> Args:
        x = _rs(seed).randn(*shape)
        if ties:
            x = np.maximum(x, 0.0)
            x[0, :, :2, :2] = 0.0
        pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
        if not backward:
            return (x, pool_param), {}
        N, C, H, W = shape
        dout = _rs(seed + 1).randn(N, C, (H - ph) // stride + 1, (W - pw) // stride + 1)
        if with_x:
            return (x, pool_param, dout), {}
        _, cache = cs231n.max_pool_forward_naive(x, pool_param)
        return (dout, cache), {}

    return make


_CS231N: dict[str, list[Case]] = {
    "conv_forward_naive": [
        Case(
            "batch of 1, pad 0, stride 1",
            "edge",
            lambda: _naive_conv_inputs(5, (1, 2, 4, 4), (2, 2, 3, 3), 1, 0),
        ),
        Case(
            "the assignment's check: x, w, b = linspace(...), stride 2, pad 1",
            "published",
            _assignment_conv,
            (
                Expect(
                    "out",
                    lambda o: o[0],
                    [
                        [
                            [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                            [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                            [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
                        ],
                        [
                            [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                            [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                            [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
                        ],
                    ],
                ),
            ),
        ),
        Case(
            "rectangular kernels (2 x 3) on 5 x 6 images, stride 2, pad 1",
            "edge",
            lambda: _naive_conv_inputs(6, (2, 2, 5, 6), (3, 2, 2, 3), 2, 1),
        ),
    ],
    "conv_backward_naive": [
        Case(
            "batch of 1, pad 0, stride 1",
            "edge",
            _naive_conv_backward_args(5, (1, 2, 4, 4), (2, 2, 3, 3), 1, 0),
        ),
        Case(
            "overlapping windows (3 x 3, stride 1, pad 1)",
            "edge",
            _naive_conv_backward_args(6, (2, 3, 5, 5), (2, 3, 3, 3), 1, 1),
        ),
        Case(
            "rectangular kernels (2 x 3) on 5 x 6 images, stride 2, pad 1",
            "edge",
            _naive_conv_backward_args(7, (2, 2, 5, 6), (3, 2, 2, 3), 2, 1),
        ),
        Case(
            "dx, dw, db against the numerical gradient of conv_forward_naive (pad 1, stride 2)",
            "gradient",
            lambda: _naive_conv_inputs(8, (1, 2, 5, 5), (2, 2, 3, 3), 2, 1, with_dout=True),
            oracle=False,
            forward="conv_forward_naive",
            gradient=_layer_gradient(3, ("dx", "dw", "db"), "conv_forward_naive"),
        ),
    ],
    "max_pool_forward_naive": [
        Case("batch of 1, 2 x 2 pool, stride 2", "edge", _naive_pool_args(5, (1, 2, 4, 4), 2, 2, 2)),
        Case(
            "the assignment's check: x = linspace(-0.3, 0.4), 2 x 2 pool, stride 2",
            "published",
            lambda: (
                (
                    np.linspace(-0.3, 0.4, num=96).reshape(2, 3, 4, 4),
                    {"pool_width": 2, "pool_height": 2, "stride": 2},
                ),
                {},
            ),
            (
                Expect(
                    "out",
                    lambda o: o[0],
                    [
                        [
                            [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                            [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                            [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]],
                        ],
                        [
                            [[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                            [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                            [[0.32631579, 0.34105263], [0.38526316, 0.4]],
                        ],
                    ],
                ),
            ),
        ),
        Case(
            "rectangular pool (2 x 3), stride 1 (overlapping)",
            "edge",
            _naive_pool_args(6, (2, 2, 4, 5), 2, 3, 1),
        ),
    ],
    "max_pool_backward_naive": [
        Case(
            "batch of 1, 2 x 2 pool, stride 2",
            "edge",
            _naive_pool_args(5, (1, 2, 4, 4), 2, 2, 2, backward=True),
        ),
        Case(
            "overlapping windows (3 x 3 pool, stride 1)",
            "edge",
            _naive_pool_args(6, (2, 2, 5, 5), 3, 3, 1, backward=True),
        ),
        Case(
            "tied maxima (windows of zeros after a ReLU), 2 x 2 pool, stride 2",
            "edge",
            _naive_pool_args(7, (1, 2, 4, 4), 2, 2, 2, ties=True, backward=True),
        ),
        Case(
            "dx against the numerical gradient of max_pool_forward_naive (2 x 3 pool, stride 1)",
            "gradient",
            _naive_pool_args(8, (1, 2, 4, 5), 2, 3, 1, backward=True, with_x=True),
            oracle=False,
            forward="max_pool_forward_naive",
            gradient=_layer_gradient(1, ("dx",), "max_pool_forward_naive"),
        ),
    ],
}


# --------------------------------------------------------------------------- dnn
def _network(seed: int, dims: Sequence[int], m: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    r = _rs(seed)
    X = r.randn(dims[0], m)
    params: dict[str, np.ndarray] = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = r.randn(dims[layer], dims[layer - 1]) / np.sqrt(dims[layer - 1])
        params[f"b{layer}"] = 0.1 * r.randn(dims[layer], 1)
    Y = (r.rand(1, m) < 0.5).astype(np.float64)
    return X, Y, params


def _grads_like(seed: int, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    r = _rs(seed)
    return {"d" + k: r.randn(*v.shape) for k, v in params.items()}


def _L_backward_args(seed: int, dims: Sequence[int], m: int, saturate: bool = False) -> Callable[[], Args]:
    def make() -> Args:
        X, Y, params = _network(seed, dims, m)
        AL, caches = dnn.L_model_forward(X, params)
        if saturate:  # a saturated sigmoid: outputs of exactly 0 and 1, on examples it gets right
            Y = np.array([[1.0] + [0.0] + list(Y[0, 2:])])
            AL = AL.copy()
            AL[0, 0], AL[0, 1] = 1.0, 0.0
        return (AL, Y, caches), {}

    return make


def _linear_args(
    seed: int,
    n: int,
    n_prev: int,
    m: int,
    activation: str | None = None,
    backward: bool = False,
    raw: bool = False,
) -> Callable[[], Args]:
    def make() -> Args:
        r = _rs(seed)
        A, W, b = r.randn(n_prev, m), r.randn(n, n_prev), r.randn(n, 1)
        extra = (activation,) if activation else ()
        if not backward:
            return (A, W, b, *extra), {}
        dout = r.randn(n, m)
        if raw:
            return (A, W, b, dout), {}
        if activation:
            _, cache = dnn.linear_activation_forward(A, W, b, activation)
        else:
            _, cache = dnn.linear_forward(A, W, b)
        return (dout, cache, *extra), {}

    return make


def _activation_args(
    seed: int,
    shape: tuple[int, ...],
    backward: bool,
    zeros: bool = False,
    away_from_zero: bool = False,
    raw: bool = False,
) -> Callable[[], Args]:
    def make() -> Args:
        r = _rs(seed)
        Z = r.randn(*shape)
        if zeros:
            Z[0, ::2] = 0.0
        if away_from_zero:
            Z = np.where(np.abs(Z) < 0.1, 0.5, Z)
        if not backward:
            return (Z,), {}
        dA = r.randn(*shape)
        return ((Z, dA), {}) if raw else ((dA, Z), {})

    return make


def _L_forward_notebook() -> Args:
    r = _rs(6)
    X = r.randn(5, 4)
    params = {}
    for layer, shape in enumerate([(4, 5), (3, 4), (1, 3)], start=1):
        params[f"W{layer}"] = r.randn(*shape)
        params[f"b{layer}"] = r.randn(shape[0], 1)
    return (X, params), {}


def _linear_notebook(seed: int, activation: str | None) -> Callable[[], Args]:
    def make() -> Args:
        r = _rs(seed)
        A, W, b = r.randn(3, 2), r.randn(1, 3), r.randn(1, 1)
        return ((A, W, b, activation) if activation else (A, W, b)), {}

    return make


_DNN: dict[str, list[Case]] = {
    "sigmoid": [
        Case("Z = randn(3, 4)", "edge", _activation_args(1, (3, 4), False)),
        Case(
            "large |Z|: [-1000, -50, 0, 50, 1000]",
            "edge",
            lambda: ((np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]]),), {}),
        ),
    ],
    "relu": [
        Case("Z = randn(3, 4) with some exact zeros", "edge", _activation_args(2, (3, 4), False, zeros=True)),
    ],
    "sigmoid_backward": [
        Case("Z, dA = randn(3, 4)", "edge", _activation_args(3, (3, 4), True)),
        Case(
            "large |Z|: [-1000, -50, 0, 50, 1000]",
            "edge",
            lambda: ((np.ones((1, 5)), np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])), {}),
        ),
        Case(
            "dZ against the numerical gradient of sigmoid",
            "gradient",
            _activation_args(4, (2, 5), True, raw=True),
            oracle=False,
            forward="sigmoid",
            gradient=_activation_gradient("sigmoid"),
        ),
    ],
    "relu_backward": [
        Case(
            "Z with exact zeros (the notebook: dZ = 0 where Z <= 0)",
            "edge",
            _activation_args(5, (3, 4), True, zeros=True),
        ),
        Case(
            "dZ against the numerical gradient of relu (Z away from 0)",
            "gradient",
            _activation_args(6, (2, 5), True, away_from_zero=True, raw=True),
            oracle=False,
            forward="relu",
            gradient=_activation_gradient("relu"),
        ),
    ],
    "initialize_parameters": [
        Case(
            "initialize_parameters(3, 2, 1)",
            "published",
            lambda: ((3, 2, 1), {}),
            (
                Expect(
                    "W1",
                    lambda o: o["W1"],
                    [[0.01624345, -0.00611756, -0.00528172], [-0.01072969, 0.00865408, -0.02301539]],
                ),
                Expect("b1", lambda o: o["b1"], np.zeros((2, 1))),
                Expect("W2", lambda o: o["W2"], [[0.01744812, -0.00761207]]),
                Expect("b2", lambda o: o["b2"], np.zeros((1, 1))),
            ),
        ),
    ],
    "initialize_parameters_deep": [
        Case(
            "initialize_parameters_deep([5, 4, 3])",
            "published",
            lambda: (([5, 4, 3],), {}),
            (
                Expect(
                    "W1",
                    lambda o: o["W1"],
                    [
                        [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
                        [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
                        [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
                        [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068],
                    ],
                ),
                Expect("b1", lambda o: o["b1"], np.zeros((4, 1))),
                Expect(
                    "W2",
                    lambda o: o["W2"],
                    [
                        [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
                        [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
                        [-0.00768836, -0.00230031, 0.00745056, 0.01976111],
                    ],
                ),
                Expect("b2", lambda o: o["b2"], np.zeros((3, 1))),
            ),
        ),
        Case("a single layer: initialize_parameters_deep([2, 1])", "edge", lambda: (([2, 1],), {})),
    ],
    "linear_forward": [
        Case("a batch of 1", "edge", _linear_args(3, 2, 3, 1)),
        Case(
            "np.random.seed(1); A (3, 2), W (1, 3), b (1, 1)",
            "published",
            _linear_notebook(1, None),
            (Expect("Z", lambda o: o[0], [[3.26295337, -1.23429987]]),),
        ),
    ],
    "linear_activation_forward": [
        Case(
            "np.random.seed(2); A (3, 2), W (1, 3), b (1, 1), sigmoid",
            "published",
            _linear_notebook(2, "sigmoid"),
            (Expect("A", lambda o: o[0], [[0.96890023, 0.11013289]]),),
        ),
        Case(
            "np.random.seed(2); A (3, 2), W (1, 3), b (1, 1), relu",
            "published",
            _linear_notebook(2, "relu"),
            (Expect("A", lambda o: o[0], [[3.43896131, 0.0]]),),
        ),
        Case("a batch of 1, relu, 3 units", "edge", _linear_args(4, 3, 2, 1, "relu")),
    ],
    "L_model_forward": [
        Case(
            "np.random.seed(6); X (5, 4), layers 5-4-3-1",
            "published",
            _L_forward_notebook,
            (
                Expect("AL", lambda o: o[0], [[0.03921668, 0.70498921, 0.19734387, 0.04728177]]),
                Expect("len(caches)", lambda o: len(o[1]), 3),
            ),
        ),
        Case(
            "a single layer (L = 1), batch of 1",
            "edge",
            lambda: (lambda X, Y, p: ((X, p), {}))(*_network(7, [3, 1], 1)),
        ),
    ],
    "compute_cost": [
        Case(
            "AL = [[0.8, 0.9, 0.4]], Y = [[1, 1, 0]]",
            "published",
            lambda: ((np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]])), {}),
            (Expect("cost", lambda o: o, 0.2797765635793422, 1e-12),),
        ),
        Case(
            "AL exactly 1 and 0 on examples it gets right: AL = [[1.0, 0.0, 0.7]], Y = [[1, 0, 1]]",
            "edge",
            lambda: ((np.array([[1.0, 0.0, 0.7]]), np.array([[1, 0, 1]])), {}),
        ),
    ],
    "linear_backward": [
        Case("dZ (3, 4), A_prev (5, 4), W (3, 5)", "edge", _linear_args(5, 3, 5, 4, backward=True)),
        Case("a batch of 1", "edge", _linear_args(6, 2, 3, 1, backward=True)),
        Case(
            "dA_prev, dW, db against the numerical gradient of linear_forward",
            "gradient",
            _linear_args(7, 2, 3, 4, backward=True, raw=True),
            oracle=False,
            forward="linear_forward",
            gradient=_linear_gradient("linear_forward", None),
        ),
    ],
    "linear_activation_backward": [
        Case("sigmoid, dA (1, 2), A_prev (3, 2)", "edge", _linear_args(8, 1, 3, 2, "sigmoid", backward=True)),
        Case("relu, dA (3, 4), A_prev (2, 4)", "edge", _linear_args(9, 3, 2, 4, "relu", backward=True)),
        Case(
            "relu: against the numerical gradient of linear_activation_forward",
            "gradient",
            _linear_args(10, 2, 3, 4, "relu", backward=True, raw=True),
            oracle=False,
            forward="linear_activation_forward",
            gradient=_linear_gradient("linear_activation_forward", "relu"),
        ),
    ],
    "L_model_backward": [
        Case("two layers 4-3-1, m = 5", "edge", _L_backward_args(11, [4, 3, 1], 5)),
        Case("three layers 5-4-3-1, batch of 1", "edge", _L_backward_args(12, [5, 4, 3, 1], 1)),
        Case(
            "AL exactly 1 and 0 on examples it gets right (a saturated sigmoid)",
            "edge",
            _L_backward_args(13, [4, 3, 1], 5, saturate=True),
        ),
        Case(
            "dW, db against the numerical gradient of compute_cost(L_model_forward)",
            "gradient",
            lambda: (lambda X, Y, p: ((X, Y, p), {}))(*_network(14, [3, 4, 2, 1], 5)),
            oracle=False,
            forward="L_model_forward",
            gradient=_L_model_gradient,
        ),
    ],
    "update_parameters": [
        Case(
            "two layers, learning_rate 0.1",
            "edge",
            lambda: (lambda p: ((p, _grads_like(15, p), 0.1), {}))(_network(15, [3, 2, 1], 1)[2]),
        ),
    ],
    "predict": [
        Case(
            "two layers 4-3-1, m = 6",
            "edge",
            lambda: (lambda X, Y, p: ((X, Y, p), {}))(*_network(16, [4, 3, 1], 6)),
        ),
    ],
}


# --------------------------------------------------------------------------- optim
def _mini_batch_args(m: int, size: int, seed: int = 0) -> Callable[[], Args]:
    def make() -> Args:
        X = np.vstack([np.arange(m), 10.0 * np.arange(m)])
        Y = (np.arange(m)[None, :] % 2).astype(np.float64)
        return (X, Y), {"mini_batch_size": size, "seed": seed}

    return make


def _notebook_mini_batches() -> Args:
    r = _rs(1)
    X = r.randn(12288, 148)
    Y = r.randn(1, 148) < 0.5
    return (X, Y, 64), {}


def _adam_args(t: int, tiny: bool = False) -> Callable[[], Args]:
    def make() -> Args:
        params = _network(21, [3, 2, 1], 1)[2]
        grads = _grads_like(24, params)
        if tiny:  # from zero moments with gradients of 1e-6: sqrt(s_corrected) is comparable to epsilon
            zeros = {k: np.zeros_like(g) for k, g in grads.items()}
            return (params, {k: 1e-6 * g for k, g in grads.items()}, zeros, dict(zeros), t), {
                "learning_rate": 0.01
            }
        v = _grads_like(22, params)
        s = {k: np.abs(g) for k, g in _grads_like(23, params).items()}
        return (params, grads, v, s, t), {"learning_rate": 0.01}

    return make


_OPTIM: dict[str, list[Case]] = {
    "update_parameters_with_gd": [
        Case(
            "two layers, learning_rate 0.01",
            "edge",
            lambda: (lambda p: ((p, _grads_like(17, p), 0.01), {}))(_network(17, [3, 2, 1], 1)[2]),
        ),
    ],
    "random_mini_batches": [
        Case("m = 9, mini_batch_size 3 (no smaller last batch), seed 3", "edge", _mini_batch_args(9, 3, 3)),
        Case(
            "m = 10, mini_batch_size 3: the last smaller mini-batch, seed 3",
            "edge",
            _mini_batch_args(10, 3, 3),
        ),
        Case("mini_batch_size 1", "edge", _mini_batch_args(4, 1, 5)),
        Case(
            "np.random.seed(1); X randn(12288, 148), Y, mini_batch_size 64",
            "published",
            _notebook_mini_batches,
            (
                Expect(
                    "mini-batch X shapes",
                    lambda o: [np.shape(bx) for bx, _ in o],
                    [(12288, 64), (12288, 64), (12288, 20)],
                ),
                Expect(
                    "mini-batch Y shapes",
                    lambda o: [np.shape(by) for _, by in o],
                    [(1, 64), (1, 64), (1, 20)],
                ),
                Expect(
                    "mini_batches[0][0][0][0:3]",
                    lambda o: o[0][0][0][0:3],
                    [0.90085595, -0.7612069, 0.2344157],
                ),
            ),
        ),
    ],
    "initialize_velocity": [
        Case("two layers", "edge", lambda: ((_network(18, [3, 2, 1], 1)[2],), {})),
    ],
    "update_parameters_with_momentum": [
        Case(
            "two layers, beta 0.9, learning_rate 0.01",
            "edge",
            lambda: (lambda p: ((p, _grads_like(19, p), _grads_like(20, p), 0.9, 0.01), {}))(
                _network(19, [3, 2, 1], 1)[2]
            ),
        ),
    ],
    "initialize_adam": [
        Case("two layers", "edge", lambda: ((_network(25, [3, 2, 1], 1)[2],), {})),
    ],
    "update_parameters_with_adam": [
        Case("two layers, t = 2, learning_rate 0.01", "edge", _adam_args(2)),
        Case(
            "the first step (t = 1) from zero moments with gradients of 1e-6",
            "edge",
            _adam_args(1, tiny=True),
        ),
    ],
    "update_lr": [
        Case(
            "update_lr(0.5, 2, 1)",
            "published",
            lambda: ((0.5, 2, 1), {}),
            (Expect("learning_rate", lambda o: o, 0.5 / 3, 1e-12),),
        ),
        Case("update_lr(0.1, 10, 0.3)", "edge", lambda: ((0.1, 10, 0.3), {})),
    ],
    "schedule_lr_decay": [
        Case(
            "schedule_lr_decay(0.5, 100, 1, 100)",
            "published",
            lambda: ((0.5, 100, 1, 100), {}),
            (Expect("learning_rate", lambda o: o, 0.25, 1e-12),),
        ),
        Case(
            "between two steps of the staircase: schedule_lr_decay(0.5, 150, 1, 100)",
            "edge",
            lambda: ((0.5, 150, 1, 100), {}),
        ),
    ],
}


# --------------------------------------------------------------------------- app
def _toy_training(seed: int, dims: Sequence[int]) -> Callable[[], Args]:
    def make() -> Args:
        r = _rs(seed)
        X = r.randn(dims[0], 12)
        Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(np.float64)
        return (X, Y, list(dims)), {"learning_rate": 0.1, "num_iterations": 101, "print_cost": False}

    return make


def _cat_data_dir() -> Path:
    env = os.environ.get("DEEPSTEP_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[5] / "shared" / "data")
    for folder in candidates:
        if (folder / "train_catvnoncat.h5").is_file() and (folder / "test_catvnoncat.h5").is_file():
            return folder
    raise Skip("the cat dataset was not found (set DEEPSTEP_DATA to the folder of train_catvnoncat.h5)")


def _cat_first_iteration(dims: Sequence[int]) -> Callable[[], Args]:
    def make() -> Args:
        folder = _cat_data_dir()
        train_x_orig, train_y, *_ = app.load_data(
            folder / "train_catvnoncat.h5", folder / "test_catvnoncat.h5"
        )
        X = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255
        return (X, train_y, list(dims)), {"learning_rate": 0.0075, "num_iterations": 1, "print_cost": False}

    return make


_APP: dict[str, list[Case]] = {
    "two_layer_model": [
        Case(
            "a toy problem: layers (5, 4, 1), 101 iterations, learning_rate 0.1",
            "edge",
            _toy_training(26, (5, 4, 1)),
        ),
        Case(
            "the cat data, layers (12288, 7, 1): the cost after iteration 0",
            "published",
            _cat_first_iteration((12288, 7, 1)),
            (Expect("costs[0]", lambda o: o[1][0], 0.6930497356599888),),
            oracle=False,
        ),
    ],
    "L_layer_model": [
        Case(
            "a toy problem: layers [5, 4, 3, 1], 101 iterations, learning_rate 0.1",
            "edge",
            _toy_training(27, (5, 4, 3, 1)),
        ),
        Case(
            "the cat data, layers [12288, 20, 7, 5, 1]: the cost after iteration 0",
            "published",
            _cat_first_iteration((12288, 20, 7, 5, 1)),
            (Expect("costs[0]", lambda o: o[1][0], 0.7717493284237686),),
            oracle=False,
        ),
    ],
}

CASES: dict[str, list[Case]] = {**_CNN, **_CS231N, **_DNN, **_OPTIM, **_APP}
assert set(CASES) == set(FUNCTIONS), sorted(set(FUNCTIONS) ^ set(CASES))
