"""deepstep check on files: the subprocess, notebooks, time limits, the write guard and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import run_main
from deepstep.course import check
from deepstep.course.check.runner import grade_file

TWO_MISTAKES = """
import numpy as np


def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape
    dA_prev = np.zeros(A_prev.shape)
    dW, db = np.zeros(W.shape), np.zeros((1, 1, 1, n_C))
    A_prev_pad, dA_prev_pad = zero_pad(A_prev, pad), zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad, da_prev_pad = A_prev_pad[i], dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    v, u = h * stride, w * stride
                    da_prev_pad[v:v + f, u:u + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_prev_pad[v:v + f, u:u + f, :] * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
    return dA_prev, dW, db


def pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    stride, f = hparameters["stride"], hparameters["f"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    v, u = h * stride, w * stride
                    if mode == "max":
                        window = A_prev[i, v:v + f, u:u + f, c]
                        dA_prev[i, v:v + f, u:u + f, c] = (window == np.max(window)) * dA[i, h, w, c]
                    else:
                        dA_prev[i, v:v + f, u:u + f, c] += np.full((f, f), dA[i, h, w, c] / (f * f))
    return dA_prev
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _notebook(tmp_path: Path, cells: list[tuple[str, str]]) -> Path:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": kind,
                "metadata": {},
                "source": src.splitlines(True),
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for kind, src in cells
        ],
    }
    return _write(tmp_path, "assignment.ipynb", json.dumps(nb))


def test_two_classic_mistakes_from_the_command_line(tmp_path, capsys):
    path = _write(tmp_path, "my_cnn.py", TWO_MISTAKES)
    status, out, err = run_main(capsys, "check", str(path))
    assert status == 1, err
    assert "PASS     cnn     zero_pad" in out
    assert "FAIL     cnn     conv_backward" in out and "FAIL     cnn     pool_backward" in out
    assert "MISSING  cnn     conv_forward" in out
    assert "likely cause [conv_backward_unpads_with_negative_slice]" in out
    assert "likely cause [pool_backward_overwrites_overlaps]" in out
    line = (
        TWO_MISTAKES.splitlines().index("        dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]")
        + 1
    )
    assert (
        f'File "{path.resolve()}", line {line}, in conv_backward' in out
    )  # the learner's own traceback line
    assert "dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]" in out
    assert "deepstep/course" not in out  # no grader frames

    status, out, _ = run_main(capsys, "check", str(path), "--json")
    data = json.loads(out)
    assert status == 1 and data["passed"] is False
    by_name = {f["name"]: f for f in data["functions"]}
    assert (
        by_name["conv_backward"]["failure"]["diagnosis"]["name"] == "conv_backward_unpads_with_negative_slice"
    )
    assert by_name["pool_backward"]["failure"]["index"] is not None
    assert by_name["conv_forward"]["status"] == "MISSING"


def test_everything_found_passing_exits_0(tmp_path, capsys):
    path = _write(tmp_path, "mine.py", "from deepstep.course.dnn import sigmoid, relu\n")
    status, out, _ = run_main(capsys, "check", str(path))
    assert status == 0, out
    assert "PASS: all 2 functions found pass" in out


def test_a_syntax_error_is_reported_with_its_line(tmp_path, capsys):
    path = _write(tmp_path, "broken.py", "import numpy as np\n\ndef zero_pad(X, pad)\n    return X\n")
    status, out, _ = run_main(capsys, "check", str(path))
    assert status == 1
    assert "ERROR" in out and "SyntaxError" in out and "line 3" in out


def test_an_infinite_loop_times_out_and_the_rest_is_graded(tmp_path):
    path = _write(
        tmp_path,
        "loops.py",
        "import numpy as np\n\n"
        "def zero_pad(X, pad):\n    while True:\n        pass\n\n"
        "def relu(Z):\n    return np.maximum(0, Z), Z\n",
    )
    report = grade_file(path, time_limit=1.0, only=["zero_pad", "relu"])
    assert report["zero_pad"].status == "FAIL"
    assert report["zero_pad"].failure.problem == "timeout"
    assert report["relu"].status == "PASS"


def test_a_loop_that_swallows_the_timer_is_killed_by_the_watchdog(tmp_path):
    path = _write(
        tmp_path,
        "stubborn.py",
        "def zero_pad(X, pad):\n    while True:\n        try:\n"
        "            while True:\n                pass\n        except BaseException:\n            pass\n\n"
        "def relu(Z):\n    import numpy as np\n    return np.maximum(0, Z), Z\n",
    )
    report = grade_file(path, time_limit=0.5, only=["zero_pad", "relu"], grace=1.0)
    assert report["zero_pad"].failure.problem == "timeout"
    assert report["relu"].status == "PASS"  # graded by a fresh worker


def test_a_wrong_signature_is_named(tmp_path):
    path = _write(tmp_path, "sig.py", "def conv_forward(A_prev, W, b):\n    return None\n")
    result = grade_file(path, only=["conv_forward"])["conv_forward"]
    assert result.status == "FAIL" and result.failure.problem == "signature"
    assert "conv_forward(A_prev, W, b)" in result.failure.message
    assert "hparameters" in result.failure.message


def test_a_notebook_with_failing_plotting_and_data_cells(tmp_path):
    outside = tmp_path / "outside.png"
    path = _notebook(
        tmp_path,
        [
            ("markdown", "# Building your Deep Neural Network"),
            ("code", "import numpy as np\n%matplotlib inline\n!pip install nothing\nimport h5py"),
            ("code", "def sigmoid(Z):\n    return 1 / (1 + np.exp(-Z)), Z\n"),
            (
                "code",
                "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig(" + repr(str(outside)) + ")",
            ),
            ("code", "train = h5py.File('datasets/train_catvnoncat.h5', 'r')"),
            ("code", "sigmoid_test(sigmoid)"),
            (
                "code",
                "def relu_backward(dA, cache):\n    dZ = np.array(dA, copy=True)\n    dZ[cache < 0] = 0\n"
                "    return dZ\n",
            ),
        ],
    )
    report = check(path)
    assert report["sigmoid"].status == "PASS"
    assert report["relu_backward"].failure.diagnosis["name"] == "relu_backward_strict_inequality"
    notes = "\n".join(report.notes)
    assert "cell 1: skipped IPython line(s) %matplotlib inline, !pip install nothing" in notes
    assert "cell 3 failed, continuing: PermissionError" in notes  # the write guard
    assert "cell 4 failed, continuing:" in notes  # no dataset in the temporary folder
    assert "cell 5 failed, continuing: NameError" in notes
    assert not outside.exists()
    assert report.exit_status == 1


def test_missing_helpers_come_from_deepstep_and_are_not_graded(tmp_path):
    path = _write(
        tmp_path,
        "forward.py",
        "def linear_activation_forward(A_prev, W, b, activation):\n"
        "    Z = W @ A_prev + b\n"
        "    A, activation_cache = sigmoid(Z) if activation == 'sigmoid' else relu(Z)\n"
        "    return A, ((A_prev, W, b), activation_cache)\n",
    )
    report = grade_file(path, only=["linear_activation_forward", "sigmoid", "relu"])
    assert report["linear_activation_forward"].status == "PASS"
    assert report["sigmoid"].status == report["relu"].status == "MISSING"
    assert any("using deepstep's relu, sigmoid" in n for n in report.notes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "no_such_file.py"], "PATH not found"),
        (["check", "{tmp}/data.txt"], "must be a Python file (.py) or a notebook (.ipynb)"),
        (["check", "{tmp}/bad.ipynb"], "is not a notebook"),
        (["check", "{tmp}/ok.py", "--only", "conv_fwd"], "--only: not course functions: conv_fwd"),
        (["check", "{tmp}/ok.py", "--time-limit", "0"], "must be > 0"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "data.txt").write_text("x")
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "ok.py").write_text("")
    status, out, err = run_main(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("deepstep") and ": error: " in err and message in err


def test_the_readme_report_is_the_real_one(capsys, monkeypatch):
    from conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    command = "$ deepstep check docs/examples/my_cnn.py"
    block = readme[readme.index(command) :].split("\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(REPO_ROOT)
    status, out, _ = run_main(capsys, "check", "docs/examples/my_cnn.py")
    assert status == 1
    assert out == block


def test_the_catalogue_page_lists_every_mistake():
    from conftest import REPO_ROOT
    from deepstep.course.check import MUTANTS

    page = (REPO_ROOT / "docs" / "check_mistakes.md").read_text()
    for mutant in MUTANTS:
        assert f"`{mutant.name}" in page and mutant.explanation.replace("|", "/") in page
