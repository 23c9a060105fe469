"""Weights to and from PyTorch and Keras.

PyTorch
    :func:`torch_module` builds the equivalent ``torch.nn.Module`` of a deepstep model
    (NCHW, ``Conv2d``/``Linear``/``BatchNorm``, TensorFlow "same" padding as explicit
    asymmetric pads); :func:`to_torch_state_dict` and :func:`from_torch_state_dict` convert
    weights for it and back. Keys are ``"<layer name>.<weight|bias|running_mean|...>"``.
    Layouts: Conv2D kernels ``(kh, kw, Cin, F)`` <-> ``(F, Cin, kh, kw)``; Dense kernels
    ``(Din, units)`` <-> ``(units, Din)``; and because deepstep flattens channels_last
    feature maps in ``(H, W, C)`` order while ``torch.nn.Flatten`` on NCHW gives ``(C, H, W)``,
    the features after such a Flatten are permuted once in the weights of the layers that
    read them (the next Dense, or a BatchNormalization before it), not at run time.
    The torch network takes NCHW images (``x.transpose(0, 3, 1, 2)`` of deepstep's NHWC).

Keras 3
    :func:`load_keras_weights` reads a ``.weights.h5`` file of a Keras 3 model with the same
    layers (``model.save_weights``), :func:`save_keras_weights` writes one. Keras stores each
    layer's variables under ``layers/<snake_case class name>[_k]/vars/<i>`` (``conv2d``,
    ``conv2d_1``, ... in model order) in its own layout, which is deepstep's (channels_last,
    ``(kh, kw, Cin, F)`` kernels, ``(H, W, C)`` flatten order, BatchNormalization's
    gamma, beta, moving_mean, moving_variance): no conversion is needed.

torch and h5py are imported only when these functions are called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .export.graph import ExportError, model_graph

__all__ = [
    "torch_module",
    "to_torch_state_dict",
    "from_torch_state_dict",
    "load_keras_weights",
    "save_keras_weights",
    "keras_layer_names",
]

_SPATIAL = ("Conv2D", "MaxPooling2D", "AveragePooling2D")
_FEATUREWISE = ("Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax")


@dataclass(frozen=True)
class TorchStep:
    """One layer of a chain model as the torch network sees it.

    Attributes
    ----------
    layer : Layer
    key : str
        The torch module name (the layer name, ``.`` replaced by ``_``).
    data_format : str or None
        The input's layout for 4-D tensors ("channels_last" or "channels_first"), None for 2-D.
    input_shape : tuple of int
        The logical input shape, batch excluded.
    feature_perm : ndarray or None
        For 2-D inputs after a channels_last Flatten: torch feature ``j`` is deepstep feature
        ``feature_perm[j]``; None when the orders agree.
    """

    layer: Any
    key: str
    data_format: str | None
    input_shape: tuple[int, ...]
    feature_perm: np.ndarray | None


def torch_steps(model: Any) -> list[TorchStep]:
    """Walk a chain model (a Sequential) into :class:`TorchStep` entries.

    Raises
    ------
    ExportError
        For a model that is not a chain, or a layer without a torch equivalent.
    """
    graph = model_graph(model)
    shape = graph.input_shape
    current = graph.input_name
    fmt = None
    if len(shape) == 3:
        fmt = next((n.layer.get_config().get("data_format") for n in graph.nodes
                    if type(n.layer).__name__ in _SPATIAL), "channels_last")
    perm = None
    steps = []
    for node in graph.nodes:
        layer, kind = node.layer, type(node.layer).__name__
        if node.inputs != (current,):
            raise ExportError("torch interop handles chain models (Sequential) only; node "
                              f"{layer.name!r} reads {list(node.inputs)}")
        if kind in _SPATIAL and layer.get_config().get("data_format") != fmt:
            raise ExportError(f"layer {layer.name!r} ({kind}) has data_format "
                              f"{layer.get_config().get('data_format')!r} but its input is {fmt}")
        if kind not in (*_SPATIAL, *_FEATUREWISE, "Flatten", "Dense", "BatchNormalization"):
            raise ExportError(f"layer {layer.name!r} ({kind}) has no PyTorch equivalent here")
        steps.append(TorchStep(layer, layer.name.replace(".", "_"), fmt, shape, perm))
        out = tuple(layer.compute_output_shape(shape))
        if kind == "Flatten":
            if len(shape) == 3 and fmt == "channels_last":
                h, w, c = shape
                perm = np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()
            fmt = None
        elif kind == "Dense":
            perm = None
        shape, current = out, node.output
    return steps


def _values(layer: Any) -> dict[str, np.ndarray]:
    return {str(p.name).replace(".", "/").split("/")[-1]: p.value for p in layer.parameters()}


def _torch_arrays(step: TorchStep) -> dict[str, np.ndarray]:
    """The torch tensors (as arrays, in torch layout) of one step."""
    kind, v, perm = type(step.layer).__name__, _values(step.layer), step.feature_perm
    out: dict[str, np.ndarray] = {}
    if kind == "Conv2D":
        out["weight"] = v["kernel"].transpose(3, 2, 0, 1)
    elif kind == "Dense":
        out["weight"] = (v["kernel"] if perm is None else v["kernel"][perm]).T
    elif kind == "BatchNormalization":
        for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                             ("moving_variance", "running_var")):
            out[theirs] = v[ours] if perm is None else v[ours][perm]
        return out
    if "bias" in v:
        out["bias"] = v["bias"]
    return out


def to_torch_state_dict(model: Any) -> dict[str, Any]:
    """The ``state_dict`` of :func:`torch_module` ``(model)``: ``{"<layer>.weight": torch.Tensor, ...}``.

    BatchNormalization layers also get ``num_batches_tracked`` (0), as torch's modules have it.
    """
    import torch

    state: dict[str, Any] = {}
    for step in torch_steps(model):
        for name, value in _torch_arrays(step).items():
            state[f"{step.key}.{name}"] = torch.from_numpy(np.ascontiguousarray(value).copy())
        if type(step.layer).__name__ == "BatchNormalization":
            state[f"{step.key}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    return state


def from_torch_state_dict(model: Any, state_dict: Mapping[str, Any]) -> None:
    """Copy a torch ``state_dict`` (of :func:`torch_module`'s layout) into ``model``'s parameters.

    Values may be torch tensors or NumPy arrays; they are converted to the model's dtype.

    Raises
    ------
    ValueError
        Naming a missing or unexpected key, or a tensor of the wrong shape (nothing is copied then).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    steps = torch_steps(model)
    expected = {f"{s.key}.{n}": (s, n) for s in steps for n in _torch_arrays(s)}
    extra = sorted(k for k in state_dict if k not in expected and not k.endswith(".num_batches_tracked"))
    missing = sorted(k for k in expected if k not in state_dict)
    if missing or extra:
        raise ValueError(f"state_dict does not fit model {getattr(model, 'name', '?')!r}: missing keys "
                         f"{missing}, unexpected keys {extra}")
    arrays = {}
    for key, (step, name) in expected.items():
        value = state_dict[key]
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        want = _torch_arrays(step)[name].shape
        if value.shape != want:
            raise ValueError(f"state_dict[{key!r}] has shape {tuple(value.shape)}, expected {want}")
        arrays[key] = value
    for step in steps:
        kind, params = type(step.layer).__name__, {str(p.name).replace(".", "/").split("/")[-1]: p
                                                    for p in step.layer.parameters()}
        inverse = None if step.feature_perm is None else np.argsort(step.feature_perm)
        got = {name: arrays[f"{step.key}.{name}"] for name in _torch_arrays(step)}
        if kind == "Conv2D":
            params["kernel"].value[...] = got["weight"].transpose(2, 3, 1, 0)
        elif kind == "Dense":
            kernel = got["weight"].T
            params["kernel"].value[...] = kernel if inverse is None else kernel[inverse]
        elif kind == "BatchNormalization":
            for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                                 ("moving_variance", "running_var")):
                params[ours].value[...] = got[theirs] if inverse is None else got[theirs][inverse]
        if kind in ("Conv2D", "Dense") and "bias" in got:
            params["bias"].value[...] = got["bias"]


def torch_module(model: Any) -> Any:
    """The equivalent ``torch.nn.Module`` (NCHW input), in eval mode, with ``model``'s weights.

    Its ``state_dict()`` keys are those of :func:`to_torch_state_dict`. Needs torch.
    """
    from .export.torch_net import build_torch_module

    module = build_torch_module(torch_steps(model), np.dtype(getattr(model, "dtype", np.float32)))
    module.load_state_dict(to_torch_state_dict(model))
    return module.eval()


# ---------------------------------------------------------------------------------------- Keras
def _snake_case(name: str) -> str:
    """Keras' automatic name of a class: ``"MaxPooling2D"`` -> ``"max_pooling2d"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_layer_names(model: Any) -> list[tuple[Any, str]]:
    """``(layer, path)`` for every layer, ``path`` as in a Keras 3 ``.weights.h5``: ``layers/conv2d_1``."""
    used: dict[str, int] = {}
    out = []
    for layer in model.layers:
        base = _snake_case(type(layer).__name__)
        if base in used:
            used[base] += 1
            name = f"{base}_{used[base]}"
        else:
            used[base] = 0
            name = base
        out.append((layer, f"layers/{name}"))
    return out


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError("Keras weight files need h5py: pip install 'deepstep[data]'") from exc
    return h5py


def load_keras_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Load a Keras 3 ``.weights.h5`` file (``keras_model.save_weights``) into ``model``.

    The Keras model must have the same layers in the same order (InputLayer excluded); the
    variables are matched by Keras' layer paths (:func:`keras_layer_names`) and checked for shape.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    deepstep.io.ModelFormatError
        If the file is not HDF5, has no ``layers`` group, or a layer's variables are missing
        or of the wrong number or shape (nothing is copied then).
    """
    from .io import ModelFormatError

    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Keras weights file not found: {path}")
    updates = []
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ModelFormatError(f"{path}: not an HDF5 file ({exc})") from exc
    with handle:
        if "layers" not in handle:
            raise ModelFormatError(f"{path}: not a Keras 3 .weights.h5 file (no 'layers' group)")
        for layer, group_path in keras_layer_names(model):
            params = layer.parameters()
            vars_path = f"{group_path}/vars"
            stored = handle[vars_path] if vars_path in handle else None
            count = 0 if stored is None else len(stored)
            if count != len(params):
                raise ModelFormatError(f"{path}: '{vars_path}' holds {count} variables; layer {layer.name!r} "
                                       f"({type(layer).__name__}) has {len(params)}")
            for i, param in enumerate(params):
                value = stored[str(i)][()]
                if value.shape != param.value.shape:
                    raise ModelFormatError(f"{path}: '{vars_path}/{i}' has shape {value.shape}; "
                                           f"{layer.name}/{param.name} needs {param.value.shape}")
                updates.append((param, value))
        known = {p.split("/", 1)[1] for _, p in keras_layer_names(model)}
        stray = sorted(name for name in handle["layers"]
                       if name not in known and len(handle.get(f"layers/{name}/vars", ())) > 0)
        if stray:  # layers without variables (Keras' Activation for deepstep's Tanh...) may differ
            raise ModelFormatError(f"{path}: layers {stray} hold variables but have no counterpart in model "
                                   f"{getattr(model, 'name', '?')!r}")
    for param, value in updates:
        param.value[...] = value


def save_keras_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s weights as a Keras 3 ``.weights.h5`` file (``keras_model.load_weights`` reads it)."""
    from ._files import atomic_write

    h5py = _h5py()

    def write(handle: Any) -> None:
        with h5py.File(handle, "w") as f:
            f.create_group("vars").attrs["name"] = str(getattr(model, "name", "sequential"))
            for layer, group_path in keras_layer_names(model):
                group = f.create_group(f"{group_path}/vars")
                group.attrs["name"] = group_path.split("/")[-1]
                for i, param in enumerate(layer.parameters()):
                    group.create_dataset(str(i), data=param.value)

    atomic_write(Path(path), write)
