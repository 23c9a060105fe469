"""Shared fixtures: the real datasets in ../shared/data and deterministic settings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("DEEPSTEP_DATA", REPO_ROOT.parent / "shared" / "data"))

# The kernels the suite runs on: NumPy (the reference) unless DEEPSTEP_KERNELS says otherwise (the whole
# suite also passes with DEEPSTEP_KERNELS=numba, run by hand: BENCHMARKS.md). Not "auto": it would start
# a background compile and switch implementations in the middle of the run. In CI the compiled kernels
# are covered by tests/nn/functional/test_fn_kernels.py, which runs both implementations whatever this
# says: every kernel against the reference, and whole zoo models trained on both.
os.environ.setdefault("DEEPSTEP_KERNELS", "numpy")

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real datasets; tests that need it skip with a reason where it is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"real datasets not found at {DATA_DIR} (set DEEPSTEP_DATA to their folder)")
    return DATA_DIR


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
