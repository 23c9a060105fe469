"""Regression tests for issue 9's model-file cases: each damaged file is a ModelFormatError naming
the file and the entry (never an OverflowError, MemoryError, RecursionError or a silent load), and
the stale temporary files of a killed save are removed at the next save.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from model_files import issue9_cases, rewrite, small_model

import deepstep
from cli_helpers import cli_env
from deepstep._files import STALE_TMP_SECONDS, atomic_write, remove_stale_temporaries
from deepstep.io import ModelFormatError
from deepstep.nn import layers


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "model.npz"
    small_model(3).save(path)
    return path


def test_the_good_file_loads(good_file):
    model = deepstep.load(good_file)
    assert model.class_names == ["c0", "c1", "c2"] and model.output_shape == (3,)


@pytest.mark.parametrize("case", [
    "epoch_infinity", "epoch_negative", "history_10_400", "units_10_12", "filters_10_9", "kernel_10_6",
    "kernel_10_6_same", "input_10_6", "npy_2_40", "npy_short", "nested_json", "class_names_short",
    "binary_loss_3_outputs", "nan_weights", "object_dtype"])
def test_issue9_model_file_cases(good_file, tmp_path, case):
    replace, fragment = issue9_cases(good_file)[case]
    bad = rewrite(good_file, tmp_path / f"{case}.npz", replace)
    with pytest.raises(ModelFormatError) as info:
        deepstep.load(bad)
    message = str(info.value)
    assert str(bad) in message and fragment in message, message
    assert "\n" not in message


def test_every_issue9_case_is_tested(good_file):
    assert len(issue9_cases(good_file)) == 15


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_load_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ModelFormatError, match="not a regular file"):
        deepstep.load(fifo)


def test_layer_arguments_beyond_the_budget_name_the_argument():
    with pytest.raises(ValueError, match="units must be <="):
        layers.Dense(10**12)
    with pytest.raises(ValueError, match="filters must be <="):
        layers.Conv2D(10**12, 3)
    with pytest.raises(ValueError, match=r"layer 'dense_big' \(Dense\): kernel: shape"):
        layers.Dense(2**30, name="dense_big").build((8,))
    with pytest.raises(ValueError, match=r"input_shape per sample"):
        layers.Flatten().build((10**6, 10**6, 3))
    with pytest.raises(ValueError, match="padding must be <="):
        layers.ZeroPadding2D(10**12)
    with pytest.raises(ValueError, match=r"\(ZeroPadding2D\): output shape per sample"):
        layers.ZeroPadding2D(10**5).build((8, 8, 3))


def _leftover(folder, name="model.npz", age=2 * STALE_TMP_SECONDS, random="abcd_123"):
    path = folder / f".{name}.{random}.tmp"
    path.write_bytes(b"partial")
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_stale_temporaries_are_removed_at_the_next_save(tmp_path):
    stale = _leftover(tmp_path)
    fresh = _leftover(tmp_path, age=0, random="fresh_01")
    other = _leftover(tmp_path, name="other.npz")
    small_model(3).save(tmp_path / "model.npz")
    assert not stale.exists()
    assert fresh.exists() and other.exists()  # maybe a save in progress; another target's file
    assert remove_stale_temporaries(tmp_path / "other.npz") == [other]


def test_a_save_killed_with_sigkill_is_cleaned_up_by_the_next(tmp_path):
    target = tmp_path / "model.npz"
    code = ("import sys, time; from deepstep._files import atomic_write\n"
            "def slow(f):\n    f.write(b'x' * 100); f.flush(); print('writing', flush=True); time.sleep(60)\n"
            f"atomic_write({str(target)!r}, slow)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    leftovers = list(tmp_path.glob(".model.npz.*.tmp"))
    assert len(leftovers) == 1
    old = time.time() - 2 * STALE_TMP_SECONDS
    os.utime(leftovers[0], (old, old))
    atomic_write(target, lambda f: f.write(b"done"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
