"""``deepstep gradcheck``: compare a model's backward pass with centred differences, per parameter."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

from .common import (
    CLIError,
    is_binary,
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
                    "error ||analytic - numeric|| / (||analytic|| + ||numeric||). "
                    "Exit status 1 if any parameter fails.",
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


@dataclass(frozen=True)
class ParameterCheck:
    """The outcome for one parameter."""

    layer: str
    parameter: str
    shape: tuple[int, ...]
    checked: int
    rel_error: float


def to_float64(model: Any) -> Any:
    """A float64 copy of ``model`` (same architecture and weights)."""
    if str(getattr(model, "dtype", "float64")) == "float64":
        return model
    config = model.get_config()
    config["dtype"] = "float64"
    copy = type(model).from_config(config)
    for target, source in zip(copy.parameters(), model.parameters(), strict=True):
        target.value[...] = source.value
    return copy


def _loss(model: Any) -> Any:
    from ..nn.functional import binary_cross_entropy_with_logits, softmax_cross_entropy

    return binary_cross_entropy_with_logits if is_binary(model) else softmax_cross_entropy


def check_model_gradients(model: Any, x: np.ndarray, y: np.ndarray, entries: int = 12, h: float = 1e-5,
                          rng: np.random.Generator | None = None) -> list[ParameterCheck]:
    """Relative error of the analytic gradient of every trainable parameter (sampled entries).

    The loss is the mean softmax cross-entropy (or binary cross-entropy for one logit) of
    ``model.forward(x, training=False)`` against ``y``.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    loss_fn = _loss(model)

    def loss_value() -> float:
        return float(loss_fn(model.forward(x, training=False)[0], y)[0])

    model.zero_grad()
    logits, cache = model.forward(x, training=False)
    _, dlogits = loss_fn(logits, y)
    model.backward(dlogits, cache)
    results = []
    for layer in model.layers:
        for name, param in layer.named_parameters():
            if not param.trainable:
                continue
            analytic = param.grad.copy().ravel()
            flat = param.value.reshape(-1)  # a view: perturbing it perturbs the weights
            if not np.shares_memory(flat, param.value):
                raise CLIError(f"parameter {param.name!r} is not contiguous; cannot perturb it in place")
            count = min(entries, flat.size)
            picked = np.sort(rng.choice(flat.size, size=count, replace=False))
            numeric = np.empty(count)
            for k, i in enumerate(picked):
                old = flat[i]
                flat[i] = old + h
                plus = loss_value()
                flat[i] = old - h
                minus = loss_value()
                flat[i] = old
                numeric[k] = (plus - minus) / (2 * h)
            a = analytic[picked]
            denominator = np.linalg.norm(a) + np.linalg.norm(numeric)
            error = 0.0 if denominator == 0 else float(np.linalg.norm(a - numeric) / denominator)
            results.append(ParameterCheck(str(layer.name), name, tuple(param.value.shape), count, error))
    return results


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
    results = check_model_gradients(model, x, y, entries=args.entries, h=args.epsilon, rng=rng)
    if not results:
        raise CLIError(f"model {args.model} has no trainable parameters to check")
    print(f"gradient check of {model.name} (float64, batch of {args.batch_size}, h={args.epsilon:g}, "
          f"up to {args.entries} entries per parameter, tolerance {args.tolerance:g})")
    lw = max(5, *(len(r.layer) for r in results))
    pw = max(9, *(len(r.parameter) for r in results))
    sw = max(5, *(len(str(r.shape)) for r in results))
    print(f"{'layer':<{lw}}  {'parameter':<{pw}}  {'shape':<{sw}}  checked  rel. error  result")
    failed = 0
    for r in results:
        ok = r.rel_error <= args.tolerance
        failed += not ok
        print(f"{r.layer:<{lw}}  {r.parameter:<{pw}}  {str(r.shape):<{sw}}  {r.checked:7d}  "
              f"{r.rel_error:10.2e}  {'PASS' if ok else 'FAIL'}")
    worst = max(r.rel_error for r in results)
    if failed:
        print(f"FAIL: {failed} of {len(results)} parameters above tolerance (max relative error {worst:.2e})")
        return 1
    print(f"PASS: all {len(results)} parameters (max relative error {worst:.2e} <= {args.tolerance:g})")
    return 0
