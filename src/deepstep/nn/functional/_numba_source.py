"""The text of the compiled kernels (generated and hand-written), read without importing numba."""

from __future__ import annotations

from pathlib import Path

from . import _numba_codegen

__all__ = ["kernel_sources"]


def kernel_sources() -> str:
    folder = Path(__file__).parent / "_numba"
    return _numba_codegen.source() + "".join((folder / name).read_text()
                                             for name in ("_kernels.py", "_norm_kernels.py"))
