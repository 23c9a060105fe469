"""The grading results and their two renderings: a terminal report and JSON for tools."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Failure", "FunctionResult", "Report", "PASS", "FAIL", "MISSING"]

PASS, FAIL, MISSING = "PASS", "FAIL", "MISSING"


@dataclass
class Failure:
    """The first failing case of a function, and what is known about why.

    ``problem`` is ``"mismatch"`` (wrong output), ``"published"`` (differs from the notebook's
    Expected Output), ``"gradient"`` (differs from the numerical gradient), ``"exception"``,
    ``"timeout"`` or ``"signature"``.
    """

    case: str
    kind: str
    problem: str
    message: str
    call: str = ""
    where: str | None = None
    index: list[int] | None = None
    got: str | None = None
    expected: str | None = None
    traceback: list[str] = field(default_factory=list)
    diagnosis: dict[str, str] | None = None
    hint: str | None = None


@dataclass
class FunctionResult:
    """The grade of one course function."""

    name: str
    module: str
    status: str
    passed: int = 0
    total: int = 0
    failed_cases: list[str] = field(default_factory=list)
    failure: Failure | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunctionResult:
        data = dict(data)
        failure = data.pop("failure", None)
        return cls(**data, failure=Failure(**failure) if failure else None)


@dataclass
class Report:
    """Everything ``check`` found: one result per course function, plus notes on loading the source."""

    source: str
    results: list[FunctionResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def found(self) -> list[FunctionResult]:
        return [r for r in self.results if r.status != MISSING]

    @property
    def failed(self) -> list[FunctionResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def passed(self) -> bool:
        """True when the source loaded, at least one course function was found and all found pass."""
        return self.error is None and bool(self.found) and not self.failed

    @property
    def exit_status(self) -> int:
        return 0 if self.passed else 1

    def __getitem__(self, name: str) -> FunctionResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "passed": self.passed,
            "error": self.error,
            "notes": list(self.notes),
            "summary": {
                "found": len(self.found),
                "failed": len(self.failed),
                "missing": sum(r.status == MISSING for r in self.results),
            },
            "functions": [r.to_dict() for r in self.results],
        }

    def to_text(self, show_missing: bool = True) -> str:
        return render_text(self, show_missing)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:  # a notebook shows the report as the cell's value
        return self.to_text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(self.to_text())


def _counts(r: FunctionResult) -> str:
    return f"{r.passed}/{r.total} cases" if r.total else ""


def render_text(report: Report, show_missing: bool = True) -> str:
    """The terminal report: one line per function, then the details of every failure."""
    lines = [f"deepstep check: {report.source}"]
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.error:
        lines.append(f"ERROR    {report.error}")
        return "\n".join(lines)
    found_modules = {r.module for r in report.found}
    shown = [r for r in report.results if r.status != MISSING or (show_missing and r.module in found_modules)]
    width = max((len(r.name) for r in shown), default=10)
    for r in shown:
        lines.append(f"{r.status:<8} {r.module:<7} {r.name:<{width}}  {_counts(r)}".rstrip())
    others = sorted({r.module for r in report.results} - found_modules)
    if others:
        lines.append(f"         (no function of {', '.join(others)} found)")
    for r in report.failed:
        lines.append("")
        lines.extend(_failure_lines(r))
    lines.append("")
    if not report.found:
        lines.append("FAIL: no course function found (they are looked up by the notebooks' names)")
    elif report.failed:
        lines.append(f"FAIL: {len(report.failed)} of {len(report.found)} functions found fail")
    else:
        lines.append(f"PASS: all {len(report.found)} functions found pass")
    return "\n".join(lines)


def _failure_lines(r: FunctionResult) -> list[str]:
    f = r.failure
    head = f"{r.name}: FAIL"
    if r.failed_cases:
        head += f" ({len(r.failed_cases)} of {r.total} cases fail)"
    lines = [head]
    if f is None:
        return lines
    lines.append(f"  first failing case ({f.kind}): {f.case}")
    if f.call:
        lines.append(f"  call: {f.call}")
    lines.append(f"  {f.message}")
    if f.traceback:
        lines.append("  your traceback:")
        lines.extend(f"    {line}" for line in f.traceback)
    if f.diagnosis:
        lines.append(f"  likely cause [{f.diagnosis['name']}]: {f.diagnosis['explanation']}")
    if f.hint:
        lines.append(f"  hint: {f.hint}")
    for note in r.notes:
        lines.append(f"  note: {note}")
    others = [c for c in r.failed_cases if c != f.case]
    if others:
        lines.append("  also fails: " + "; ".join(others))
    return lines
