"""The code base stays ruff-clean: lint runs as part of the test suite."""

import importlib.util
import shutil
import subprocess
import sys

from conftest import REPO_ROOT


def _ruff_command() -> list[str]:
    # The ruff of the interpreter running the tests (the [test] extra) first, so that the version pinned
    # with the project is used rather than whatever ruff happens to be first on PATH.
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is not installed: pip install -e '.[test]'"
    return [ruff]


def test_ruff_clean():
    paths = [p for p in ("src", "tests", "benchmarks") if (REPO_ROOT / p).is_dir()]
    result = subprocess.run([*_ruff_command(), "check", *paths], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
