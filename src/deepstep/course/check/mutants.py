"""The catalogue of known mistakes: one small wrong implementation (a *mutant*) per classic bug.

When a learner's function fails a case and its output there equals a mutant's (or it raises
the same exception with the same message), the report names the mutant and gives its
explanation. Each mutant is written here from the description of the bug, in the style of
the notebooks; they are deliberately wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import cnn, cs231n, dnn

__all__ = ["Mutant", "MUTANTS", "mutants_for"]


@dataclass(frozen=True)
class Mutant:
    """A named wrong implementation of the course function ``target``."""

    name: str
    target: str
    explanation: str
    fn: Callable[..., Any]
    advisory: bool = False  # only visible on inputs without a valid result: reported as a note, not a failure


MUTANTS: list[Mutant] = []


def _mutant(
    target: str, explanation: str, advisory: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        MUTANTS.append(Mutant(fn.__name__, target, explanation, fn, advisory))
        return fn

    return register


def mutants_for(name: str) -> list[Mutant]:
    """The catalogued mistakes of the course function ``name``."""
    return [m for m in MUTANTS if m.target == name]


# --------------------------------------------------------------------------- cnn
@_mutant(
    "zero_pad",
    "your zero_pad pads every axis, the batch and channel axes too: pad only the height "
    "and width, np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))",
)
def zero_pad_pads_every_axis(X, pad):
    return np.pad(X, pad, mode="constant", constant_values=0)


@_mutant(
    "conv_single_step",
    "float(b) fails on NumPy 2 for a (1, 1, 1) array (only 0-d arrays convert to "
    "a Python float): use b.item() or np.squeeze(b)",
)
def conv_single_step_float_of_array(a_slice_prev, W, b):
    return np.sum(np.multiply(a_slice_prev, W)) + float(b)


@_mutant(
    "conv_single_step",
    "Z + b keeps b's shape: your conv_single_step returns a (1, 1, 1) array, not a "
    "scalar; add b.item() (or np.squeeze(b))",
)
def conv_single_step_returns_array(a_slice_prev, W, b):
    return np.sum(np.multiply(a_slice_prev, W)) + b


def _conv_forward(A_prev, W, b, hparameters, stride_in_corners: bool = True, truncate: bool = False):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    if truncate:
        n_H, n_W = int((n_H_prev - f + 2 * pad) / stride) + 1, int((n_W_prev - f + 2 * pad) / stride) + 1
    else:
        n_H, n_W = (n_H_prev - f + 2 * pad) // stride + 1, (n_W_prev - f + 2 * pad) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    for i in range(m):
        for h in range(n_H):
            v = h * stride if stride_in_corners else h
            for w in range(n_W):
                u = w * stride if stride_in_corners else w
                for c in range(n_C):
                    Z[i, h, w, c] = (
                        np.sum(A_pad[i, v : v + f, u : u + f, :] * W[..., c]) + b[0, 0, 0, c].item()
                    )
    return Z, (A_prev, W, b, hparameters)


@_mutant(
    "conv_forward",
    "int() truncates towards zero, it is not floor: for a filter larger than the padded "
    "input int((n_H_prev - f + 2 * pad) / stride) + 1 is 1 instead of 0, and your loop fails "
    "on a partial window; use // and reject such inputs with a clear error (on inputs where "
    "the filter fits, int() and // agree)",
    advisory=True,
)
def conv_forward_int_truncates(A_prev, W, b, hparameters):
    return _conv_forward(A_prev, W, b, hparameters, truncate=True)


@_mutant(
    "conv_forward",
    "your windows start at h and w instead of h * stride and w * stride: "
    "vert_start = h * stride, horiz_start = w * stride",
)
def conv_forward_ignores_stride_in_corners(A_prev, W, b, hparameters):
    return _conv_forward(A_prev, W, b, hparameters, stride_in_corners=False)


def _conv_backward(
    dZ, cache, *, unpad_negative: bool = False, loop_over_input: bool = False, overwrite: bool = False
):
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    dA_prev = np.zeros(A_prev.shape)
    dW, db = np.zeros(W.shape), np.zeros((1, 1, 1, n_C))
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad = np.pad(dA_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    rows, cols = (n_H_prev, n_W_prev) if loop_over_input else (n_H, n_W)
    for i in range(m):
        da = dA_pad[i]
        for h in range(rows):
            for w in range(cols):
                for c in range(n_C):
                    v, u = h * stride, w * stride
                    if overwrite:
                        da[v : v + f, u : u + f, :] = W[..., c] * dZ[i, h, w, c]
                    else:
                        da[v : v + f, u : u + f, :] += W[..., c] * dZ[i, h, w, c]
                    dW[..., c] += A_pad[i, v : v + f, u : u + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
        if unpad_negative:
            dA_prev[i, :, :, :] = da[pad:-pad, pad:-pad, :]
        else:
            dA_prev[i, :, :, :] = da[pad : pad + n_H_prev, pad : pad + n_W_prev, :]
    return dA_prev, dW, db


@_mutant(
    "conv_backward",
    "X[pad:-pad] is empty when pad == 0 (-0 is 0): unpad with "
    "da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
)
def conv_backward_unpads_with_negative_slice(dZ, cache):
    return _conv_backward(dZ, cache, unpad_negative=True)


@_mutant(
    "conv_backward",
    "your conv_backward loops over the input's n_H_prev x n_W_prev instead of the "
    "output's n_H x n_W (dZ.shape): the published case has n_H == n_H_prev, which hides it",
)
def conv_backward_loops_over_input(dZ, cache):
    return _conv_backward(dZ, cache, loop_over_input=True)


@_mutant(
    "conv_backward",
    "your conv_backward overwrites the gradient of overlapping windows: use += on "
    "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]",
)
def conv_backward_overwrites_overlaps(dZ, cache):
    return _conv_backward(dZ, cache, overwrite=True)


def _pool_forward(A_prev, hparameters, mode, *, stride_in_corners: bool = True):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = 1 + (n_H_prev - f) // stride, 1 + (n_W_prev - f) // stride
    A = np.zeros((m, max(n_H, 0), max(n_W, 0), n_C))
    for i in range(m):
        for h in range(n_H):
            v = h * stride if stride_in_corners else h
            for w in range(n_W):
                u = w * stride if stride_in_corners else w
                for c in range(n_C):
                    window = A_prev[i, v : v + f, u : u + f, c]
                    A[i, h, w, c] = np.max(window) if mode == "max" else np.mean(window)
    return A, (A_prev, hparameters)


@_mutant("pool_forward", "your windows start at h and w instead of h * stride and w * stride")
def pool_forward_ignores_stride_in_corners(A_prev, hparameters, mode="max"):
    return _pool_forward(A_prev, hparameters, mode, stride_in_corners=False)


@_mutant(
    "create_mask_from_window",
    "your mask marks only the first maximum (argmax); the notebook's "
    "mask = (x == np.max(x)) marks every tied maximum",
)
def create_mask_first_argmax(x):
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


@_mutant("distribute_value", "your distribute_value divides by n_H only: average = dz / (n_H * n_W)")
def distribute_value_divides_by_n_H(dz, shape):
    n_H, n_W = shape
    return np.full(shape, dz / n_H)


@_mutant("distribute_value", "dz / n_H * n_W multiplies by n_W (left to right): write dz / (n_H * n_W)")
def distribute_value_precedence(dz, shape):
    n_H, n_W = shape
    return np.full(shape, dz / n_H * n_W)


def _pool_backward(dA, cache, mode, *, overwrite: bool = False, first_argmax: bool = False):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    v, u = h * stride, w * stride
                    if mode == "max":
                        window = A_prev[i, v : v + f, u : u + f, c]
                        mask = create_mask_first_argmax(window) if first_argmax else window == np.max(window)
                        grad = mask * dA[i, h, w, c]
                    else:
                        grad = np.full((f, f), dA[i, h, w, c] / (f * f))
                    if overwrite:
                        dA_prev[i, v : v + f, u : u + f, c] = grad
                    else:
                        dA_prev[i, v : v + f, u : u + f, c] += grad
    return dA_prev


@_mutant(
    "pool_backward",
    "your pool_backward overwrites overlapping windows: use += on "
    "dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] (stride < f makes windows "
    "overlap; tests with stride == f cannot see it)",
)
def pool_backward_overwrites_overlaps(dA, cache, mode="max"):
    return _pool_backward(dA, cache, mode, overwrite=True)


@_mutant(
    "pool_backward",
    "with tied maxima your pool_backward gives the gradient to the first maximum only; "
    "the notebook's create_mask_from_window (x == max) gives it to every tied maximum",
)
def pool_backward_first_argmax(dA, cache, mode="max"):
    return _pool_backward(dA, cache, mode, first_argmax=True)


# --------------------------------------------------------------------------- cs231n
@_mutant("conv_forward_naive", "your windows start at i and j instead of i * stride and j * stride")
def conv_forward_naive_ignores_stride_in_corners(x, w, b, conv_param):
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param["stride"], conv_param["pad"]
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out, W_out = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = np.sum(x_pad[n, :, i : i + HH, j : j + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


@_mutant(
    "conv_backward_naive",
    "dx_pad[:, :, pad:-pad, pad:-pad] is empty when pad == 0 (-0 is 0): unpad "
    "with dx_pad[:, :, pad:pad + H, pad:pad + W]",
)
def conv_backward_naive_unpads_with_negative_slice(dout, cache):
    x, w, b, conv_param = cache
    dx, dw, db = cs231n.conv_backward_naive(dout, cache)
    p = conv_param["pad"]
    H, W = x.shape[2:]
    dx_pad = np.zeros((*x.shape[:2], H + 2 * p, W + 2 * p))
    dx_pad[:, :, p : p + H, p : p + W] = dx
    return dx_pad[:, :, p:-p, p:-p], dw, db


def _max_pool_backward(dout, cache, *, overwrite: bool = False, all_ties: bool = False):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    if all_ties:
                        dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += (window == np.max(window)) * dout[
                            n, c, i, j
                        ]
                        continue
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    if overwrite:
                        dx[n, c, i * s + p, j * s + q] = dout[n, c, i, j]
                    else:
                        dx[n, c, i * s + p, j * s + q] += dout[n, c, i, j]
    return dx


@_mutant(
    "max_pool_backward_naive",
    "your max_pool_backward_naive overwrites (=) where overlapping windows "
    "share their maximum: use += (stride < pool size)",
)
def max_pool_backward_naive_overwrites_overlaps(dout, cache):
    return _max_pool_backward(dout, cache, overwrite=True)


@_mutant(
    "max_pool_backward_naive",
    "with tied maxima (a window of zeros after a ReLU) your mask x == max "
    "sends the gradient to every tied entry, multiplying it; route it to one "
    "argmax, as PyTorch and deepstep do",
)
def max_pool_backward_naive_every_tie(dout, cache):
    return _max_pool_backward(dout, cache, all_ties=True)


# --------------------------------------------------------------------------- dnn
@_mutant("sigmoid", "exp(Z) / (1 + exp(Z)) is inf / inf = nan for Z > 709: use 1 / (1 + np.exp(-Z))")
def sigmoid_exp_ratio(Z):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(Z) / (1 + np.exp(Z)), Z


@_mutant(
    "relu_backward",
    "your relu_backward lets the gradient through where Z == 0: the notebook sets dZ[Z <= 0] = 0",
)
def relu_backward_strict_inequality(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache < 0] = 0
    return dZ


@_mutant("initialize_parameters_deep", "your weights are not scaled: W = np.random.randn(...) * 0.01")
def initialize_parameters_deep_unscaled(layer_dims):
    np.random.seed(3)  # noqa: NPY002 - the notebook's seed
    params = {}
    for layer in range(1, len(layer_dims)):
        params[f"W{layer}"] = np.random.randn(layer_dims[layer], layer_dims[layer - 1])  # noqa: NPY002
        params[f"b{layer}"] = np.zeros((layer_dims[layer], 1))
    return params


@_mutant("initialize_parameters", "your weights are not scaled: W = np.random.randn(...) * 0.01")
def initialize_parameters_unscaled(n_x, n_h, n_y):
    np.random.seed(1)  # noqa: NPY002 - the notebook's seed
    W1 = np.random.randn(n_h, n_x)  # noqa: NPY002
    W2 = np.random.randn(n_y, n_h)  # noqa: NPY002
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def _cost(AL, Y, *, mean: bool = True, sign: float = -1.0, squeeze: bool = True):
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL), axis=1)
    cost = sign * (total / m if mean else total)
    return np.squeeze(cost) if squeeze else cost


@_mutant(
    "compute_cost",
    "0 * log(0) is nan: the notebook's formula fails for an output of exactly 0 or 1 (a "
    "saturated sigmoid); clip AL to [eps, 1 - eps] before the log (the staff tests do not "
    "check this)",
)
def compute_cost_unclipped(AL, Y):
    return _cost(AL, Y)


@_mutant("compute_cost", "your cost is not averaged: multiply the sum by 1 / m")
def compute_cost_not_averaged(AL, Y):
    return _cost(AL, Y, mean=False)


@_mutant("compute_cost", "your cost has the wrong sign: J = -1/m * sum(Y log(AL) + (1 - Y) log(1 - AL))")
def compute_cost_wrong_sign(AL, Y):
    return _cost(AL, Y, sign=1.0)


@_mutant("compute_cost", "your cost is a (1,) array: np.squeeze(cost) makes it a scalar")
def compute_cost_not_squeezed(AL, Y):
    return _cost(AL, Y, squeeze=False)


@_mutant(
    "linear_backward",
    "dW and db must be averaged over the m examples: dW = 1/m * dZ A_prev.T, "
    "db = 1/m * sum(dZ, axis=1, keepdims=True)",
)
def linear_backward_not_averaged(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1, keepdims=True)


@_mutant(
    "linear_backward", "db lost its column axis: np.sum(dZ, axis=1, keepdims=True) keeps the shape (n_l, 1)"
)
def linear_backward_db_without_keepdims(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    return W.T @ dZ, dZ @ A_prev.T / m, np.sum(dZ, axis=1) / m


def _L_backward(AL, Y, caches, *, sign: float = -1.0, clip: bool = True, output_relu: bool = False):
    L = len(caches)
    Y = Y.reshape(AL.shape)
    if clip:
        eps = np.finfo(np.float64).epsneg
        A = np.clip(AL, eps, 1 - eps)
    else:
        A = AL
    with np.errstate(divide="ignore", invalid="ignore"):
        dAL = sign * (np.divide(Y, A) - np.divide(1 - Y, 1 - A))
    grads = {}
    last = "relu" if output_relu else "sigmoid"
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = _linear_activation_backward(
        dAL, caches[L - 1], last
    )
    for layer in reversed(range(L - 1)):
        grads[f"dA{layer}"], grads[f"dW{layer + 1}"], grads[f"db{layer + 1}"] = _linear_activation_backward(
            grads[f"dA{layer + 1}"], caches[layer], "relu"
        )
    return grads


def _linear_activation_backward(dA, cache, activation):
    (A_prev, W, _), Z = cache
    with np.errstate(over="ignore", invalid="ignore"):
        if activation == "relu":
            dZ = np.where(Z <= 0, 0.0, dA)
        else:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
    m = A_prev.shape[1]
    return W.T @ dZ, dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m


@_mutant("L_model_backward", "dAL has the wrong sign: dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))")
def L_model_backward_dAL_sign(AL, Y, caches):
    return _L_backward(AL, Y, caches, sign=1.0)


@_mutant(
    "L_model_backward",
    "Y / AL and (1 - Y) / (1 - AL) divide by zero for an output of exactly 0 or 1 "
    "(a saturated sigmoid): clip AL to [eps, 1 - eps] first (the staff tests do not "
    "check this)",
)
def L_model_backward_unclipped(AL, Y, caches):
    return _L_backward(AL, Y, caches, clip=False)


@_mutant(
    "L_model_backward",
    "the output layer is a sigmoid: call linear_activation_backward(dAL, caches[L-1], "
    "'sigmoid'), the other layers with 'relu'",
)
def L_model_backward_relu_output(AL, Y, caches):
    return _L_backward(AL, Y, caches, output_relu=True)


@_mutant(
    "L_model_forward", "the output layer must be a sigmoid: your L_model_forward uses relu on every layer"
)
def L_model_forward_relu_everywhere(X, parameters):
    L = len(parameters) // 2
    A, caches = X, []
    for layer in range(1, L + 1):
        A, cache = dnn.linear_activation_forward(A, parameters[f"W{layer}"], parameters[f"b{layer}"], "relu")
        caches.append(cache)
    return A, caches


def _gd(parameters, grads, learning_rate, sign):
    L = len(parameters) // 2
    out = dict(parameters)
    for layer in range(1, L + 1):
        out[f"W{layer}"] = parameters[f"W{layer}"] + sign * learning_rate * grads[f"dW{layer}"]
        out[f"b{layer}"] = parameters[f"b{layer}"] + sign * learning_rate * grads[f"db{layer}"]
    return out


@_mutant(
    "update_parameters", "gradient descent subtracts: W = W - learning_rate * dW (your step goes uphill)"
)
def update_parameters_adds_gradient(parameters, grads, learning_rate):
    return _gd(parameters, grads, learning_rate, +1.0)


@_mutant(
    "update_parameters_with_gd",
    "gradient descent subtracts: W = W - learning_rate * dW (your step goes uphill)",
)
def update_parameters_with_gd_adds_gradient(parameters, grads, learning_rate):
    return _gd(parameters, grads, learning_rate, +1.0)


# --------------------------------------------------------------------------- optim
def _mini_batches(X, Y, mini_batch_size=64, seed=0, *, keep_last=True, two_permutations=False):
    np.random.seed(seed)  # noqa: NPY002 - the notebook's seed
    m = X.shape[1]
    perm = np.random.permutation(m)  # noqa: NPY002
    perm_y = np.random.permutation(m) if two_permutations else perm  # noqa: NPY002
    sx, sy = X[:, perm], Y[:, perm_y].reshape((Y.shape[0], m))
    batches = []
    full = math.floor(m / mini_batch_size)
    for k in range(full):
        batches.append(
            (
                sx[:, k * mini_batch_size : (k + 1) * mini_batch_size],
                sy[:, k * mini_batch_size : (k + 1) * mini_batch_size],
            )
        )
    if keep_last and m % mini_batch_size != 0:
        batches.append((sx[:, full * mini_batch_size :], sy[:, full * mini_batch_size :]))
    return batches


@_mutant(
    "random_mini_batches",
    "your random_mini_batches drops the last, smaller mini-batch: when m % "
    "mini_batch_size != 0 add (shuffled_X[:, k * size:], shuffled_Y[:, k * size:])",
)
def random_mini_batches_drops_last(X, Y, mini_batch_size=64, seed=0):
    return _mini_batches(X, Y, mini_batch_size, seed, keep_last=False)


@_mutant(
    "random_mini_batches",
    "X and Y are shuffled with two different permutations, so the labels no longer "
    "match their examples: draw one permutation and index both with it",
)
def random_mini_batches_two_permutations(X, Y, mini_batch_size=64, seed=0):
    return _mini_batches(X, Y, mini_batch_size, seed, two_permutations=True)


@_mutant(
    "update_parameters_with_momentum",
    "the velocity is an exponentially weighted average: v = beta * v + (1 - beta) * dW",
)
def update_parameters_with_momentum_without_one_minus_beta(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    params, v = dict(parameters), dict(v)
    for layer in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v[key] = beta * v[key] + grads[key]
            params[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * v[key]
    return params, v


def _adam(
    parameters,
    grads,
    v,
    s,
    t,
    learning_rate=0.01,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    *,
    correct=True,
    eps_inside=False,
):
    L = len(parameters) // 2
    params, v, s = dict(parameters), dict(v), dict(s)
    vc, sc = {}, {}
    for layer in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            vc[key] = v[key] / (1 - beta1**t) if correct else v[key]
            sc[key] = s[key] / (1 - beta2**t) if correct else s[key]
            denom = np.sqrt(sc[key] + epsilon) if eps_inside else np.sqrt(sc[key]) + epsilon
            params[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * vc[key] / denom
    return params, v, s, vc, sc


@_mutant(
    "update_parameters_with_adam",
    "your Adam step has no bias correction: v_corrected = v / (1 - beta1**t), "
    "s_corrected = s / (1 - beta2**t)",
)
def update_parameters_with_adam_no_bias_correction(
    parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8
):
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, correct=False)


@_mutant(
    "update_parameters_with_adam",
    "epsilon goes outside the square root: v_corrected / (np.sqrt(s_corrected) + epsilon)",
)
def update_parameters_with_adam_epsilon_inside_sqrt(
    parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8
):
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, eps_inside=True)


@_mutant(
    "schedule_lr_decay",
    "the staircase needs floor: learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))",
)
def schedule_lr_decay_without_floor(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * epoch_num / time_interval)


@_mutant("update_lr", "decay divides: learning_rate = learning_rate0 / (1 + decay_rate * epoch_num)")
def update_lr_multiplies(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 * (1 + decay_rate * epoch_num)


assert all(
    m.target
    in {
        *cnn.__all__,
        *cs231n.__all__,
        *dnn.__all__,
        "update_parameters_with_gd",
        "random_mini_batches",
        "update_parameters_with_momentum",
        "update_parameters_with_adam",
        "schedule_lr_decay",
        "update_lr",
    }
    for m in MUTANTS
)
