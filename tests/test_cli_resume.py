"""``deepstep train --resume`` after any interruption (issue 9): a run interrupted after its last epoch
but before its results were written is finished, not refused; a contradicting option is one error
naming the option and both values; a damaged run.json is one line, exit status 2."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from cli_helpers import assert_one_line_error, cli_env, run_cli, run_main
from deepstep.commands import train as train_command

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

TINY = ("--epochs", "1", "--batch-size", "128", "--quiet")
RESULTS = ("model.npz", "history.json", "learning_curves.png")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """An uninterrupted tiny run: the reference the finished runs must equal."""
    out = tmp_path_factory.mktemp("straight") / "run"
    result = run_cli("train", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _history(folder):
    return json.loads((folder / "history.json").read_text())


def _interrupt_after_training(monkeypatch):
    def interrupted(model):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "ensure_compiled", interrupted)


def test_ctrl_c_after_the_last_epoch_then_resume_finishes(tmp_path, capsys, monkeypatch, straight):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _interrupt_after_training(patch)
        status, text, err = run_main(capsys, "train", *TINY, "--out", out)
    assert status == 130, err
    assert "interrupted after the last epoch" in text and f"deepstep train --out {out} --resume" in text
    assert not (out / "model.npz").exists()
    assert json.loads((out / "run.json").read_text())["completed"] is False
    status, text, err = run_main(capsys, "train", "--out", out, "--resume", "--quiet")
    assert status == 0, err
    assert "finishing the run" in text and "holds all 1 epochs" in text
    for name in RESULTS:
        assert (out / name).is_file(), name
    assert not (out / "checkpoint.npz").exists()
    assert _history(out) == _history(straight)
    status, _, err = run_main(capsys, "train", "--out", out, "--resume")
    assert_one_line_error(status, err, "already completed 1 of 1 epochs")


def test_a_real_sigint_after_the_last_epoch_then_resume_finishes(tmp_path, straight):
    if sys.platform == "win32":
        pytest.skip("SIGINT cannot be sent to a child process on Windows")
    out = tmp_path / "run"
    # The real CLI in a subprocess; its test evaluation waits so that SIGINT lands after the last epoch.
    code = textwrap.dedent(f"""
        import sys, time
        from deepstep.cli import main
        from deepstep.commands import train
        def slow(model):
            print("EVALUATING", flush=True)
            time.sleep(120)
        train.ensure_compiled = slow
        sys.exit(main({["train", *TINY, "--out", str(out)]!r}))
    """)
    process = subprocess.Popen([sys.executable, "-c", code], env=cli_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        for line in process.stdout:
            if line.strip() == "EVALUATING" or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "finish with: deepstep train" in stdout
    assert not (out / "model.npz").exists()
    result = run_cli("train", "--out", out, "--resume", "--quiet")
    assert result.returncode == 0, result.stderr
    for name in RESULTS:
        assert (out / name).is_file(), name
    assert _history(out) == _history(straight)


@pytest.mark.parametrize(("option", "value", "before"), [
    ("--lr", "0.01", "0.003"), ("--batch-size", "64", "128"), ("--optimizer", "sgd", "adam"),
    ("--lr-schedule", "cosine", "constant"), ("--dtype", "float64", "float32"), ("--seed", "3", "0"),
    ("--model", "mnist_cnn", "digits_cnn"), ("--val-split", "0.2", "0.1"),
])
def test_resume_with_a_contradicting_option(straight, capsys, option, value, before):
    status, _, err = run_main(capsys, "train", "--out", straight, "--resume", "--epochs", "2", option, value)
    assert_one_line_error(status, err, f"used {option} {before}, not {value}")


def test_resume_with_the_same_options_is_accepted(straight, tmp_path, capsys):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(straight, out)
    status, text, err = run_main(capsys, "train", "--out", out, "--resume", "--epochs", "2", "--lr", "0.003",
                                 "--batch-size", "128", "--optimizer", "adam", "--quiet")
    assert status == 0, err
    assert "after epoch 1" in text


@pytest.mark.parametrize(("key", "value"), [
    ("epochs", "Infinity"), ("batch_size", -1), ("lr", "nan"), ("lr", 10**400), ("optimizer", "lbfgs"),
    ("epochs", True),
], ids=["epochs-inf", "batch-negative", "lr-nan", "lr-10**400", "optimizer-unknown", "epochs-bool"])
def test_a_damaged_run_file(straight, tmp_path, capsys, key, value):
    import shutil

    out = tmp_path / "damaged"
    shutil.copytree(straight, out)
    text = (out / "run.json").read_text()
    saved = json.loads(text)
    saved[key] = value
    (out / "run.json").write_text(json.dumps(saved).replace('"Infinity"', "Infinity").replace('"nan"', "NaN"))
    status, _, err = run_main(capsys, "train", "--out", out, "--resume", "--epochs", "2")
    assert_one_line_error(status, err, "run.json", repr(key))


def test_restore_best_run_interrupted_after_the_last_epoch(tmp_path, capsys, monkeypatch):
    from deepstep.io import load_model

    out = tmp_path / "run"
    options = ("--epochs", "3", "--batch-size", "128", "--lr", "0.05", "--restore-best", "--quiet")
    with monkeypatch.context() as patch:
        _interrupt_after_training(patch)
        status, _, err = run_main(capsys, "train", *options, "--out", out)
    assert status == 130, err
    assert int(load_model(out / "checkpoint.npz").epoch) == 3
    status, text, err = run_main(capsys, "train", "--out", out, "--resume", "--quiet")
    assert status == 0, err
    history = _history(out)
    best = min(range(3), key=lambda k: history["val_loss"][k]) + 1
    assert history["model_epoch"] == best == int(load_model(out / "model.npz").epoch)
    assert int(load_model(out / "checkpoint.npz").epoch) == 3 and not (out / "best.npz").exists()
