"""Serial twin against parallel driver of the compiled kernels, by problem size (where to go parallel).

Usage::

    python benchmarks/bench_twins.py [--threads 2] [--repeats 41]

For growing batches of the MNIST/SIGNS-sized problems below, the median microseconds of one call
through the public API with every kernel forced to its serial twin and to its parallel driver
(``deepstep.nn.functional._numba.forcing_twins``), alternating, float32, BLAS on 1 thread. The
thresholds in ``_numba/conv.py`` (``PARALLEL_MIN_FMAS``, ``PARALLEL_MIN_COPY``), ``_numba/pool.py`` and
``_numba/norm.py`` (``PARALLEL_MIN_SIZE``) come from where the parallel column starts to win. The
kernels compile on first use (a cold cache takes tens of seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout, uninstalled

import numpy as np  # noqa: E402

from deepstep.nn import functional as F  # noqa: E402


def _median_us(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_twins.py", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="kernel threads (set_num_threads)")
    parser.add_argument("--repeats", type=int, default=41, help="timings per size (median reported)")
    args = parser.parse_args()
    from deepstep.nn.functional._numba import conv as nconv
    from deepstep.nn.functional._numba import forcing_twins

    F.set_kernels("numba")
    F.set_num_threads(args.threads)
    rng = np.random.default_rng(0)

    def conv_forward(n):
        x = rng.random((n, 14, 14, 8), dtype=np.float32)
        w = rng.random((5, 5, 8, 16), dtype=np.float32)

        def run():
            _, cache = nconv.conv2d_forward(x, w, None, (1, 1), (2, 2, 2, 2), (14, 14), False, True)
            nconv.BUFFERS.put(cache.xp)
        return f"{n * 14 * 14 * 16 * 200 / 1e6:.1f} M multiply-adds", run

    def pad_copy(n):
        src = rng.random((n, 28, 28, 8), dtype=np.float32)
        shape = (n, 32, 40, 8)

        def run():
            nconv.BUFFERS.put(nconv._padded(src, shape, 2, 2))
        return f"{np.prod(shape) / 1e3:.0f} k numbers", run

    def max_pool(n):
        x = rng.random((n, 28, 28, 8), dtype=np.float32)

        def run():
            out, cache = F.pool2d(x, 2)
            F.pool2d_backward(out, cache)
        return f"{x.size / 1e3:.0f} k numbers", run

    def batch_norm(n):
        x = rng.random((n, 32, 32, 16), dtype=np.float32)
        gamma, beta = np.ones(16, np.float32), np.zeros(16, np.float32)

        def run():
            out, cache = F.batch_norm(x, gamma, beta)
            F.batch_norm_backward(out, cache)
        return f"{x.size / 1e6:.2f} M values", run

    families = (("conv2d forward, 14x14x8 -> 16 5x5", conv_forward, (2, 4, 8, 16, 32, 64)),
                ("padded copy (x of n x 28 x 28 x 8)", pad_copy, (4, 16, 64, 128, 256)),
                ("max pooling 2x2, forward + backward", max_pool, (4, 16, 64, 128, 256)),
                ("batch normalization, forward + backward", batch_norm, (2, 8, 32, 128)))
    print(f"{args.threads} threads; median us, serial twin / parallel driver\n")
    for title, make, sizes in families:
        print(f"| {title} | serial | parallel | parallel / serial |\n|---|---:|---:|---:|")
        for n in sizes:
            label, run = make(n)
            times = {}
            for serial in (True, False):
                with forcing_twins(serial):
                    times[serial] = _median_us(run, args.repeats)
            print(f"| {label} | {times[True]:.0f} | {times[False]:.0f} | {times[False] / times[True]:.2f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
