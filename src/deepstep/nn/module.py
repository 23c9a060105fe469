"""The Module protocol shared by layers and models.

A module maps an input to an output and back:

* ``forward(x, training=False) -> (y, cache)``: the output and everything the backward pass
  needs. The module keeps no per-call state, so one module can run at several places of one
  step (a shared layer) and two forward calls can be followed by their two backward calls.
* ``backward(dout, cache) -> dx``: the gradient with respect to the input of the forward call
  that made ``cache``; parameter gradients are *added* into ``param.grad`` (a parameter used
  twice receives both contributions).

Parameters are found by path: a module's own parameters are named ``"<param>"`` and those of
the modules it holds as attributes ``"<attribute>/<param>"`` (recursively), so names are unique
by construction; models prefix each layer's paths with the layer name, e.g.
``"block2/conv_a/kernel"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .parameter import Parameter

__all__ = ["Module"]


# Types that are never a module nor hold one (the walk behind named_parameters skips them at once:
# resnet_small's walk 180 -> 150 us; train_on_batch walks twice a step).
_ATOMS = frozenset({int, float, str, bool, type(None), np.ndarray, Parameter})


class Module:
    """Base of layers and models: forward/backward with explicit caches and named parameters."""

    def forward(self, x: Any, training: bool = False) -> tuple[Any, Any]:  # pragma: no cover
        """``(output, cache)`` for the input ``x``."""
        raise NotImplementedError

    def backward(self, dout: Any, cache: Any) -> Any:  # pragma: no cover
        """Gradient with respect to the input of the forward call that returned ``cache``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ structure
    def own_parameters(self) -> list[Parameter]:
        """The parameters this module holds directly (not those of its sub-modules)."""
        return []

    def children(self) -> list[tuple[str, Module]]:
        """``(attribute path, module)`` for every module held as an attribute (or in a list/tuple
        attribute, as ``"<attribute>/<index>"``), in attribute order."""
        out: list[tuple[str, Module]] = []
        for key, value in vars(self).items():
            if type(value) in _ATOMS:  # most attributes: skipped without an isinstance check
                continue
            if isinstance(value, Module):
                out.append((key.lstrip("_"), value))
            elif isinstance(value, (list, tuple)):  # a tuple, not list | tuple: faster here
                for i, v in enumerate(value):
                    if type(v) not in _ATOMS and isinstance(v, Module):
                        out.append((f"{key.lstrip('_')}/{i}", v))
        return out

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, depth first (each once)."""
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            stack.extend(child for _, child in reversed(module.children()))

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """``(path, parameter)`` pairs, own parameters first, then each child's under its path.

        A parameter reachable twice (a sub-module shared inside a module) is listed once.
        """
        out: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        self._collect(prefix, out, seen)
        return out

    def _collect(self, prefix: str, out: list[tuple[str, Parameter]], seen: set[int]) -> None:
        for p in self.own_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append((prefix + p.name, p))
        for path, child in self.children():
            child._collect(f"{prefix}{path}/", out, seen)

    def parameters(self) -> list[Parameter]:
        """Every parameter (trainable and not) in :meth:`named_parameters` order."""
        return [p for _, p in self.named_parameters()]

    def trainable_parameters(self) -> list[Parameter]:
        return [p for p in self.parameters() if p.trainable]

    def zero_grad(self) -> None:
        """Reset every parameter's accumulated gradient to zero."""
        for p in self.parameters():
            p.zero_grad()

    def count_params(self) -> int:
        """Number of scalars in all parameters (trainable and not)."""
        return sum(p.size for p in self.parameters())


def check_unique_names(named: list[tuple[str, Parameter]], owner: str) -> None:
    """Raise ValueError if two parameters share a path (a custom module naming two alike)."""
    seen: set[str] = set()
    for name, _ in named:
        if name in seen:
            raise ValueError(f"{owner}: two parameters are named {name!r}; give each parameter of a "
                             "layer its own name (sub-layers get their attribute name as a prefix)")
        seen.add(name)


def as_float_array(x: Any, dtype: np.dtype, name: str) -> np.ndarray:
    """``x`` converted to ``dtype`` (real numbers only), without a copy when it already fits."""
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    arr = np.asarray(x)
    real = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.dtype == np.bool_ or not real:
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(dtype)
