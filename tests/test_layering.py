"""The layering is one-way: nn.functional <- nn (layers, models) <- train <- io / CLI.

Walks the AST of every module (imports inside functions included, lazily or not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "deepstep"

#: package (relative to deepstep) -> deepstep subpackages it must never import
FORBIDDEN = {
    "nn": ("train", "io", "optim", "commands", "cli", "models", "gradcheck", "viz", "data"),
    "nn/functional": ("nn.layers", "nn.model", "nn.sequential", "nn.module", "nn.symbolic", "nn.losses",
                      "train", "io", "optim", "commands", "cli"),
    "train": ("io", "commands", "cli"),
    "optim": ("nn", "train", "io", "commands", "cli"),
}


def _imports(path: Path) -> list[str]:
    """Absolute dotted names (below deepstep) of everything ``path`` imports."""
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names]
    return [n[len("deepstep."):] for n in names if n.startswith("deepstep.")]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_goes_against_the_layering(package):
    files = sorted((SRC / package).rglob("*.py"))
    assert files
    bad = []
    for path in files:
        if package == "nn" and "functional" in path.relative_to(SRC / "nn").parts:
            continue
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(SRC)} imports deepstep.{name}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_relative_and_lazy_imports(tmp_path):
    probe = SRC / "nn" / "layers" / "base.py"
    assert "nn.module" in _imports(probe) and "nn.symbolic.call_symbolic" in _imports(probe)
