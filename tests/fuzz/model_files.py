"""Small saved models and hostile rewrites of their entries, for the model-file fuzz and regression tests.

A model file is an ``.npz`` (zip) of ``.npy`` members; :func:`rewrite` copies a valid file with
some members replaced, so each hostile file differs from a good one in exactly the entry under test.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from deepstep import nn


def small_model(outputs: int = 3) -> nn.Sequential:
    """Conv(2, 3x3) -> Flatten -> Dense(outputs) on 8 x 8 x 3 images, compiled with Adam, named classes."""
    layers = [nn.layers.Conv2D(2, 3, activation="relu"), nn.layers.Flatten(), nn.layers.Dense(outputs)]
    model = nn.Sequential(layers, input_shape=(8, 8, 3), seed=0)
    model.compile("adam", "binary_crossentropy" if outputs == 1 else "sparse_categorical_crossentropy")
    model.class_names = [f"c{i}" for i in range(max(outputs, 2))]
    return model


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def npy_bytes(value: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value), allow_pickle=False)
    return buffer.getvalue()


def json_entry(text: str) -> bytes:
    """The ``.npy`` member holding one JSON string, as save_model writes it."""
    return npy_bytes(np.array(text))


def read_json(path: Path, key: str) -> Any:
    return json.loads(str(np.load(io.BytesIO(members(path)[f"{key}.npy"]))))


def rewrite(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    """Copy the zip ``source`` to ``target`` with the members named in ``replace`` (``"state"`` for
    ``state.npy``) replaced by the given bytes."""
    entries = members(source)
    for key, raw in replace.items():
        entries[f"{key}.npy"] = raw
    with zipfile.ZipFile(target, "w") as archive:
        for name, raw in entries.items():
            archive.writestr(name, raw)
    return target


def npy_header_claiming(shape: tuple[int, ...], dtype: str = "<f4", body: int = 64) -> bytes:
    """An ``.npy`` member whose header declares ``shape`` followed by only ``body`` bytes."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(body)


def issue9_cases(path: Path) -> dict[str, tuple[dict[str, bytes], str]]:
    """Issue 9's damaged model files, from the valid 3-output model at ``path``: name -> (replaced
    members, a fragment the error must contain)."""
    state, arch, training = read_json(path, "state"), read_json(path, "architecture"), read_json(
        path, "training_config")

    def with_state(**changes: Any) -> dict[str, bytes]:
        return {"state": json_entry(json.dumps({**state, **changes}))}

    def with_layer(index: int, **changes: Any) -> dict[str, bytes]:
        edited = copy.deepcopy(arch)
        edited["config"]["layers"][index]["config"].update(changes)
        return {"architecture": json_entry(json.dumps(edited))}

    big_input = copy.deepcopy(arch)
    big_input["config"]["input_shape"] = [10**6, 10**6, 3]
    binary = dict(training, loss="binary_crossentropy")
    kernel_name = "weights/conv2d_1/kernel"
    return {
        "epoch_infinity": ({"state": json_entry(json.dumps({**state, "epoch": float("inf")}))}, "'epoch'"),
        "epoch_negative": (with_state(epoch=-1), "'epoch' must be an integer in [0,"),
        "history_10_400": (with_state(history={"loss": [0.5, 10**400]}), "history['loss']"),
        "units_10_12": (with_layer(2, units=10**12), "units must be <="),
        "filters_10_9": (with_layer(0, filters=10**9), "layer 'conv2d_1'"),
        "kernel_10_6": (with_layer(0, kernel_size=[10**6, 10**6]), "layer 'conv2d_1'"),
        "kernel_10_6_same": (with_layer(0, kernel_size=[10**6, 10**6], padding="same"), "kernel"),
        "input_10_6": ({"architecture": json_entry(json.dumps(big_input))}, "input_shape per sample"),
        "npy_2_40": ({kernel_name: npy_header_claiming((2**40,))}, f"entry '{kernel_name}'"),
        "npy_short": ({kernel_name: npy_header_claiming((3, 3, 3, 2), body=10)}, f"entry '{kernel_name}'"),
        "nested_json": ({"architecture": json_entry("[" * 10**5 + "]" * 10**5)}, "nested too deeply"),
        "class_names_short": (with_state(class_names=["a"]), "'class_names' has 1 names"),
        "binary_loss_3_outputs": ({"training_config": json_entry(json.dumps(binary))},
                                  "'binary_crossentropy' needs one output unit"),
        "nan_weights": ({kernel_name: npy_bytes(np.full((3, 3, 3, 2), np.nan, np.float32))}, "NaN"),
        "object_dtype": ({kernel_name: npy_header_claiming((2,), dtype="|O")}, f"entry '{kernel_name}'"),
    }
