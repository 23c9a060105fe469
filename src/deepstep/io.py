"""Saving and loading models: one ``.npz`` file, written atomically.

File layout (format version 2); every entry is a plain array (``allow_pickle=False``):

==========================  ============================================================
``format``                  the string ``"deepstep.Model"``
``format_version``          int, currently 2
``architecture``            JSON: ``{"class_name": "Sequential" or "Model", "config": model.get_config()}``
                            (layer class names and configs; for a graph also its nodes)
``training_config``         JSON: optimizer config, loss, metrics, weight decay and the decayed
                            parameter names (``null`` if not compiled)
``state``                   JSON: ``epoch`` (completed epochs), ``history``, ``class_names``
``weights/<path>``          every parameter value by its path, e.g. ``weights/block2/conv_a/kernel``
                            (trainable and not, e.g. BN running stats)
``optimizer/<key>``         the optimizer's ``state_dict()`` (``iterations``, ``m/<path>``, ...)
==========================  ============================================================

Version 1 (deepstep 0.1: format ``"deepstep.Sequential"``, the Sequential config as
``architecture``, optimizer state keyed by parameter position such as ``m/3``) still loads:
positions are mapped to the parameter paths in model order.

The file is written to a temporary file in the same folder, flushed and ``fsync``-ed,
then moved over the target with ``os.replace``: a crash mid-save leaves the previous
file intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write
from .nn import Model, Sequential, backend
from .nn.module import check_unique_names

__all__ = ["ModelFormatError", "save_model", "load_model", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "deepstep.Model"
FORMAT_VERSION = 2
_V1_NAME = "deepstep.Sequential"
_MODEL_CLASSES: dict[str, type[Model]] = {"Sequential": Sequential, "Model": Model}
_REQUIRED = ("format", "format_version", "architecture", "training_config", "state")


class ModelFormatError(ValueError):
    """A model file cannot be read: not an npz, truncated, missing keys, wrong version or shapes."""


def _json_array(value: Any) -> np.ndarray:
    return np.array(json.dumps(value))


def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (architecture, weights, optimizer state, epoch, history, class names) to ``path``.

    The write is atomic (:func:`deepstep._files.atomic_write`): a temporary file in the same
    folder is written, flushed, ``fsync``-ed and renamed over ``path`` with ``os.replace``; the
    folder is created if needed and the file gets the usual permissions.

    Raises
    ------
    ValueError
        If the model is not built, or two parameters share a path (nothing is written).
    """
    if not model.built:
        raise ValueError(f"model {model.name!r} must be built before saving (give input_shape or call build)")
    class_name = type(model).__name__ if type(model).__name__ in _MODEL_CLASSES else (
        "Sequential" if isinstance(model, Sequential) else "Model")
    named = model.named_parameters()
    check_unique_names(named, f"cannot save model {model.name!r}")
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "architecture": _json_array({"class_name": class_name, "config": model.get_config()}),
        "training_config": _json_array(None if not model.compiled else {
            "optimizer": model.optimizer.get_config(), "loss": model.loss.name,
            "loss_config": model.loss.get_config(),
            "metrics": [m for m in model.metrics if isinstance(m, str)],  # names only, not Metric objects
            "weight_decay": model.weight_decay,
            "weight_decay_params": list(model.weight_decay_params)}),
        "state": _json_array({"epoch": model.epoch, "history": model.history,
                              "class_names": None if model.class_names is None else list(model.class_names)}),
    }
    for name, param in named:
        arrays[f"weights/{name}"] = param.value
    if model.compiled:
        for key, value in model.optimizer.state_dict().items():
            arrays[f"optimizer/{key}"] = np.asarray(value)

    def write(handle: Any) -> None:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())

    atomic_write(path, write)
    try:  # make the rename itself durable (POSIX); not possible on every platform
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _read_all(path: Path) -> dict[str, np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ModelFormatError(f"{path}: not a deepstep model file (an .npy array, not an .npz)")
        with data:
            return {key: data[key] for key in data.files}
    except ModelFormatError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zipfile.LargeZipFile) as exc:
        raise ModelFormatError(f"{path}: not a readable deepstep model file (.npz): "
                               f"{type(exc).__name__}: {exc}") from exc


def _json(data: dict[str, np.ndarray], key: str, path: Path) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind != "U":
        raise ModelFormatError(f"{path}: entry {key!r} must be a JSON string, got {arr.dtype} {arr.shape}")
    try:
        return json.loads(str(arr))
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: entry {key!r} is not valid JSON: {exc}") from exc


def _optimizer_state(data: dict[str, np.ndarray], model: Model, version: int, path: Path
                     ) -> dict[str, np.ndarray]:
    """The saved optimizer state keyed by parameter path (version 1: positions mapped to paths),
    checked against the parameters' shapes."""
    params = model.named_parameters()
    by_name = dict(params)
    state = {}
    for key, value in data.items():
        if not key.startswith("optimizer/"):
            continue
        key = key[len("optimizer/"):]
        slot, sep, name = key.partition("/")
        if sep and version == 1:
            if not name.isdigit() or int(name) >= len(params):
                raise ModelFormatError(f"{path}: optimizer state {key!r} names parameter {name} but the "
                                       f"model has "
                                       f"{len(params)}")
            name = params[int(name)][0]
            key = f"{slot}/{name}"
        if sep:
            param = by_name.get(name)
            if param is None or value.shape != param.value.shape:
                want = "no parameter of that name" if param is None else f"shape {param.value.shape}"
                raise ModelFormatError(f"{path}: optimizer state {key!r} has shape {value.shape} but "
                                       f"the model has "
                                       f"{want}")
        state[key] = value
    return state


def _rebuild(architecture: Any, version: int, path: Path) -> Model:
    if version == 1:
        class_name, config = "Sequential", architecture
    else:
        if not isinstance(architecture, dict) or architecture.get("class_name") not in _MODEL_CLASSES:
            got = architecture.get("class_name") if isinstance(architecture, dict) else architecture
            raise ModelFormatError(f"{path}: architecture class {got!r} is not one of "
                                   f"{sorted(_MODEL_CLASSES)}")
        class_name, config = architecture["class_name"], architecture.get("config")
    try:
        return _MODEL_CLASSES[class_name].from_config(config)
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFormatError(f"{path}: cannot rebuild the architecture: {exc}") from exc


def load_model(path: str | os.PathLike[str]) -> Model:
    """Rebuild a model saved by :func:`save_model` (compiled again if it was, optimizer state included).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFormatError
        If the file is not an npz archive, is truncated, misses entries, has another format
        version, or holds weights whose shapes do not fit the architecture.
    """
    path = Path(path)
    data = _read_all(path)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ModelFormatError(f"{path}: not a deepstep model file: missing entries {missing}")
    version_arr = data["format_version"]
    readable = (1, FORMAT_VERSION)
    if version_arr.shape != () or version_arr.dtype.kind not in "iu" or int(version_arr) not in readable:
        raise ModelFormatError(f"{path}: format_version is {version_arr!r}, this deepstep reads "
                               f"versions 1 and "
                               f"{FORMAT_VERSION}")
    version = int(version_arr)
    want_name = _V1_NAME if version == 1 else FORMAT_NAME
    if str(data["format"]) != want_name:
        raise ModelFormatError(f"{path}: format is {str(data['format'])!r}, expected {want_name!r} for "
                               f"version "
                               f"{version}")
    architecture = _json(data, "architecture", path)
    training = _json(data, "training_config", path)
    state = _json(data, "state", path)
    model = _rebuild(architecture, version, path)
    if not model.built:
        raise ModelFormatError(f"{path}: the architecture has no input_shape")

    for name, param in model.named_parameters():
        key = f"weights/{name}"
        if key not in data:
            raise ModelFormatError(f"{path}: missing weight {key!r}")
        value = data[key]
        if value.shape != param.value.shape:
            raise ModelFormatError(f"{path}: weight {key!r} has shape {value.shape}, the architecture needs "
                                   f"{param.value.shape}")
        if value.dtype.kind != "f":
            raise ModelFormatError(f"{path}: weight {key!r} has dtype {value.dtype}, expected floating point")
        param.value[...] = value
    expected = {f"weights/{name}" for name, _ in model.named_parameters()}
    extra = sorted(k for k in data if k.startswith("weights/") and k not in expected)
    if extra:
        raise ModelFormatError(f"{path}: weights {extra} do not belong to the architecture")

    if training is not None:
        try:
            from .nn.losses import loss_from_config
            from .optim import optimizer_from_config

            loss = loss_from_config(training.get("loss_config", training["loss"]))
            model.compile(optimizer=optimizer_from_config(training["optimizer"]), loss=loss,
                          metrics=tuple(training.get("metrics", ())),
                          weight_decay=training.get("weight_decay", 0.0),
                          weight_decay_params=tuple(training.get("weight_decay_params", ("kernel",))))
            opt_state = _optimizer_state(data, model, version, path)
            if opt_state:
                model.optimizer.load_state_dict(opt_state)
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFormatError(f"{path}: cannot restore the training configuration: {exc}") from exc
    if not isinstance(state, dict):
        raise ModelFormatError(f"{path}: entry 'state' must be a JSON object")
    try:
        model.epoch = int(state.get("epoch", 0))
        history = dict(state.get("history") or {})
        model.history = {str(k): [float(v) for v in vals] for k, vals in history.items()}
        names = state.get("class_names")
        model.class_names = None if names is None else [str(n) for n in names]
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{path}: entry 'state' is malformed: {exc}") from exc
    return model


backend.register("save", save_model)
