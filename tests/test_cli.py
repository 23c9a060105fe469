"""The deepstep command line: help, argument parsing and error paths that need no trained model."""

from __future__ import annotations

import importlib.util

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main

COMMANDS = ("train", "evaluate", "predict", "visualize", "gradcheck", "info")


def test_python_m_deepstep_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: deepstep")
    for command in (*COMMANDS, "bench"):
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(capsys, command):
    status, out, _ = run_main(capsys, command, "--help")
    assert status == 0
    assert out.startswith(f"usage: deepstep {command}")


def test_version(capsys):
    status, out, _ = run_main(capsys, "--version")
    assert status == 0 and out.startswith("deepstep ")


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        ((), ("choose a command",)),
        (("frobnicate",), ("invalid choice: 'frobnicate'",)),
        (("train", "--bogus"), ("deepstep train: error:", "unrecognized arguments: --bogus")),
        (("train", "--epochs", "0"), ("--epochs", "must be >= 1")),
        (("train", "--epochs", "two"), ("not an integer: 'two'",)),
        (("train", "--lr", "-1"), ("--lr", "must be > 0")),
        (("train", "--lr", "nan"), ("--lr", "must be finite")),
        (("train", "--val-split", "1"), ("--val-split", "must be in [0, 1)")),
        (("train", "--optimizer", "adagrad"), ("--optimizer", "invalid choice: 'adagrad'")),
        (("train", "--dtype", "float16"), ("--dtype", "invalid choice")),
        (("evaluate", "model.npz"), ("MODEL file not found: model.npz",)),  # --data: the run's by default
        (("predict", "model.npz"), ("MODEL file not found: model.npz",)),  # IMAGE: held-out ones by default
        (("visualize",), ("the following arguments are required: MODEL",)),
        (("evaluate", "model.npz", "--subset", "train"), ("--subset", "invalid choice: 'train'")),
        (("predict", "model.npz", "a.png", "--top", "0"), ("argument --top", "must be >= 1, got 0")),
        (("evaluate", "model.npz", "--data", "digits", "--seed", "-1"), ("argument --seed", "must be >= 0")),
        (("gradcheck", "digits_cnn", "--entries", "0"), ("argument --entries", "must be >= 1, got 0")),
        (("gradcheck", "digits_cnn", "--batch-size", "0"), ("argument --batch-size", "must be >= 1")),
        (("gradcheck", "digits_cnn", "--epsilon", "1"), ("argument --epsilon", "must be in (0, 1), got 1")),
        (("gradcheck", "digits_cnn", "--tolerance", "inf"), ("argument --tolerance", "must be finite")),
    ],
)
def test_usage_errors_are_one_line_with_status_2(capsys, argv, fragments):
    status, _, err = run_main(capsys, *argv)
    assert_one_line_error(status, err, *fragments)


def test_missing_model_files(capsys, tmp_path):
    missing = tmp_path / "x.npz"
    for argv in (("predict", missing, "a.png"), ("evaluate", missing, "--data", "digits"),
                 ("visualize", missing, "a.png"), ("info", missing), ("gradcheck", missing)):
        status, _, err = run_main(capsys, *argv)
        assert_one_line_error(status, err, f"MODEL file not found: {missing}")


def test_model_that_is_a_folder(capsys, tmp_path):
    status, _, err = run_main(capsys, "predict", tmp_path, "a.png")
    assert_one_line_error(status, err, "MODEL is not a file")


def test_missing_and_corrupt_data(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--data", tmp_path / "nope", "--out", tmp_path / "run")
    assert_one_line_error(status, err, "data not found:", "nope")
    fake = tmp_path / "fake.h5"
    fake.write_bytes(b"not hdf5 at all")
    status, _, err = run_main(capsys, "train", "--data", fake, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "fake.h5: not an HDF5 file")
    (tmp_path / "empty").mkdir()
    status, _, err = run_main(capsys, "train", "--data", tmp_path / "empty", "--out", tmp_path / "run")
    assert_one_line_error(status, err, "no MNIST IDX pair and no class sub-folders")
    assert not (tmp_path / "run").exists()


def test_resume_without_a_run(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--out", tmp_path, "--resume")
    assert_one_line_error(status, err, "nothing to resume in", "run.json")


def test_bench_is_passed_through(capsys):
    status, out, _ = run_main(capsys, "bench", "--help")
    assert status == 0 and "usage" in out.lower() and "--threads" in out


def test_bench_missing_from_the_installation(capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "deepstep.bench" else find_spec(name, *a))
    status, _, err = run_main(capsys, "bench", "--help")
    assert_one_line_error(status, err, "deepstep.bench", "not part of this installation")


def test_subprocess_error_has_no_traceback(tmp_path):
    result = run_cli("predict", tmp_path / "missing.npz", "x.png")
    assert_one_line_error(result.returncode, result.stderr, "MODEL file not found")
    assert result.stdout == ""
