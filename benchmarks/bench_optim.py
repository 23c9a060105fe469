"""Optimizer step time: deepstep.optim vs torch.optim (CPU, one thread) on a model-sized parameter list.

Run: PYTHONPATH=src python benchmarks/bench_optim.py [--dtype float32|float64] [--repeat N]
The parameter shapes are those of the course's SIGNS ConvNet and 4-layer cat DNN plus one 1024x1024
matrix (about 1.3 M values in all).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from deepstep.nn import Parameter  # noqa: E402
from deepstep.optim import get_optimizer  # noqa: E402

SHAPES = [(4, 4, 3, 8), (8,), (2, 2, 8, 16), (16,), (64, 6), (6,), (12288, 20), (20,), (20, 7), (7,),
          (7, 5), (5,), (5, 1), (1,), (1024, 1024)]
CASES = {
    "sgd": ({}, lambda torch, ps: torch.optim.SGD(ps, lr=0.01)),
    "momentum": ({"momentum": 0.9}, lambda torch, ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)),
    "rmsprop": ({}, lambda torch, ps: torch.optim.RMSprop(ps, lr=0.001, alpha=0.9, eps=1e-7)),
    "adam": ({}, lambda torch, ps: torch.optim.Adam(ps, lr=0.001, eps=1e-7)),
    "adamw": ({}, lambda torch, ps: torch.optim.AdamW(ps, lr=0.001, eps=1e-7, weight_decay=0.004)),
}


def best_time(fn, repeat: int) -> float:
    fn()  # warm up (creates the optimizer state)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(args.dtype) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(args.dtype) for s in SHAPES]
    print(f"{sum(v.size for v in values):,} values, {args.dtype}, best of {args.repeat}")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"{'optimizer':<10} {'deepstep ms':>12} {'torch ms':>10} {'ratio':>7}")
    for name, (kwargs, make_torch) in CASES.items():
        params = [Parameter(v.copy(), f"p{i}") for i, v in enumerate(values)]
        for p, g in zip(params, grads, strict=True):
            p.grad[...] = g
        opt = get_optimizer("sgd" if name == "momentum" else name, **kwargs)
        ours = best_time(lambda opt=opt, params=params: opt.step(params), args.repeat) * 1e3
        if torch is None:
            print(f"{name:<10} {ours:>12.2f} {'-':>10} {'-':>7}")
            continue
        tparams = [torch.tensor(v.copy(), requires_grad=True) for v in values]
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = torch.tensor(g)
        topt = make_torch(torch, tparams)
        theirs = best_time(topt.step, args.repeat) * 1e3
        print(f"{name:<10} {ours:>12.2f} {theirs:>10.2f} {ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()
