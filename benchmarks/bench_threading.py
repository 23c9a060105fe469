"""Compiled-kernel training steps at 1 and 2 threads under several Numba threading-layer settings.

Usage::

    python benchmarks/bench_threading.py [--busy] [--repeats 7] [--steps 5]
                                         [--settings default,workqueue,omp-spin,omp-spin-1000]

Each setting runs in its own process (a threading layer and OpenMP's wait policy are fixed when the
layer loads): ``default`` is what deepstep chooses (OpenMP with ``GOMP_SPINCOUNT=20000``, else
workqueue); ``workqueue`` sets ``NUMBA_THREADING_LAYER=workqueue``; ``omp-spin`` sets
``OMP_WAIT_POLICY=active`` (libgomp's spinning workers); ``omp-spin-N`` adds ``GOMP_SPINCOUNT=N``.
The process times mnist_cnn (batch 128), signs_convnet (batch 64) and resnet_small (batch 32, 64x64x3)
training steps (float32, Adam, ``DEEPSTEP_KERNELS=numba``, BLAS on 1 thread) on 1 and on 2 kernel
threads, alternating, and prints
the median ms per step. ``--busy`` starts a process that keeps one core busy (a pure-Python loop)
for the whole run: a 2-thread step should then be no slower than a 1-thread one. The compiled kernels
must be in the cache (any earlier run of them, e.g. ``python -m deepstep.nn.functional._numba.warmup
float32``); the first step of each model is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "default": {},
    "workqueue": {"NUMBA_THREADING_LAYER": "workqueue"},
    "omp-spin": {"NUMBA_THREADING_LAYER": "omp", "OMP_WAIT_POLICY": "active"},
}

CHILD = r"""
import json, sys, time
import numpy as np
from deepstep.nn import functional as F
from deepstep.nn.functional import _numba
from deepstep.models import mnist_cnn, resnet_small, signs_convnet
from deepstep.optim import Adam
repeats, steps = int(sys.argv[1]), int(sys.argv[2])
F.set_kernels("numba")
rng = np.random.default_rng(0)
cases = {"mnist_cnn": (mnist_cnn(seed=0), rng.random((128, 28, 28, 1), dtype=np.float32),
                       rng.integers(0, 10, 128)),
         "signs_convnet": (signs_convnet(seed=0), rng.random((64, 64, 64, 3), dtype=np.float32),
                           rng.integers(0, 6, 64)),
         "resnet_small": (resnet_small(seed=0, input_shape=(64, 64, 3), num_classes=6),
                          rng.random((32, 64, 64, 3), dtype=np.float32), rng.integers(0, 6, 32))}
result = {"layer": _numba.threading_layer()}
for name, (model, x, y) in cases.items():
    model.compile(optimizer=Adam(0.001), loss="sparse_categorical_crossentropy")
    times = {1: [], 2: []}
    for threads in (1, 2):
        F.set_num_threads(threads)
        for _ in range(2):
            model.train_on_batch(x, y)
    for _ in range(repeats):
        for threads in (1, 2):
            F.set_num_threads(threads)
            model.train_on_batch(x, y)
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            times[threads].append((time.perf_counter() - start) / steps * 1e3)
    result[name] = {t: float(np.median(v)) for t, v in times.items()}
print(json.dumps(result))
"""


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_threading.py", description=__doc__.split("\n")[0])
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process")
    parser.add_argument("--repeats", type=int, default=7, help="timings per thread count (median reported)")
    parser.add_argument("--steps", type=int, default=5, help="training steps per timing")
    parser.add_argument("--settings", default="default,workqueue,omp-spin,omp-spin-1000,omp-spin-10000",
                        help="comma-separated settings: default, workqueue, omp-spin, omp-spin-N")
    args = parser.parse_args()
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    for setting in args.settings:
        if setting not in SETTINGS and not (setting.startswith("omp-spin-") and setting[9:].isdigit()):
            parser.error(f"unknown setting {setting!r}")
    return args


def _env(setting: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    if setting.startswith("omp-spin-"):
        env.update(SETTINGS["omp-spin"], GOMP_SPINCOUNT=setting[9:])
    else:
        env.update(SETTINGS[setting])
    return env


def main() -> int:
    args = _parse()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        print(f"| setting | layer | mnist_cnn 1 / 2 threads, ms | signs_convnet 1 / 2 threads, ms | "
              f"resnet_small 1 / 2 threads, ms |{' (a busy process beside)' if args.busy else ''}")
        print("|---|---|---:|---:|---:|")
        for setting in args.settings:
            out = subprocess.run([sys.executable, "-c", CHILD, str(args.repeats), str(args.steps)],
                                 env=_env(setting), capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            cells = " | ".join(f"{r[name]['1']:.1f} / {r[name]['2']:.1f}"
                               for name in ("mnist_cnn", "signs_convnet", "resnet_small"))
            print(f"| {setting} | {r['layer']} | {cells} |", flush=True)
    finally:
        if busy is not None:
            busy.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
