"""Fuzz: damaged model files load correctly or end in one ModelFormatError naming the file.

Flipped bits and truncations of a small saved model (the zip's CRC makes most flips visible),
and arbitrary JSON values written into the ``state``, ``training_config`` and layer-config
entries, go through :func:`deepstep.load`; issue 9's cases also go through the CLI commands that
read a model (``info``, ``predict``, ``evaluate``, ``gradcheck``): one line, exit status 2, the
file named. A foreign exception, a traceback, a hang or a huge allocation fails the test.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fuzz_files import write_h5
from hypothesis import given
from hypothesis import strategies as st
from model_files import issue9_cases, json_entry, read_json, rewrite, small_model
from PIL import Image

import deepstep
from cli_helpers import assert_one_line_error, run_main
from deepstep.io import ModelFormatError

with tempfile.TemporaryDirectory() as _tmp:
    _good = Path(_tmp) / "model.npz"
    small_model(3).save(_good)
    GOOD = _good.read_bytes()
    STATE, ARCH = read_json(_good, "state"), read_json(_good, "architecture")
    TRAINING = read_json(_good, "training_config")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_models")


def _load_or_error(path: Path) -> None:
    """Either a working model, or a one-line ModelFormatError naming ``path``."""
    try:
        model = deepstep.load(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
        return
    out = model(np.zeros((1, *model.input_shape), model.dtype))
    assert out.shape == (1, *model.output_shape)


corruptions = st.tuples(
    st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 7)), max_size=3),
    st.one_of(st.none(), st.integers(0, len(GOOD))),
)


@given(corruptions)
def test_bit_flips_and_truncations(scratch, corruption):
    flips, cut = corruption
    data = bytearray(GOOD)
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    path = scratch / "flipped.npz"
    path.write_bytes(bytes(data[:cut] if cut is not None else data))
    _load_or_error(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**400), 10**400) | st.floats() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)
STATE_KEYS = ("epoch", "history", "class_names")
LAYER_KEYS = ("units", "filters", "kernel_size", "strides", "padding", "activation", "name", "dilation_rate")


@given(st.sampled_from(STATE_KEYS), json_values)
def test_any_state_field(scratch, key, value):
    path = rewrite(_good_path(scratch), scratch / "state.npz",
                   {"state": json_entry(json.dumps({**STATE, key: value}))})
    _load_or_error(path)


@given(st.integers(0, 2), st.sampled_from(LAYER_KEYS), json_values | st.integers(0, 10**13))
def test_any_layer_config_field(scratch, index, key, value):
    arch = copy.deepcopy(ARCH)
    arch["config"]["layers"][index]["config"][key] = value
    path = rewrite(_good_path(scratch), scratch / "arch.npz", {"architecture": json_entry(json.dumps(arch))})
    _load_or_error(path)


@given(st.sampled_from(("loss", "optimizer", "metrics", "weight_decay", "weight_decay_params")), json_values)
def test_any_training_config_field(scratch, key, value):
    training = {**TRAINING, key: value}
    path = rewrite(_good_path(scratch), scratch / "training.npz",
                   {"training_config": json_entry(json.dumps(training))})
    _load_or_error(path)


def _good_path(folder: Path) -> Path:
    path = folder / "good.npz"
    if not path.exists():
        path.write_bytes(GOOD)
    return path


@pytest.fixture(scope="module")
def inputs(scratch):
    """An 8 x 8 RGB image and a 4-image HDF5 dataset of them, the small model's input."""
    image = scratch / "x.png"
    Image.new("RGB", (8, 8), (10, 200, 30)).save(image)
    data = write_h5(scratch / "d.h5", np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1, 2, 0]),
                    [b"c0", b"c1", b"c2"], split="test")
    return image, data


def test_issue9_cases_through_the_cli(scratch, inputs, capsys):
    image, data = inputs
    good = _good_path(scratch)
    for case, (replace, _) in issue9_cases(good).items():
        bad = rewrite(good, scratch / f"cli_{case}.npz", replace)
        for command in (["info", bad], ["predict", bad, image], ["evaluate", bad, "--data", data,
                                                                  "--out", scratch / "eval"],
                        ["gradcheck", bad, "--entries", "1"]):
            status, _, err = run_main(capsys, *command)
            assert_one_line_error(status, err, bad.name)
