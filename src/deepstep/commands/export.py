"""``deepstep export``: write a saved model (or a fresh model-zoo model) as an ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import CLIError, load_model_or_name, positive_int

__all__ = ["add_parser", "run"]

FORMATS = ("onnx",)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="export a model to ONNX",
        description="Write a saved model (.npz) or a fresh model-zoo model as an ONNX file that onnxruntime "
                    "runs: input 'input' (batch, *input shape), images scaled to [0, 1] as in training; "
                    "outputs 'logits' and 'probabilities'. The class names and input scaling are in the "
                    "file's metadata. Needs the onnx package (pip install 'deepstep[onnx]').",
    )
    p.add_argument("model", metavar="MODEL|NAME", help="a saved model (.npz) or a model-zoo name")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="output format (default: onnx)")
    p.add_argument("--output", "-o", default=None, metavar="PATH",
                   help="output file (default: MODEL with the suffix .onnx, or NAME.onnx)")
    p.add_argument("--opset", type=positive_int, default=None, metavar="N",
                   help="ONNX operator-set version (default: 17)")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    model = load_model_or_name(args.model)
    source = Path(args.model)
    output = Path(args.output) if args.output else source.with_suffix(".onnx")
    if output.is_dir():
        raise CLIError(f"--output is a folder: {output} (give a file name)")
    try:
        from ..export import to_onnx
        from ..export.onnx_export import DEFAULT_OPSET
    except ImportError as exc:
        raise CLIError(f"{exc}") from exc
    proto = to_onnx(model, output, opset=DEFAULT_OPSET if args.opset is None else args.opset)
    ops = sorted({node.op_type for node in proto.graph.node})
    print(f"wrote {output} (ONNX opset {proto.opset_import[0].version}, {model.dtype}, "
          f"{len(proto.graph.node)} nodes: {', '.join(ops)})")
    return 0
