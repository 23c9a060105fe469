"""TEMPORARY test-only stand-ins for kernels/modules that other helpers are still writing.

``install(monkeypatch)`` fills in only what is missing from deepstep (so once the real
deepstep.nn.functional kernels, deepstep.init, deepstep.optim and deepstep.train.* land,
nothing here is used). To be deleted as soon as they are merged.
"""

from __future__ import annotations

import sys
import types

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from deepstep.nn.functional._params import as_pair, resolve_padding


def _nhwc(x, fmt):
    return x if fmt == "NHWC" else x.transpose(0, 2, 3, 1)


def _back(x, fmt):
    return x if fmt == "NHWC" else x.transpose(0, 3, 1, 2)


def conv2d(x, w, b=None, stride=1, padding=0, data_format="NHWC", need_dx=True):
    xn = _nhwc(x, data_format)
    wn = w if data_format == "NHWC" else w.transpose(2, 3, 1, 0)
    s = as_pair(stride, "stride", 1)
    kh, kw = wn.shape[:2]
    (t, bo, le, r), (oh, ow) = resolve_padding(padding, xn.shape[1:3], (kh, kw), s)
    xp = np.pad(xn, ((0, 0), (t, bo), (le, r), (0, 0)))
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::s[0], ::s[1]][:, :oh, :ow]
    out = np.einsum("nhwcij,ijcf->nhwf", win, wn)
    if b is not None:
        out = out + b
    return _back(out, data_format), (xn, wn, b, (t, bo, le, r), s, data_format, need_dx, xp.shape, win)


def conv2d_backward(dout, cache):
    xn, wn, b, (t, bo, le, r), s, fmt, need_dx, xp_shape, win = cache
    d = _nhwc(dout, fmt)
    db = d.sum(axis=(0, 1, 2)) if b is not None else None
    dw = np.einsum("nhwcij,nhwf->ijcf", win, d)
    if fmt == "NCHW":
        dw = dw.transpose(3, 2, 0, 1)
    if not need_dx:
        return None, dw, db
    dxp = np.zeros(xp_shape, dtype=xn.dtype)
    oh, ow = d.shape[1:3]
    for i in range(wn.shape[0]):
        for j in range(wn.shape[1]):
            dxp[:, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1], :] += d @ wn[i, j].T
    dx = dxp[:, t:xp_shape[1] - bo, le:xp_shape[2] - r, :]
    return _back(np.ascontiguousarray(dx), fmt), dw, db


def pool2d(x, pool_size, stride=None, padding="valid", mode="max", data_format="NHWC"):
    xn = _nhwc(x, data_format)
    k = as_pair(pool_size, "pool_size", 1)
    s = k if stride is None else as_pair(stride, "stride", 1)
    (t, bo, le, r), (oh, ow) = resolve_padding(padding, xn.shape[1:3], k, s)
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(xn, ((0, 0), (t, bo), (le, r), (0, 0)), constant_values=fill)
    ones = np.pad(np.ones(xn.shape[1:3]), ((t, bo), (le, r)))
    win = sliding_window_view(xp, k, axis=(1, 2))[:, ::s[0], ::s[1]][:, :oh, :ow]
    cnt = sliding_window_view(ones, k)[::s[0], ::s[1]][:oh, :ow].sum(axis=(2, 3))
    if mode == "max":
        out = win.max(axis=(4, 5))
    else:
        out = win.sum(axis=(4, 5)) / cnt[None, :, :, None].astype(x.dtype)
    return _back(out.astype(x.dtype), data_format), (xn, xp, win, out, cnt, k, s, (t, le), mode, data_format)


def pool2d_backward(dout, cache):
    xn, xp, win, out, cnt, k, s, (t, le), mode, fmt = cache
    d = _nhwc(dout, fmt)
    oh, ow = d.shape[1:3]
    dxp = np.zeros(xp.shape, dtype=xn.dtype)
    taken = np.zeros(out.shape, dtype=bool)
    for i in range(k[0]):
        for j in range(k[1]):
            if mode == "max":
                hit = (win[..., i, j] == out) & ~taken
                taken |= hit
                g = d * hit
            else:
                g = d / cnt[None, :, :, None]
            dxp[:, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1], :] += g
    dx = dxp[:, t:t + xn.shape[1], le:le + xn.shape[2], :]
    return _back(np.ascontiguousarray(dx), fmt)


def dense(x, w, b=None):
    out = x @ w
    if b is not None:
        out = out + b
    return out, (x, w, b)


def dense_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, (dout.sum(axis=0) if b is not None else None)


def relu(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, x * x.dtype.type(alpha)), (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, dout * x.dtype.type(alpha))


def sigmoid(x):
    out = np.exp(-np.logaddexp(0, -x)).astype(x.dtype)
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out, (out, axis)


def softmax_backward(dout, cache):
    out, axis = cache
    return out * (dout - (dout * out).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    if labels.ndim == 1:
        onehot = np.zeros_like(logits)
        onehot[np.arange(n), labels] = 1
    else:
        onehot = labels.astype(logits.dtype)
    loss = -(onehot * logp).sum() / n
    return logits.dtype.type(loss), ((np.exp(logp) - onehot) / n).astype(logits.dtype)


def binary_cross_entropy_with_logits(logits, labels):
    n = logits.shape[0]
    loss = np.mean(np.logaddexp(0, logits) - labels * logits)
    p = np.exp(-np.logaddexp(0, -logits))
    return logits.dtype.type(loss), ((p - labels) / n).astype(logits.dtype)


def mean_squared_error(pred, target):
    diff = pred - target
    return pred.dtype.type(np.mean(diff ** 2)), (2 * diff / diff.size).astype(pred.dtype)


_NOT_KERNELS = ("as_pair", "resolve_padding", "sliding_window_view", "install")
_KERNELS = {name: obj for name, obj in list(globals().items())
            if callable(obj) and not name.startswith("_") and name not in _NOT_KERNELS}


# --------------------------------------------------------------------------- init / optim / train
def _make_init():
    mod = types.ModuleType("deepstep.init")

    def zeros(shape, fan_in=None, fan_out=None, rng=None, dtype=np.float32):
        return np.zeros(shape, dtype)

    def ones(shape, fan_in=None, fan_out=None, rng=None, dtype=np.float32):
        return np.ones(shape, dtype)

    def glorot_uniform(shape, fan_in, fan_out, rng, dtype=np.float32):
        lim = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, shape).astype(dtype)

    def he_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(dtype)

    def lecun_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * np.sqrt(1 / fan_in)).astype(dtype)

    table = {f.__name__: f for f in (zeros, ones, glorot_uniform, he_normal, lecun_normal)}

    def get_initializer(ident):
        if callable(ident):
            return ident
        if isinstance(ident, str) and ident in table:
            return table[ident]
        raise ValueError(f"unknown initializer {ident!r}")

    mod.get_initializer = get_initializer
    mod.__dict__.update(table)
    return mod


class _Opt:
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots = {s: {} for s in self.slot_names}

    def step(self, params):
        self.iterations += 1
        for i, p in enumerate(params):
            if p.trainable:
                for s in self.slot_names:
                    self._slots[s].setdefault(i, np.zeros_like(p.value))
                self._update(i, p)

    def state_dict(self):
        out = {"iterations": np.array(self.iterations)}
        for s in self.slot_names:
            for i, a in self._slots[s].items():
                out[f"{s}/{i}"] = a.copy()
        return out

    def load_state_dict(self, state):
        self.iterations = int(state["iterations"])
        self._slots = {s: {} for s in self.slot_names}
        for k, v in state.items():
            if k != "iterations":
                s, _, i = k.partition("/")
                self._slots[s][int(i)] = v.copy()


class _SGD(_Opt):
    name = "sgd"

    def __init__(self, learning_rate=0.01):
        super().__init__(learning_rate)

    def _update(self, i, p):
        p.value -= p.value.dtype.type(self.learning_rate) * p.grad

    def get_config(self):
        return {"name": "sgd", "learning_rate": self.learning_rate}


class _Adam(_Opt):
    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.b1, self.b2, self.eps = beta_1, beta_2, epsilon

    def _update(self, i, p):
        m, v, t = self._slots["m"][i], self._slots["v"][i], self.iterations
        m[...] = self.b1 * m + (1 - self.b1) * p.grad
        v[...] = self.b2 * v + (1 - self.b2) * p.grad ** 2
        mh, vh = m / (1 - self.b1 ** t), v / (1 - self.b2 ** t)
        p.value -= (self.learning_rate * mh / (np.sqrt(vh) + self.eps)).astype(p.value.dtype)

    def get_config(self):
        return {"name": "adam", "learning_rate": self.learning_rate, "beta_1": self.b1, "beta_2": self.b2,
                "epsilon": self.eps}


def _make_optim():
    mod = types.ModuleType("deepstep.optim")
    classes = {"sgd": _SGD, "adam": _Adam}

    def get_optimizer(ident, **kw):
        if isinstance(ident, _Opt):
            return ident
        if ident not in classes:
            raise ValueError(f"unknown optimizer {ident!r}")
        return classes[ident](**kw)

    def optimizer_from_config(cfg):
        cfg = dict(cfg)
        return classes[cfg.pop("name")](**cfg)

    mod.SGD, mod.Adam, mod.Optimizer = _SGD, _Adam, _Opt
    mod.get_optimizer, mod.optimizer_from_config = get_optimizer, optimizer_from_config
    return mod


class TrainingError(RuntimeError):
    def __init__(self, message, epoch=None, batch=None):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class Callback:
    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class CallbackList(Callback):
    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_model(self, model):
        for c in self.callbacks:
            c.set_model(model)

    def __getattribute__(self, name):
        if name.startswith("on_"):
            def call(*args):
                for c in object.__getattribute__(self, "callbacks"):
                    getattr(c, name)(*args)
            return call
        return object.__getattribute__(self, name)


class ProgressBar(Callback):
    def __init__(self, total_batches, epochs=None):
        self.total_batches = total_batches


class ModelCheckpoint(Callback):
    def __init__(self, filepath, monitor="val_loss", save_best_only=True, mode="auto"):
        self.filepath, self.monitor, self.save_best_only = filepath, monitor, save_best_only

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(self.filepath)


def install(monkeypatch) -> None:
    """Fill in whatever is still missing (no-op for parts that exist on the branch)."""
    import importlib

    import deepstep
    from deepstep.nn import functional as F

    for name, fn in _KERNELS.items():
        if not hasattr(F, name):
            monkeypatch.setattr(F, name, fn, raising=False)

    def _missing(modname):
        try:
            importlib.import_module(modname)
            return False
        except ImportError:
            return True

    if _missing("deepstep.init"):
        mod = _make_init()
        monkeypatch.setitem(sys.modules, "deepstep.init", mod)
        monkeypatch.setattr(deepstep, "init", mod, raising=False)
    if _missing("deepstep.optim"):
        mod = _make_optim()
        monkeypatch.setitem(sys.modules, "deepstep.optim", mod)
        monkeypatch.setattr(deepstep, "optim", mod, raising=False)
    if _missing("deepstep.train.errors"):
        mod = types.ModuleType("deepstep.train.errors")
        mod.TrainingError = TrainingError
        monkeypatch.setitem(sys.modules, "deepstep.train.errors", mod)
    if _missing("deepstep.train.callbacks"):
        mod = types.ModuleType("deepstep.train.callbacks")
        mod.Callback, mod.CallbackList, mod.ProgressBar = Callback, CallbackList, ProgressBar
        mod.ModelCheckpoint = ModelCheckpoint
        monkeypatch.setitem(sys.modules, "deepstep.train.callbacks", mod)
