"""The kernel benchmark runs end to end (tiny problems; no timing asserts)."""

from __future__ import annotations

import runpy
import sys

import pytest

from conftest import REPO_ROOT
from deepstep import bench


def test_quick_benchmark_writes_its_section_and_keeps_the_rest(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "BENCHMARKS.md"
    old = f"{bench.MARK_BEGIN}\nold table\n{bench.MARK_END}"
    out.write_text(f"# Benchmarks\n\nintro stays\n\n{old}\n\noutro stays\n")
    assert bench.main(["--quick", "--output", str(out)], prog="benchmarks/bench_kernels.py") == 0
    text = out.read_text()
    assert "intro stays" in text and "outro stays" in text and "old table" not in text
    assert text.count(bench.MARK_BEGIN) == 1 and text.count(bench.MARK_END) == 1
    assert "Command: `python benchmarks/bench_kernels.py --quick --output" in text
    for case in (*bench.QUICK_CONV_CASES, *bench.QUICK_POOL_CASES):
        for dtype in ("float32", "float64"):
            for layout in ("NHWC", "NCHW"):
                assert f"| {case.name} | {dtype} | {layout} |" in text
    assert "geometric mean of ratios" in text and "Where deepstep's time goes" in text
    assert "Against the course loops" in text


def test_write_section_appends_when_markers_are_absent(tmp_path):
    out = tmp_path / "B.md"
    out.write_text("# Title\n")
    bench.write_section(out, f"{bench.MARK_BEGIN}\nnew\n{bench.MARK_END}\n")
    assert out.read_text() == f"# Title\n\n{bench.MARK_BEGIN}\nnew\n{bench.MARK_END}\n"
    bench.write_section(out, f"{bench.MARK_BEGIN}\nnewer\n{bench.MARK_END}\n")
    assert out.read_text() == f"# Title\n\n{bench.MARK_BEGIN}\nnewer\n{bench.MARK_END}\n"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--dtype", "float16"], "--dtype must be among float32, float64; got float16"),
        (["--threads", "a"], "--threads must be comma-separated integers"),
        (["--threads", "0"], "--threads must be integers >= 1"),
        (["--repeats", "3"], "--repeats must be >= 5"),
    ],
)
def test_bad_options_exit_with_a_message(argv, match):
    with pytest.raises(SystemExit, match=match):
        bench.main(argv)


def test_script_is_a_thin_wrapper(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_kernels.py", "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(REPO_ROOT / "benchmarks" / "bench_kernels.py"), run_name="__main__")
    assert info.value.code == 0
    assert "--quick" in capsys.readouterr().out
