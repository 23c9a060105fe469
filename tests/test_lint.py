"""The code base stays ruff-clean: lint runs as part of the test suite."""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO_ROOT


def test_ruff_clean():
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(REPO_ROOT / ".venv" / "bin"))
    if ruff is None:
        try:
            import ruff as _ruff  # noqa: F401
        except ImportError:
            pytest.skip("ruff is not installed (it is part of the [test] extra)")
        cmd = [sys.executable, "-m", "ruff"]
    else:
        cmd = [ruff]
    paths = [p for p in ("src", "tests", "benchmarks") if (REPO_ROOT / p).is_dir()]
    result = subprocess.run([*cmd, "check", *paths], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
