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
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write, require_regular_file
from ._limits import check_elements
from ._validation import brief_repr
from .nn import Model, Sequential, backend
from .nn.module import check_unique_names

__all__ = ["ModelFormatError", "save_model", "load_model", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "deepstep.Model"
FORMAT_VERSION = 2
_V1_NAME = "deepstep.Sequential"
_MODEL_CLASSES: dict[str, type[Model]] = {"Sequential": Sequential, "Model": Model}
_REQUIRED = ("format", "format_version", "architecture", "training_config", "state")
# A saved model has 5 entries plus 2 per parameter (weights, bias) and up to 3 per parameter of
# optimizer state: ResNet-50's ~320 parameter tensors give ~1600 entries; 100000 is far above any model.
_MAX_ENTRIES = 100_000
# get_config() of the deepest model in the tests nests 9 levels (a graph model's nodes' inputs);
# a custom layer holding layers adds 2 per level. 100 leaves room and stops a hostile file early.
_MAX_JSON_DEPTH = 100
# The epoch counter of a run: 10**9 epochs of one step each would take decades.
_MAX_EPOCH = 10**9


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


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, path: Path) -> np.ndarray:
    """One ``.npy`` member, its header checked before anything is allocated.

    The header must be format 1.0 or 2.0 with a plain (non-object) dtype; its shape must fit the
    size budget (:func:`deepstep._limits.check_elements`) and its data size must match the
    member's size in the zip directory (so a header claiming 2**40 elements is refused from a
    few bytes, and a truncated member never reaches NumPy).
    """
    what = f"{path}: entry {key!r}"
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ModelFormatError(f"{what}: .npy format version {version} is not 1.0 or 2.0")
        if dtype.hasobject or dtype.itemsize == 0:
            raise ModelFormatError(f"{what}: dtype {dtype} is not a plain numeric or string dtype")
        count = check_elements(shape, what, dtype, error=ModelFormatError)
        nbytes = count * dtype.itemsize
        expected = handle.tell() + nbytes
        if info.file_size != expected:
            raise ModelFormatError(f"{what}: the header declares shape {tuple(shape)} of {dtype} "
                                   f"({expected} bytes with the header) but the entry holds "
                                   f"{info.file_size} bytes")
        raw = handle.read(nbytes)
        if len(raw) != nbytes:
            raise ModelFormatError(f"{what}: truncated ({len(raw)} of {nbytes} data bytes)")
    flat = np.frombuffer(raw, dtype=dtype, count=count)
    if fortran:
        return flat.reshape(tuple(shape)[::-1]).transpose().copy()
    return flat.reshape(shape).copy()


def _read_all(path: Path) -> dict[str, np.ndarray]:
    """Every entry of the ``.npz`` archive at ``path``; any failure is a :class:`ModelFormatError`."""
    path = require_regular_file(path, "model file", ModelFormatError)
    key = None
    try:
        with open(path, "rb") as handle:
            if handle.read(6) == b"\x93NUMPY":
                raise ModelFormatError(f"{path}: not a deepstep model file (an .npy array, not an .npz)")
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_ENTRIES:
                raise ModelFormatError(f"{path}: {len(infos)} entries, more than a model file may hold "
                                       f"({_MAX_ENTRIES})")
            data: dict[str, np.ndarray] = {}
            for info in infos:
                key = info.filename
                if not key.endswith(".npy"):
                    raise ModelFormatError(f"{path}: entry {key!r} is not an .npy array")
                key = key[:-len(".npy")]
                if key in data:
                    raise ModelFormatError(f"{path}: entry {key!r} appears twice")
                data[key] = _read_member(archive, info, key, path)
            return data
    except ModelFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError, TypeError,
            OverflowError, RuntimeError, NotImplementedError, MemoryError, UnicodeError) as exc:
        where = f"entry {key!r}: " if key is not None else ""
        raise ModelFormatError(f"{path}: not a readable deepstep model file (.npz): {where}"
                               f"{type(exc).__name__}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (iterative, so any depth is measured safely)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json(data: dict[str, np.ndarray], key: str, path: Path) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind != "U":
        raise ModelFormatError(f"{path}: entry {key!r} must be a JSON string, got {arr.dtype} {arr.shape}")
    try:
        value = json.loads(str(arr))
    except RecursionError:
        raise ModelFormatError(f"{path}: entry {key!r} is nested too deeply (more than {_MAX_JSON_DEPTH} "
                               f"levels)") from None
    except ValueError as exc:  # JSONDecodeError, or an integer literal of more than 4300 digits
        raise ModelFormatError(f"{path}: entry {key!r} is not valid JSON: {_one_line(exc)}") from None
    if _depth(value) > _MAX_JSON_DEPTH:
        raise ModelFormatError(f"{path}: entry {key!r} is nested too deeply (more than {_MAX_JSON_DEPTH} "
                               f"levels)")
    return value


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
                raise ModelFormatError(f"{path}: optimizer state {key!r} names parameter {name} but "
                                       f"the model has {len(params)}")
            name = params[int(name)][0]
            key = f"{slot}/{name}"
        if sep:
            param = by_name.get(name)
            if param is None or value.shape != param.value.shape:
                want = "no parameter of that name" if param is None else f"shape {param.value.shape}"
                raise ModelFormatError(f"{path}: optimizer state {key!r} has shape {value.shape} but "
                                       f"the model has {want}")
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
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError,
            MemoryError) as exc:
        raise ModelFormatError(f"{path}: cannot rebuild the architecture: {_one_line(exc)}") from None


def _check_loss_fits(loss: Any, output_shape: tuple[int, ...], path: Path) -> None:
    """The saved loss must suit the model's outputs (one logit for binary cross-entropy, a class
    vector for the categorical losses)."""
    if loss == "binary_crossentropy" and tuple(output_shape) != (1,):
        raise ModelFormatError(f"{path}: entry 'training_config': loss 'binary_crossentropy' needs one "
                               f"output unit, but the model's output shape is {tuple(output_shape)}")
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy") and len(output_shape) != 1:
        raise ModelFormatError(f"{path}: entry 'training_config': loss {loss!r} needs outputs of shape "
                               f"(classes,), but the model's output shape is {tuple(output_shape)}")


def _restore_training(model: Model, training: Any, data: dict[str, np.ndarray], version: int,
                      path: Path) -> None:
    if not isinstance(training, dict) or not isinstance(training.get("optimizer"), dict) \
            or not isinstance(training.get("loss"), str):
        raise ModelFormatError(f"{path}: entry 'training_config' must be null or an object with an "
                               f"'optimizer' object and a 'loss' name")
    _check_loss_fits(training["loss"], model.output_shape, path)
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
    except ModelFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise ModelFormatError(f"{path}: cannot restore the training configuration: "
                               f"{_one_line(exc)}") from None


def _number(value: Any) -> float:
    """A history value: a JSON number that fits a float; NaN is kept (a metric undefined at that
    epoch), an infinity or an overflowing integer (``10**400``) is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"got {brief_repr(value)} ({type(value).__name__})")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"got {brief_repr(value)}, too large for a float") from None
    if math.isinf(number):
        raise ValueError(f"got {number}")
    return number


def _restore_state(model: Model, state: Any, path: Path) -> None:
    """Epoch, history and class names, each checked (types, ranges, finite, one name per output)."""
    what = f"{path}: entry 'state'"
    if not isinstance(state, dict):
        raise ModelFormatError(f"{what} must be a JSON object, got {brief_repr(state)}")
    epoch = state.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= _MAX_EPOCH:
        raise ModelFormatError(f"{what}: 'epoch' must be an integer in [0, {_MAX_EPOCH}], "
                               f"got {brief_repr(epoch)}")
    history = state.get("history") or {}
    if not isinstance(history, dict):
        raise ModelFormatError(f"{what}: 'history' must be an object of lists, got {brief_repr(history)}")
    clean: dict[str, list[float]] = {}
    for key, values in history.items():
        if not isinstance(values, list):
            raise ModelFormatError(f"{what}: history[{key!r}] must be a list of numbers, "
                                   f"got {brief_repr(values)}")
        try:
            clean[key] = [_number(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(f"{what}: history[{key!r}] must hold finite numbers: {exc}") from None
    names = state.get("class_names")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ModelFormatError(f"{what}: 'class_names' must be a list of strings, "
                                   f"got {brief_repr(names)}")
        out = tuple(model.output_shape)
        wanted = 2 if out == (1,) else out[-1]
        if len(names) != wanted:
            raise ModelFormatError(f"{what}: 'class_names' has {len(names)} names but the model has {wanted} "
                                   f"classes (output shape {out})")
    model.epoch = epoch
    model.history = clean
    model.class_names = None if names is None else list(names)


def load_model(path: str | os.PathLike[str]) -> Model:
    """Rebuild a model saved by :func:`save_model` (compiled again if it was, optimizer state included).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError, PermissionError
        If ``path`` is a folder or cannot be read.
    ModelFormatError
        Naming the file and the entry, for anything else: not a regular file (a FIFO is refused,
        not opened), not an npz archive, truncated or bit-flipped (CRC), an ``.npy`` header that is
        not version 1.0/2.0, holds objects, declares more elements than the size budget
        (:mod:`deepstep._limits`) or more than the entry holds; JSON that is invalid or nested more
        than 100 levels; an architecture that cannot be rebuilt (a layer's units, filters, kernel
        or output beyond the budget, named); weights whose dtype, shape or values (NaN/inf) do
        not fit; a loss that does not suit the outputs (binary cross-entropy on 3 outputs); a
        ``state`` whose epoch is not an integer >= 0, whose history holds non-numbers or
        infinities, or whose class names are not one per output class.
    """
    path = Path(path)
    data = _read_all(path)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ModelFormatError(f"{path}: not a deepstep model file: missing entries {missing}")
    version_arr = data["format_version"]
    if (version_arr.shape != () or version_arr.dtype.kind not in "iu"
            or int(version_arr) not in (1, FORMAT_VERSION)):
        raise ModelFormatError(f"{path}: format_version is {version_arr!r}, this deepstep reads versions 1 "
                               f"and {FORMAT_VERSION}")
    version = int(version_arr)
    want_name = _V1_NAME if version == 1 else FORMAT_NAME
    if str(data["format"]) != want_name:
        raise ModelFormatError(f"{path}: format is {str(data['format'])!r}, expected {want_name!r} for "
                               f"version {version}")
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
        if value.dtype.kind != "f":
            raise ModelFormatError(f"{path}: weight {key!r} has dtype {value.dtype}, expected floating point")
        if value.shape != param.value.shape:
            raise ModelFormatError(f"{path}: weight {key!r} has shape {value.shape}, the architecture needs "
                                   f"{param.value.shape}")
        if not np.all(np.isfinite(value)):
            raise ModelFormatError(f"{path}: weight {key!r} holds NaN or infinite values")
        param.value[...] = value
    expected = {f"weights/{name}" for name, _ in model.named_parameters()}
    extra = sorted(k for k in data if k.startswith("weights/") and k not in expected)
    if extra:
        raise ModelFormatError(f"{path}: weights {extra} do not belong to the architecture")

    if training is not None:
        _restore_training(model, training, data, version, path)
    _restore_state(model, state, path)
    return model


backend.register("save", save_model)
