"""Fuzz: random argument lists for the commands that read models and data end in exit status 0, 1 or
2, an error being one line ``deepstep: error: ...`` and never a traceback.

The tokens mix every option with hostile values (negative, NaN, 10**400, empty, NUL) and paths to
a good small model, a damaged one, an image, a PNG bomb header, a folder and nothing. ``train``
always gets ``--data`` of a missing file last and an ``--out`` in a temporary folder, so that no
draw starts a real training run; ``bench`` and ``check`` (which run benchmarks and subprocesses)
are left out.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from fuzz_files import png_header_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_files import issue9_cases, rewrite, small_model
from PIL import Image

from cli_helpers import run_main

_TMP = Path(tempfile.mkdtemp(prefix="deepstep-fuzz-cli-"))
atexit.register(shutil.rmtree, _TMP, True)
GOOD = _TMP / "good.npz"
small_model(3).save(GOOD)
BAD = rewrite(GOOD, _TMP / "bad.npz", issue9_cases(GOOD)["units_10_12"][0])
PNG = _TMP / "x.png"
Image.new("RGB", (8, 8)).save(PNG)
BOMB = _TMP / "bomb.png"
BOMB.write_bytes(png_header_only(100_000, 100_000))

OPTIONS = ["--top", "--invert", "--data", "--subset", "--seed", "--out", "--entries", "--epsilon",
           "--tolerance", "--batch-size", "--epochs", "--lr", "--optimizer", "--dtype", "--resume",
           "--image-size", "--lr-schedule", "--val-split", "--early-stopping", "--monitor", "--help", "-x"]
VALUES = ["-1", "0", "1", "2", "nan", "inf", "1e400", str(10**12), str(10**400), "", "x", "a\x00b",
          "sgd", "float64", "test", "all", "cosine:2", "step:0", str(GOOD), str(BAD), str(PNG), str(BOMB),
          str(_TMP), str(_TMP / "missing.npz")]
COMMANDS = ["info", "predict", "evaluate", "gradcheck", "visualize", "train", "nonsense", ""]


# capsys is read (and so emptied) by run_main at every draw; monkeypatch only changes the folder
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(COMMANDS), st.lists(st.sampled_from(OPTIONS + VALUES), max_size=6))
def test_random_argument_lists(capsys, monkeypatch, command, tokens):
    monkeypatch.chdir(_TMP)  # a relative --out such as "0" lands there
    argv = ([command] if command else []) + tokens
    if command == "train":
        argv += ["--out", str(_TMP / "run"), "--data", str(_TMP / "missing.h5")]
    if command == "visualize":
        argv += ["--out", str(_TMP / "pictures")]
    status, _, err = run_main(capsys, *argv)
    _check(argv, status, err)


def _check(argv, status, err):
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in err, (argv, err)
    if status == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("deepstep") and "error: " in lines[0], (argv, err)


TARGETED = {"predict": [str(GOOD), str(PNG)], "evaluate": [str(GOOD), "--data", str(_TMP / "d")],
            "gradcheck": [str(GOOD)], "visualize": [str(GOOD), str(PNG), "--out", str(_TMP / "v")],
            "info": [str(GOOD)]}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(TARGETED)), st.sampled_from(OPTIONS), st.sampled_from(VALUES))
def test_one_hostile_option_on_a_good_model(capsys, monkeypatch, command, option, value):
    """Every option with every value on a command that otherwise works: an option's value reaches
    the command's code (e.g. --batch-size 10**12 for gradcheck's random batch)."""
    monkeypatch.chdir(_TMP)
    argv = [command, *TARGETED[command], option, value]
    _check(argv, *run_main(capsys, *argv)[::2])


def test_gradcheck_batch_size_beyond_the_budget(capsys):
    status, _, err = run_main(capsys, "gradcheck", GOOD, "--batch-size", str(10**12))
    _check([], status, err)
    assert status == 2 and "--batch-size 1000000000000" in err
