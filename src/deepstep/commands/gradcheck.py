"""``deepstep gradcheck``: compare a model's backward pass with centred differences, per parameter."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..gradcheck import ParameterCheck, check_model, to_float64
from .common import (
    CLIError,
    load_model_or_name,
    model_input_shape,
    non_negative_int,
    open_fraction,
    positive_int,
)

__all__ = ["add_parser", "run", "ParameterCheck", "check_model_gradients", "to_float64"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "gradcheck",
        help="numerical gradient check of a model, per layer and parameter",
        description="Check a model's analytic gradients against centred differences "
                    "(L(w + h) - L(w - h)) / 2h in float64 on a small random batch, in inference mode "
                    "(dropout off). For each parameter, sampled entries are compared with the relative "
                    "error ||analytic - numeric|| / (||analytic|| + ||numeric||). Entries within h of a "
                    "kink of the loss (a ReLU at zero, a max-pool tie), where centred differences are "
                    "wrong, are listed and left out. Exit status 1 if any parameter fails.",
    )
    p.add_argument("model", metavar="MODEL|NAME", help="a saved model (.npz) or a model-zoo name")
    p.add_argument("--batch-size", type=positive_int, default=2,
                   help="random inputs in the batch (default: 2)")
    p.add_argument("--entries", type=positive_int, default=12,
                   help="entries checked per parameter, sampled at random (default: 12)")
    p.add_argument("--epsilon", type=open_fraction, default=1e-5,
                   help="finite-difference step h (default: 1e-5)")
    p.add_argument("--tolerance", type=open_fraction, default=1e-6,
                   help="largest relative error that passes (default: 1e-6)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the inputs, labels and sampled entries")
    p.set_defaults(handler=run)
    return p


def check_model_gradients(model: Any, x: np.ndarray, y: np.ndarray, entries: int = 12, h: float = 1e-5,
                          rng: np.random.Generator | None = None) -> list[ParameterCheck]:
    """:func:`deepstep.gradcheck.check_model` (kept here for old callers)."""
    return check_model(model, x, y, entries=entries, h=h, rng=rng)


def run(args: argparse.Namespace) -> int:
    model = to_float64(load_model_or_name(args.model, dtype="float64", seed=args.seed))
    rng = np.random.default_rng(args.seed)
    shape = model_input_shape(model)
    x = rng.random((args.batch_size, *shape))
    outputs = tuple(model.output_shape)[-1]
    if outputs == 1:
        y = rng.integers(0, 2, size=(args.batch_size, 1)).astype(np.float64)
    else:
        y = rng.integers(0, outputs, size=args.batch_size)
    results = check_model(model, x, y, entries=args.entries, h=args.epsilon, rng=rng)
    if not results:
        raise CLIError(f"model {args.model} has no trainable parameters to check")
    print(f"gradient check of {model.name} (float64, batch of {args.batch_size}, h={args.epsilon:g}, "
          f"up to {args.entries} entries per parameter, tolerance {args.tolerance:g})")
    lw = max(5, *(len(r.layer) for r in results))
    pw = max(9, *(len(r.parameter) for r in results))
    sw = max(5, *(len(str(r.shape)) for r in results))
    print(f"{'layer':<{lw}}  {'parameter':<{pw}}  {'shape':<{sw}}  checked  kinks  rel. error  result")
    failed = 0
    for r in results:
        ok = r.passed(args.tolerance)
        failed += not ok
        verdict = "PASS" if ok else "FAIL"
        if r.checked == 0:
            verdict = "PASS (every sampled entry on a kink)"
        print(f"{r.layer:<{lw}}  {r.parameter:<{pw}}  {str(r.shape):<{sw}}  {r.checked:7d}  "
              f"{len(r.kinks):5d}  {r.rel_error:10.2e}  {verdict}")
    kinks = [(r, i) for r in results for i in r.kinks]
    if kinks:
        def entry(r: ParameterCheck, i: int) -> str:
            return f"{r.layer}/{r.parameter}[{', '.join(str(int(v)) for v in np.unravel_index(i, r.shape))}]"

        where = ", ".join(entry(r, i) for r, i in kinks[:6])
        more = f" and {len(kinks) - 6} more" if len(kinks) > 6 else ""
        print(f"note: {len(kinks)} sampled entr{'y' if len(kinks) == 1 else 'ies'} within h of a kink of the "
              f"loss (a ReLU at zero or a max-pool tie) left out: {where}{more}")
    worst = max(r.rel_error for r in results)
    if failed:
        print(f"FAIL: {failed} of {len(results)} parameters above tolerance (max relative error {worst:.2e})")
        return 1
    print(f"PASS: all {len(results)} parameters (max relative error {worst:.2e} <= {args.tolerance:g})")
    return 0
