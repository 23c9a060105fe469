"""Benchmark a full training step (forward, backward, Adam update) of zoo models against PyTorch CPU.

Usage::

    python benchmarks/bench_training.py [--threads 1,2] [--repeats 7] [--steps 5] [--quick]
                                        [--chunk-threads both|1|same] [--kernels numpy,numba]
                                        [--output BENCHMARKS.md]

For each model (signs_convnet at batch 64, mnist_cnn at batch 128, float32) the identical
network is built in PyTorch (NCHW, same initial weights, Adam with the same hyper-parameters)
and both train in this one process at the same thread count (each count in ``--threads``),
alternating. At thread counts above 1, deepstep runs once with BLAS threads only and once with
its own chunk threads as well (``--chunk-threads``; needs threadpoolctl). Reported: images per
second (median over ``--repeats`` timings of ``--steps`` consecutive steps, after warm-up) and
the peak of NumPy allocations during one deepstep step (tracemalloc). The table and the command
are written into BENCHMARKS.md between this script's own markers (other sections of the file
are left alone). ``--kernels`` picks deepstep's kernel implementations (``numpy``, ``numba``, or both,
one row each; see ``deepstep.nn.functional.set_kernels``); the Numba rows warm the compiled kernels'
cache and then run what ``auto`` runs with a warm cache (compiled convolutions and max pooling) at the
row's thread count (``set_num_threads``), with BLAS (the dense layer) on one thread.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

BEGIN = "<!-- bench-training:begin -->"
END = "<!-- bench-training:end -->"
ROOT = Path(__file__).resolve().parents[1]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_training.py", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated BLAS / PyTorch thread counts")
    parser.add_argument("--repeats", type=int, default=7, help="timings per model (median reported)")
    parser.add_argument("--steps", type=int, default=5, help="training steps per timing")
    parser.add_argument("--quick", action="store_true", help="2 repeats of 2 steps (smoke test)")
    parser.add_argument("--chunk-threads", choices=("both", "1", "same"), default="both",
                        help="deepstep's own threads for conv batch chunks (nn.functional.set_num_threads) "
                             "at thread counts > 1: 1 (BLAS threads only), the same count, or both rows")
    parser.add_argument("--kernels", default="numpy,numba",
                        help="comma-separated deepstep kernel implementations: numpy, numba (default both; "
                             "numba rows are skipped when numba is not installed)")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"),
                        help="markdown file to update (use '-' to only print)")
    args = parser.parse_args()
    try:
        args.threads = [int(t) for t in str(args.threads).split(",")]
    except ValueError:
        parser.error(f"--threads must be comma-separated integers, got {args.threads!r}")
    if min(args.threads) < 1 or args.repeats < 1 or args.steps < 1:
        parser.error("--threads, --repeats and --steps must be >= 1")
    args.kernels = [k.strip() for k in str(args.kernels).split(",") if k.strip()]
    if not args.kernels or set(args.kernels) - {"numpy", "numba"}:
        parser.error(f"--kernels must be numpy, numba or both, got {args.kernels!r}")
    if args.quick:
        args.repeats, args.steps = 2, 2
    return args


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # thread counts must be set before NumPy / PyTorch start their pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(max(ARGS.threads))
    sys.path.insert(0, str(ROOT / "src"))  # run from a checkout, uninstalled

import numpy as np  # noqa: E402

from deepstep.models import mnist_cnn, signs_convnet  # noqa: E402
from deepstep.nn.functional import parallel_available, set_kernels, set_num_threads  # noqa: E402
from deepstep.optim import Adam  # noqa: E402


def torch_twin(model, torch):
    """The PyTorch NCHW network with the deepstep model's layers and initial weights."""
    from deepstep.nn import Conv2D, Dense, Flatten, MaxPooling2D

    nn = torch.nn
    modules = []
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            if layer.strides != (1, 1):
                raise ValueError("the benchmark twins only stride-1 convolutions")
            conv = nn.Conv2d(cin, cout, (kh, kw), padding="same" if layer.padding == "same" else 0)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(layer.kernel.value.transpose(3, 2, 0, 1).copy()))
                conv.bias.copy_(torch.from_numpy(layer.bias.value))
            modules.append(conv)
            if layer.activation_name == "relu":
                modules.append(nn.ReLU())
        elif isinstance(layer, MaxPooling2D):
            h, w = layer.input_shape[:2]
            ph, pw = layer.pool_size
            if h % layer.strides[0] or w % layer.strides[1] or layer.pool_size != layer.strides:
                raise ValueError("the benchmark twins only pools that tile the input (no padding)")
            modules.append(nn.MaxPool2d((ph, pw), layer.strides))
        elif isinstance(layer, Flatten):
            # deepstep flattens NHWC (h, w, c); permute so that the dense weights line up
            modules.append(_nhwc_flatten(torch))
        elif isinstance(layer, Dense):
            dense = nn.Linear(*layer.kernel.shape)
            with torch.no_grad():
                dense.weight.copy_(torch.from_numpy(layer.kernel.value.T.copy()))
                dense.bias.copy_(torch.from_numpy(layer.bias.value))
            modules.append(dense)
        else:
            raise ValueError(f"no PyTorch twin for {type(layer).__name__}")
    return nn.Sequential(*modules)


def _nhwc_flatten(torch):
    """A module flattening NCHW activations in NHWC order (as deepstep's channels_last Flatten)."""

    class NHWCFlatten(torch.nn.Module):
        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1)

    return NHWCFlatten()


def _time(fn, repeats: int, steps: int) -> float:
    """Median seconds per step."""
    fn()
    fn()  # warm-up (first calls allocate workspaces)
    per_step = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        per_step.append((time.perf_counter() - start) / steps)
    return float(np.median(per_step))


def layer_breakdown(model, step, steps: int) -> tuple[float, list[tuple[str, float, float]]]:
    """Seconds per step, and per step in each layer's forward and backward (activations fused in
    Conv2D/Dense), over ``steps`` instrumented steps."""
    spent: dict[tuple[str, str], float] = {}
    originals = []
    for layer in model.layers:
        for kind in ("forward", "backward"):
            original = getattr(layer, kind)
            originals.append((layer, kind))

            def timed(*a, _f=original, _key=(layer.name, kind), **k):
                start = time.perf_counter()
                result = _f(*a, **k)
                spent[_key] = spent.get(_key, 0.0) + time.perf_counter() - start
                return result

            setattr(layer, kind, timed)
    try:
        step()
        spent.clear()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        total = (time.perf_counter() - start) / steps
    finally:
        for layer, kind in originals:
            delattr(layer, kind)  # back to the class methods
    return total, [(layer.name, spent.get((layer.name, "forward"), 0.0) / steps,
                    spent.get((layer.name, "backward"), 0.0) / steps) for layer in model.layers]


def bench_model(name: str, build, batch: int, args, torch, threads: int, chunk_threads: int = 1,
                kernels: str = "numpy") -> dict:
    set_num_threads(chunk_threads)
    if kernels == "numba":
        # what `auto` runs once the compiled kernels are in the cache: compiled convolutions and max pooling
        from deepstep.nn.functional._numba.warmup import warm

        warm("float32")
        set_kernels("auto")
    else:
        set_kernels(kernels)
    rng = np.random.default_rng(0)
    model = build(dtype="float32", seed=0)
    x = rng.random((batch, *model.input_shape), dtype=np.float32)
    y = rng.integers(0, model.output_shape[0], batch)
    model.compile(Adam(learning_rate=1e-3), "sparse_categorical_crossentropy")

    def deepstep_step():
        model.train_on_batch(x, y)

    tracemalloc.start()
    deepstep_step()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    deepstep_step()
    peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    tracemalloc.stop()

    row = {"model": name, "threads": threads, "chunk_threads": chunk_threads, "kernels": kernels,
           "batch": batch,
           "input": "x".join(map(str, model.input_shape)),
           "params": model.count_params(), "peak_mib": peak}
    row["deepstep_s"] = _time(deepstep_step, args.repeats, args.steps)
    row["breakdown_s"], row["layers"] = layer_breakdown(model, deepstep_step, max(args.steps, 5))
    if torch is not None:
        twin_model = build(dtype="float32", seed=0)
        net = torch_twin(twin_model, torch)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        with torch.no_grad():
            twin_logits = net(xt).numpy()
        if not np.allclose(twin_logits, twin_model(x), rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"the PyTorch twin of {name} does not compute the same logits")
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        yt = torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()

        def torch_step():
            opt.zero_grad()
            loss = loss_fn(net(xt), yt)
            loss.backward()
            opt.step()

        row["torch_s"] = _time(torch_step, args.repeats, args.steps)
        # alternate once more and keep the better of the two medians for each (less noise from neighbours)
        row["deepstep_s"] = min(row["deepstep_s"], _time(deepstep_step, args.repeats, args.steps))
        row["torch_s"] = min(row["torch_s"], _time(torch_step, args.repeats, args.steps))
    return row


def render(rows: list[dict], args, torch) -> str:
    env = " ".join(f"{k}={os.environ[k]}" for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
                   if k in os.environ)
    cmd = f"{env} python benchmarks/bench_training.py".strip()
    torch_version = torch.__version__ if torch is not None else "not installed"
    lines = [
        BEGIN,
        "## Training-step benchmark: deepstep.nn.Sequential vs PyTorch CPU",
        "",
        f"Command: `{cmd}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, {platform.system()}; Python "
        f"{platform.python_version()}, NumPy {np.__version__}, PyTorch {torch_version}. The same thread "
        "count for both (BLAS threads via threadpoolctl, `torch.set_num_threads`). Chunk threads: "
        "deepstep's own threads for the convolution's batch chunks "
        "(`deepstep.nn.functional.set_num_threads`; BLAS is limited to 1 thread inside them). numba rows: "
        "the compiled kernels on the row's thread count (`set_num_threads`), BLAS (the dense layer) on 1 "
        "thread: OpenBLAS's idle threads spin after each call and take the cores from the kernels' threads.",
        "",
        "One training step = forward, loss (softmax cross-entropy from logits), backward and an Adam update, "
        "float32, random inputs. deepstep runs NHWC through `model.train_on_batch`; PyTorch runs the "
        f"identical network in NCHW (same initial weights, checked to give the same logits). Median of "
        f"{args.repeats} timings of {args.steps} steps after "
        "a warm-up, measured twice alternating, best median kept. Peak MiB: tracemalloc peak of NumPy "
        "allocations during one deepstep step. On a shared machine the neighbours' load moves single "
        "timings by up to 2x; compare rows of one run.",
        "",
        "| model | input | batch | params | threads | kernels | chunk threads | deepstep img/s | "
        "PyTorch img/s | "
        "deepstep / PyTorch time | deepstep peak MiB |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ds = r["batch"] / r["deepstep_s"]
        if "torch_s" in r:
            pt, ratio = f"{r['batch'] / r['torch_s']:.0f}", f"{r['deepstep_s'] / r['torch_s']:.2f}"
        else:
            pt = ratio = "n/a"
        chunks = "-" if r["kernels"] == "numba" else r["chunk_threads"]
        lines.append(f"| {r['model']} | {r['input']} | {r['batch']} | {r['params']:,} | {r['threads']} | "
                     f"{r['kernels']} | {chunks} | {ds:.0f} | {pt} | "
                     f"{ratio} | {r['peak_mib']:.1f} |")
    first = args.threads[0]
    lines += ["", f"Where deepstep's step time goes ({first} thread(s); forward / backward per layer, ms per "
              "step, ReLU fused into the Conv2D rows, layers under 2% left out; the rest is the loss and "
              "the Adam update):", ""]
    for r in rows:
        if r["threads"] != first:
            continue
        step_ms = r["breakdown_s"] * 1e3
        parts = ", ".join(f"{n} {f * 1e3:.1f} / {b * 1e3:.1f}" for n, f, b in r["layers"]
                          if f + b > 0.02 * r["breakdown_s"])
        lines.append(f"- {r['model']}, {r['kernels']} (batch {r['batch']}, {step_ms:.1f} ms per step): "
                     f"{parts}")
    lines.append(END)
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(args) -> int:
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: deepstep only", file=sys.stderr)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
        print("threadpoolctl is not installed: BLAS threads set by OPENBLAS_NUM_THREADS only",
              file=sys.stderr)
    rows = []
    for threads in args.threads:
        if torch is not None:
            torch.set_num_threads(threads)
        limiter = None if threadpool_limits is None else threadpool_limits(limits=threads, user_api="blas")
        chunk_counts = [1]
        if threads > 1 and parallel_available():
            chunk_counts = {"both": [1, threads], "1": [1], "same": [threads]}[args.chunk_threads]
        try:
            for kernels in args.kernels:
                if kernels == "numba" and importlib.util.find_spec("numba") is None:
                    print("numba is not installed: no numba rows", file=sys.stderr)
                    continue
                # The compiled kernels run on max(set_num_threads, OPENBLAS_NUM_THREADS) threads (the
                # environment is re-read on every call): here `threads`, with BLAS (the dense layer)
                # on one thread. OpenBLAS's idle threads spin for ~0.1 s after each call
                # (OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default) and took the cores from the kernels'
                # threads: mnist_cnn, 2 threads, 57-64 ms a step with BLAS on 2 threads, 21-23 ms with
                # BLAS on 1 (one process, alternating; BENCHMARKS.md). The NumPy rows keep
                # threadpoolctl's limit.
                os.environ["OPENBLAS_NUM_THREADS"] = str(1 if kernels == "numba" else max(args.threads))
                for chunk_threads in (chunk_counts if kernels == "numpy" else [threads]):
                    blas_one = (threadpool_limits(limits=1, user_api="blas")
                                if kernels == "numba" and threadpool_limits is not None else None)
                    try:
                        rows += [bench_model("signs_convnet", signs_convnet, 64, args, torch, threads,
                                             chunk_threads, kernels),
                                 bench_model("mnist_cnn", mnist_cnn, 128, args, torch, threads,
                                             chunk_threads, kernels)]
                    finally:
                        if blas_one is not None:
                            blas_one.restore_original_limits()
        finally:
            set_num_threads(1)
            os.environ["OPENBLAS_NUM_THREADS"] = str(max(args.threads))
            if limiter is not None:
                limiter.restore_original_limits()
    section = render(rows, args, torch)
    print(section)
    if args.output != "-":
        write_section(Path(args.output), section)
        print(f"updated {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
