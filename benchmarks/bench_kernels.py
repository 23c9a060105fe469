"""Benchmark deepstep's kernels against PyTorch CPU and update BENCHMARKS.md.

Usage: ``python benchmarks/bench_kernels.py [--threads 1,2] [--dtype float32,float64] [--quick]
[--kernels numpy|numba] [--output BENCHMARKS.md]``; the logic lives in :mod:`deepstep.bench` (also
``deepstep bench``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout, uninstalled

from deepstep.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog="python benchmarks/bench_kernels.py"))
