"""Kernel benchmark: deepstep.nn.functional against PyTorch CPU, written into BENCHMARKS.md.

Run ``python benchmarks/bench_kernels.py`` (or ``deepstep bench``). Each thread count runs in its own
process, because NumPy's OpenBLAS reads ``OPENBLAS_NUM_THREADS`` once, when NumPy is imported; the
parent sets it (and ``OMP_NUM_THREADS``) in the child's environment and the child calls
``torch.set_num_threads`` with the same number. In a child, deepstep and PyTorch run alternately,
repetition by repetition, so that both see the same machine load; each reported time is the median
of the repetitions after one warm-up call, for a forward plus a full backward pass (dx, dw, db).

PyTorch runs in its natural NCHW layout; for an NHWC case it gets the NCHW layout of the same problem.
TensorFlow's SAME padding (possibly asymmetric) is given to PyTorch as an explicit ``F.pad``.

Only NumPy is needed to import this module; PyTorch is imported inside the worker process and a
missing PyTorch is reported with an install hint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"
KERNELS = ("numpy", "numba")


# Targets per kernel set: geometric mean of deepstep / PyTorch per dtype, and the worst case allowed.
# NumPy: the kernel benchmark's first targets; numba: issue 11's (compiled kernels).
TARGETS = {"numpy": ({"float32": 1.0, "float64": 0.5}, 2.0),
           "numba": ({"float32": 0.8, "float64": 0.5}, 1.5)}


def _markers(kernels: str) -> tuple[str, str]:
    """The BENCHMARKS.md markers of one kernel implementation's section (NumPy: the original ones)."""
    if kernels == "numpy":
        return MARK_BEGIN, MARK_END
    return f"<!-- bench:{kernels}:begin -->", f"<!-- bench:{kernels}:end -->"
DTYPES = ("float32", "float64")
FORMATS = ("NHWC", "NCHW")


@dataclass(frozen=True)
class ConvCase:
    """A convolution problem, shapes in NHWC terms."""

    name: str
    x_shape: tuple[int, int, int, int]  # (N, H, W, C_in)
    filters: int
    kernel: int
    stride: int
    padding: int | str

    def flops(self, out_hw: tuple[int, int]) -> float:
        """Multiply-adds x 2 of forward + dW + dx: three products of the same size."""
        n, _, _, c = self.x_shape
        return 3 * 2.0 * n * out_hw[0] * out_hw[1] * self.filters * c * self.kernel**2


@dataclass(frozen=True)
class PoolCase:
    name: str
    x_shape: tuple[int, int, int, int]  # (N, H, W, C)
    pool: int
    stride: int
    padding: str
    mode: str


CONV_CASES = (
    ConvCase("SIGNS conv1: 64x64x3 -> 8 4x4 same", (64, 64, 64, 3), 8, 4, 1, "same"),
    ConvCase("SIGNS conv2: 8x8x8 -> 16 2x2 same", (64, 8, 8, 8), 16, 2, 1, "same"),
    ConvCase("MNIST: 28x28x1 -> 32 3x3 pad 1", (128, 28, 28, 1), 32, 3, 1, 1),
    ConvCase("VGG: 32x32x64 -> 64 3x3 pad 1", (64, 32, 32, 64), 64, 3, 1, 1),
    ConvCase("strided: 32x32x32 -> 64 3x3 s2 pad 1", (64, 32, 32, 32), 64, 3, 2, 1),
)
POOL_CASES = (
    PoolCase("max 8x8 s8 same on 64x64x8", (64, 64, 64, 8), 8, 8, "same", "max"),
    PoolCase("max 2x2 s2 on 32x32x64", (64, 32, 32, 64), 2, 2, "valid", "max"),
    PoolCase("avg 3x3 s1 on 32x32x64", (64, 32, 32, 64), 3, 1, "valid", "average"),
)
# --quick: the same code paths on tiny problems (for the test suite; timings meaningless)
QUICK_CONV_CASES = (
    ConvCase("quick same 4x4", (2, 8, 8, 3), 4, 4, 1, "same"),
    ConvCase("quick strided", (2, 9, 9, 4), 3, 3, 2, 1),
)
QUICK_POOL_CASES = (PoolCase("quick max", (2, 8, 8, 3), 2, 2, "valid", "max"),)
COURSE_CASE = ConvCase("course loop comparison", (8, 16, 16, 3), 8, 3, 1, 1)
QUICK_COURSE_CASE = ConvCase("course loop comparison", (1, 5, 5, 2), 2, 3, 1, 1)


# --------------------------------------------------------------------------- timing helpers
def _alternate(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each function; one warm-up each, then the functions take turns."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def _peak_numpy_bytes(fn: Callable[[], Any]) -> int:
    """tracemalloc's peak of Python and NumPy allocations during ``fn()`` (beyond what existed)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _matmul_gflops(dtype: np.dtype, size: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    seconds = _alternate({"mm": lambda: a @ b}, repeats)["mm"]
    return 2.0 * size**3 / seconds / 1e9


@contextmanager
def _phase_timer(totals: dict[str, float], clock: Callable[[], float] = time.perf_counter):
    """Time the building blocks of deepstep's convolution by wrapping them (profiling runs only).

    Nested calls (the stride-1 dx convolution calls the forward's building blocks) are
    counted once, in the innermost block.
    """
    from .nn.functional import conv as conv_module

    wrapped = {
        "_columns": "pad + im2col",
        "_matmul_into": "matmul (out, dcol)",
        "_weight_grad": "matmul (dW)",
        "col2im": "col2im",
    }
    originals = {name: getattr(conv_module, name) for name in wrapped}

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] = totals.get(label, 0.0) + clock() - start

        return inner

    for name, label in wrapped.items():
        setattr(conv_module, name, timed(originals[name], label))
    try:
        yield totals
    finally:
        for name, fn in originals.items():
            setattr(conv_module, name, fn)


# --------------------------------------------------------------------------- problems
def _conv_arrays(case: ConvCase, dtype: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, h, w, c = case.x_shape
    k = case.kernel
    return {
        "x": rng.standard_normal((n, h, w, c)).astype(dtype),
        "w": (rng.standard_normal((k, k, c, case.filters)) / math.sqrt(k * k * c)).astype(dtype),
        "b": rng.standard_normal(case.filters).astype(dtype),
    }


def _to_format(arrays: dict[str, np.ndarray], data_format: str) -> dict[str, np.ndarray]:
    if data_format == "NHWC":
        return arrays
    out = dict(arrays)
    out["x"] = np.ascontiguousarray(arrays["x"].transpose(0, 3, 1, 2))
    if "w" in arrays:
        out["w"] = np.ascontiguousarray(arrays["w"].transpose(3, 2, 0, 1))
    return out


def _pads(padding: int | str, hw: tuple[int, int], window: int, stride: int) -> tuple[Any, Any]:
    from .nn.functional._params import resolve_padding

    return resolve_padding(padding, hw, (window, window), (stride, stride))


def _deepstep_conv(case: ConvCase, a: dict[str, np.ndarray], data_format: str) -> Callable[[], Any]:
    from .nn.functional import conv2d, conv2d_backward

    out, _ = conv2d(a["x"], a["w"], a["b"], case.stride, case.padding, data_format)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)

    def run() -> Any:
        _, cache = conv2d(a["x"], a["w"], a["b"], case.stride, case.padding, data_format)
        return conv2d_backward(dout, cache)

    return run


def _torch_conv(torch: Any, case: ConvCase, a: dict[str, np.ndarray]) -> Callable[[], Any]:
    tf = torch.nn.functional
    nchw = _to_format(a, "NCHW")
    (top, bottom, left, right), out_hw = _pads(case.padding, case.x_shape[1:3], case.kernel, case.stride)
    x = torch.from_numpy(nchw["x"]).requires_grad_(True)
    w = torch.from_numpy(nchw["w"]).requires_grad_(True)
    b = torch.from_numpy(nchw["b"]).requires_grad_(True)
    dout = torch.randn(case.x_shape[0], case.filters, *out_hw, dtype=x.dtype)
    symmetric = top == bottom and left == right

    def run() -> Any:
        if symmetric:
            out = tf.conv2d(x, w, b, stride=case.stride, padding=(top, left))
        else:
            out = tf.conv2d(tf.pad(x, (left, right, top, bottom)), w, b, stride=case.stride)
        x.grad = w.grad = b.grad = None
        out.backward(dout)
        return x.grad, w.grad, b.grad

    return run


def _deepstep_pool(case: PoolCase, x: np.ndarray, data_format: str) -> Callable[[], Any]:
    from .nn.functional import pool2d, pool2d_backward

    out, _ = pool2d(x, case.pool, case.stride, case.padding, case.mode, data_format)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)

    def run() -> Any:
        _, cache = pool2d(x, case.pool, case.stride, case.padding, case.mode, data_format)
        return pool2d_backward(dout, cache)

    return run


def _torch_pool(torch: Any, case: PoolCase, x_nhwc: np.ndarray) -> Callable[[], Any] | None:
    tf = torch.nn.functional
    pads, out_hw = _pads(case.padding, case.x_shape[1:3], case.pool, case.stride)
    if any(pads):
        return None  # would need TensorFlow's padding semantics; the benchmark cases have none
    x = torch.from_numpy(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))).requires_grad_(True)
    dout = torch.randn(case.x_shape[0], case.x_shape[3], *out_hw, dtype=x.dtype)
    pool = tf.max_pool2d if case.mode == "max" else tf.avg_pool2d

    def run() -> Any:
        out = pool(x, case.pool, case.stride)
        x.grad = None
        out.backward(dout)
        return x.grad

    return run


def _course_speedup(case: ConvCase, repeats: int) -> dict[str, Any]:
    """deepstep's conv2d against the course loops (course.cnn), float64, forward + backward."""
    from .course import cnn
    from .nn.functional import conv2d, conv2d_backward

    a = _conv_arrays(case, "float64", np.random.default_rng(2))
    hp = {"stride": case.stride, "pad": case.padding}
    out, _ = conv2d(a["x"], a["w"], a["b"], case.stride, case.padding)
    dout = np.random.default_rng(3).standard_normal(out.shape)

    def loops() -> Any:
        _, cache = cnn.conv_forward(a["x"], a["w"], a["b"].reshape(1, 1, 1, -1), hp)
        return cnn.conv_backward(dout, cache)

    def fast() -> Any:
        _, cache = conv2d(a["x"], a["w"], a["b"], case.stride, case.padding)
        return conv2d_backward(dout, cache)

    t = _alternate({"loops": loops, "deepstep": fast}, max(1, min(repeats, 3)))
    return {"case": asdict(case), "loops_s": t["loops"], "deepstep_s": t["deepstep"],
            "speedup": t["loops"] / t["deepstep"]}


# --------------------------------------------------------------------------- worker
def run_worker(threads: int, dtypes: Sequence[str], quick: bool, repeats: int) -> dict[str, Any]:
    """Measure everything at one thread count (call in a process whose BLAS was set to ``threads``)."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "the benchmark compares against PyTorch, which is not installed: "
            "pip install 'deepstep[torch]' (or pip install torch)"
        ) from exc
    torch.set_num_threads(threads)
    conv_cases = QUICK_CONV_CASES if quick else CONV_CASES
    pool_cases = QUICK_POOL_CASES if quick else POOL_CASES
    try:
        from .nn.functional import pool2d  # noqa: F401

        have_pool = True
    except ImportError:
        have_pool = False

    rows: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    matmul = {dt: _matmul_gflops(np.dtype(dt), 128 if quick else 1024, repeats) for dt in dtypes}
    for dtype in dtypes:
        for case in conv_cases:
            arrays = _conv_arrays(case, dtype, np.random.default_rng(0))
            torch_run = _torch_conv(torch, case, arrays)
            _, out_hw = _pads(case.padding, case.x_shape[1:3], case.kernel, case.stride)
            for data_format in FORMATS:
                ours = _deepstep_conv(case, _to_format(arrays, data_format), data_format)
                t = _alternate({"deepstep": ours, "torch": torch_run}, repeats)
                flops = case.flops(out_hw)
                rows.append({
                    "kind": "conv", "case": case.name, "dtype": dtype, "format": data_format,
                    "deepstep_s": t["deepstep"], "torch_s": t["torch"], "ratio": t["deepstep"] / t["torch"],
                    "gflops": flops / t["deepstep"] / 1e9, "torch_gflops": flops / t["torch"] / 1e9,
                    "peak_mib": _peak_numpy_bytes(ours) / 2**20,
                })
                totals: dict[str, float] = {}
                with _phase_timer(totals):
                    start = time.perf_counter()
                    ours()
                    totals["total"] = time.perf_counter() - start
                profiles.append({"case": case.name, "dtype": dtype, "format": data_format, "phases": totals})
        for case in pool_cases:
            if not have_pool:
                break
            x = np.random.default_rng(0).standard_normal(case.x_shape).astype(dtype)
            torch_run = _torch_pool(torch, case, x)
            for data_format in FORMATS:
                ours = _deepstep_pool(case, _to_format({"x": x}, data_format)["x"], data_format)
                fns = {"deepstep": ours} if torch_run is None else {"deepstep": ours, "torch": torch_run}
                t = _alternate(fns, repeats)
                torch_s = t.get("torch", float("nan"))
                rows.append({
                    "kind": "pool", "case": case.name, "dtype": dtype, "format": data_format,
                    "deepstep_s": t["deepstep"], "torch_s": torch_s, "ratio": t["deepstep"] / torch_s,
                    "gflops": None, "torch_gflops": None, "peak_mib": _peak_numpy_bytes(ours) / 2**20,
                })
    return {
        "threads": threads, "repeats": repeats, "rows": rows, "profiles": profiles,
        "matmul_gflops": matmul, "have_pool": have_pool,
        "course": _course_speedup(QUICK_COURSE_CASE if quick else COURSE_CASE, repeats),
        "numpy": np.__version__, "torch": torch.__version__,
    }


def _spawn_worker(threads: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run :func:`run_worker` in a fresh interpreter whose BLAS uses ``threads`` threads."""
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "deepstep.bench", "--worker", "--threads", str(threads),
           "--dtype", ",".join(args.dtype), "--repeats", str(args.repeats)]
    if args.quick:
        cmd.append("--quick")
    env["DEEPSTEP_KERNELS"] = args.kernels  # the worker's kernels (see deepstep.nn.functional.set_kernels)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker ({threads} thread(s)) failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report
def _geomean(values: Sequence[float]) -> float:
    values = [v for v in values if v == v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1e3:.2f}"


def render_markdown(results: Sequence[dict[str, Any]], command: str, kernels: str = "numpy") -> str:
    """The BENCHMARKS.md section for the worker results of every thread count."""
    first = results[0]
    begin, end = _markers(kernels)
    title = "" if kernels == "numpy" else f" ({kernels} kernels)"
    lines = [
        begin,
        f"## Kernel benchmark{title}: deepstep.nn.functional vs PyTorch CPU",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()}; Python {platform.python_version()}, NumPy {first['numpy']}, "
        f"PyTorch {first['torch']}.",
        "",
        f"Times are medians of {first['repeats']} repetitions after a warm-up, forward + backward "
        "(dx, dw, db), deepstep and PyTorch alternating. Ratio = deepstep / PyTorch (below 1: deepstep "
        "is faster). PyTorch always runs NCHW. GFLOP/s counts forward, dW and dx (3 x 2 x N x oh x ow x "
        "F x C x kh x kw). Peak memory: tracemalloc peak of NumPy allocations during one deepstep "
        "forward + backward, beyond the inputs.",
    ]
    if not first["have_pool"]:
        lines += ["", "Pooling rows skipped: `deepstep.nn.functional.pool2d` is not available yet."]
    for res in results:
        n = res["threads"]
        mm = ", ".join(f"{dt} {g:.1f}" for dt, g in res["matmul_gflops"].items())
        lines += [
            "", f"### {n} thread{'s' if n > 1 else ''}", "",
            f"NumPy square matmul (1024 x 1024) on this machine: {mm} GFLOP/s.", "",
            "| case | dtype | layout | deepstep ms | PyTorch ms | ratio | deepstep GFLOP/s | "
            "PyTorch GFLOP/s | peak MiB |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in res["rows"]:
            gf = "" if r["gflops"] is None else f"{r['gflops']:.1f}"
            tgf = "" if r["torch_gflops"] is None else f"{r['torch_gflops']:.1f}"
            lines.append(
                f"| {r['case']} | {r['dtype']} | {r['format']} | {_ms(r['deepstep_s'])} | "
                f"{_ms(r['torch_s'])} | {r['ratio']:.2f} | {gf} | {tgf} | {r['peak_mib']:.1f} |"
            )
        lines += ["", "| dtype | geometric mean of ratios | worst ratio | target |", "|---|---:|---:|---|"]
        means, most = TARGETS[kernels]
        for dt in dict.fromkeys(r["dtype"] for r in res["rows"]):
            ratios = [r["ratio"] for r in res["rows"] if r["dtype"] == dt]
            target = means[dt]
            gm = _geomean(ratios)
            worst = max((x for x in ratios if x == x), default=float("nan"))
            verdict = "met" if gm <= target and worst <= most else "missed"
            lines.append(f"| {dt} | {gm:.2f} | {worst:.2f} | <= {target} (each <= {most:g}): {verdict} |")
        labels = ("pad + im2col", "matmul (out, dcol)", "matmul (dW)", "col2im")
        if not any(p["phases"].get(k) for p in res["profiles"] for k in labels):
            continue  # the compiled direct convolution has no im2col / matmul phases to show
        lines += [
            "", f"Where deepstep's time goes ({n} thread{'s' if n > 1 else ''}, one profiled forward + "
            "backward, ms):", "",
            "| case | dtype | layout | total | pad + im2col | matmul (out, dcol) | matmul (dW) | col2im | "
            "other |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for p in res["profiles"]:
            ph = p["phases"]
            other = ph["total"] - sum(ph.get(k, 0.0) for k in labels)
            cells = " | ".join(_ms(ph.get(k, 0.0)) for k in labels)
            lines.append(f"| {p['case']} | {p['dtype']} | {p['format']} | {_ms(ph['total'])} | {cells} | "
                         f"{_ms(other)} |")
    course = first["course"]
    c = course["case"]
    lines += [
        "", "### Against the course loops", "",
        f"`deepstep.course.cnn.conv_forward` + `conv_backward` (loops) vs `conv2d` + `conv2d_backward` on "
        f"x {tuple(c['x_shape'])}, {c['filters']} filters {c['kernel']}x{c['kernel']}, stride {c['stride']}, "
        f"pad {c['padding']}, float64, {first['threads']} thread(s): loops {_ms(course['loops_s'])} ms, "
        f"deepstep {_ms(course['deepstep_s'])} ms, speedup {course['speedup']:.0f}x.",
        end,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str, kernels: str = "numpy") -> None:
    """Replace the text between the markers of ``path`` by ``section`` (append when absent)."""
    begin, end = _markers(kernels)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_kernels", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--dtype", default="float32,float64", help="comma-separated dtypes (default both)")
    p.add_argument("--repeats", type=int, default=7, help="timed repetitions per case (>= 5; default 7)")
    p.add_argument("--quick", action="store_true", help="tiny problems, 1 thread: checks the code runs")
    p.add_argument("--kernels", default="numpy", choices=KERNELS,
                   help="deepstep's kernel implementation (default numpy; numba needs deepstep[fast]); each "
                        "has its own section of the output file")
    p.add_argument("--output", default="BENCHMARKS.md", help="Markdown file to update")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def _default_prog() -> str:
    """How this run was started, for the command line recorded in BENCHMARKS.md."""
    argv0 = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if argv0 in ("deepstep", "__main__.py"):  # the console script or python -m deepstep
        return "deepstep bench"
    return shlex.join(["python", sys.argv[0]]) if argv0 else "python -m deepstep.bench"


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Entry point of ``benchmarks/bench_kernels.py`` and ``deepstep bench``.

    ``prog`` is the command prefix recorded in BENCHMARKS.md (e.g.
    ``"python benchmarks/bench_kernels.py"``); by default it is guessed from ``sys.argv[0]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.dtype = [d.strip() for d in args.dtype.split(",") if d.strip()]
    bad = [d for d in args.dtype if d not in DTYPES]
    if bad:
        raise SystemExit(f"--dtype must be among {', '.join(DTYPES)}; got {', '.join(bad)}")
    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        raise SystemExit(f"--threads must be comma-separated integers, got {args.threads!r}") from None
    if not threads or min(threads) < 1:
        raise SystemExit(f"--threads must be integers >= 1, got {args.threads!r}")
    if args.quick:
        threads, args.repeats = threads[:1], 1
    elif args.repeats < 5:
        raise SystemExit(f"--repeats must be >= 5 (medians of fewer are noise), got {args.repeats}")
    if args.worker:
        print(json.dumps(run_worker(threads[0], args.dtype, args.quick, args.repeats)))
        return 0
    results = [_spawn_worker(n, args) for n in threads]
    command = " ".join([prog or _default_prog(), *(shlex.quote(a) for a in argv)])
    section = render_markdown(results, command, args.kernels)
    write_section(Path(args.output), section, args.kernels)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
