"""Data-parallel scaling: deepstep over MPI against PyTorch DDP (gloo), side by side.

Usage::

    python benchmarks/bench_distributed.py [--ranks 1,2] [--models mnist_cnn,signs_convnet]
                                           [--steps 20] [--repeats 3] [--output BENCHMARKS.md]

For each model and rank count, deepstep trains under ``mpiexec -n R`` (DistributedTrainer: one
fused in-place Allreduce per step) and the PyTorch twin (same layers and initial weights) under
DistributedDataParallel with the gloo backend and R processes, alternating, every rank with one
BLAS/PyTorch thread. The global batch is fixed (weak scaling of the per-rank work is not the
question here: the same training run on more processes). Reported: images per second (median
of ``--repeats`` runs of ``--steps`` steps after warm-up), the speed-up over one rank, the time
ratio deepstep / PyTorch, and deepstep's Allreduce time per step.

Communication model: a sweep of Allreduce sizes at 2 ranks fits ``t(n) = alpha + beta * bytes``;
with a ring Allreduce the time on p ranks is ``2 (p - 1) alpha + 2 (p - 1) / p * bytes * beta``.
The projection to 8-64 ranks uses that formula with a cluster network's alpha and beta (stated
in the output) and the measured one-rank compute time divided by p.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BEGIN = "<!-- bench-distributed:begin -->"
END = "<!-- bench-distributed:end -->"
ROOT = Path(__file__).resolve().parents[1]
BATCH = {"mnist_cnn": 128, "signs_convnet": 64, "resnet_small": 64}
#: a cluster network for the projection: 25 Gb/s Ethernet with ~20 us MPI latency (assumed, not measured)
CLUSTER_ALPHA, CLUSTER_BETA = 20e-6, 8 / 25e9

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402


def build(name: str):
    import deepstep.models as zoo

    model = getattr(zoo, name)(seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def synthetic(model, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *model.input_shape)).astype(model.dtype)
    y = rng.integers(0, model.output_shape[-1], n)
    return x, y


def deepstep_worker(name: str, steps: int) -> dict:
    from deepstep.distributed import DistributedTrainer, get_communicator

    comm = get_communicator()
    model = build(name)
    trainer = DistributedTrainer(model, comm)
    trainer.broadcast_weights()
    batch = BATCH[name]
    x, y = synthetic(model, batch * 4)
    targets = model.loss.prepare_targets(y, model.output_shape, model.dtype, "y")
    named = model.named_parameters()
    order = np.arange(x.shape[0])

    def step(k: int) -> None:
        lo = (k % 4) * batch
        idx = trainer.batch_indices(order, lo, lo + batch)
        trainer.train_step(x[idx], targets[idx], named)

    for k in range(3):
        step(k)
    comm.barrier()
    start = time.perf_counter()
    for k in range(steps):
        step(k)
    comm.barrier()
    elapsed = time.perf_counter() - start
    buf = np.zeros(sum(p.value.size for _, p in named) + 1, dtype=model.dtype)
    comm.barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        comm.allreduce_sum_(buf)
    comm_time = (time.perf_counter() - t0) / steps
    return {"img_s": batch * steps / elapsed, "allreduce_s": comm_time, "params": int(buf.size - 1)}


def allreduce_sweep() -> dict:
    from deepstep.distributed import get_communicator

    comm = get_communicator()
    sizes, times = [], []
    for exp in range(10, 25, 2):
        buf = np.zeros(2 ** exp, dtype=np.float32)
        reps = max(3, 2 ** (22 - exp))
        comm.allreduce_sum_(buf)
        comm.barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            comm.allreduce_sum_(buf)
        sizes.append(buf.nbytes)
        times.append((time.perf_counter() - t0) / reps)
    beta, alpha = np.polyfit(sizes, times, 1)
    return {"sizes": sizes, "times": times, "alpha": float(max(alpha, 0.0)), "beta": float(beta)}


def _torch_rank(rank: int, world: int, name: str, steps: int, port: int, out: str) -> None:
    import torch
    import torch.distributed as dist

    from bench_training import torch_twin

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model = build(name)
    twin = torch.nn.parallel.DistributedDataParallel(torch_twin(model, torch))
    opt = torch.optim.Adam(twin.parameters(), lr=0.001)
    batch = BATCH[name]
    x, y = synthetic(model, batch * 4)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)
    lossf = torch.nn.CrossEntropyLoss()

    def step(k: int) -> None:
        lo = (k % 4) * batch + (batch * rank) // world
        hi = (k % 4) * batch + (batch * (rank + 1)) // world
        opt.zero_grad()
        lossf(twin(xt[lo:hi]), yt[lo:hi]).backward()
        opt.step()

    for k in range(3):
        step(k)
    dist.barrier()
    start = time.perf_counter()
    for k in range(steps):
        step(k)
    dist.barrier()
    elapsed = time.perf_counter() - start
    if rank == 0:
        Path(out).write_text(json.dumps({"img_s": batch * steps / elapsed}))
    dist.destroy_process_group()


def torch_worker(name: str, world: int, steps: int, out: str) -> None:
    import torch.multiprocessing as mp

    port = 29500 + os.getpid() % 1000
    mp.spawn(_torch_rank, args=(world, name, steps, port, out), nprocs=world, join=True)


def _mpiexec() -> str:
    local = Path(sys.executable).with_name("mpiexec")
    return str(local) if local.exists() else "mpiexec"


def run_deepstep(name: str, ranks: int, steps: int) -> dict:
    command = [_mpiexec(), "-n", str(ranks), sys.executable, __file__, "--worker", "deepstep",
               "--models", name, "--steps", str(steps)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_torch(name: str, ranks: int, steps: int) -> dict:
    out = ROOT / f".bench_ddp_{os.getpid()}.json"
    try:
        command = [sys.executable, __file__, "--worker", "torch", "--models", name, "--ranks", str(ranks),
                   "--steps", str(steps), "--out", str(out)]
        subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def ring_time(p: int, nbytes: float, alpha: float, beta: float) -> float:
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def render(results: dict, sweep: dict, args) -> str:
    lines = [BEGIN, "## Data-parallel training (MPI) vs PyTorch DDP", "",
             f"Command: `python benchmarks/bench_distributed.py --ranks {args.ranks} --models {args.models} "
             f"--steps {args.steps} --repeats {args.repeats}`; every rank 1 thread; synthetic data, float32, "
             "Adam; global batch fixed; median of the repeats.", "",
             "| model | global batch | ranks | deepstep img/s | speed-up | PyTorch DDP img/s | speed-up | "
             "time ratio deepstep / PyTorch | deepstep Allreduce per step |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        base_d, base_t = rows[0]["deepstep"], rows[0]["torch"]
        for row in rows:
            d, t = row["deepstep"], row["torch"]
            lines.append(f"| {name} | {BATCH[name]} | {row['ranks']} | {d:,.0f} | {d / base_d:.2f}x | "
                         f"{t:,.0f} | {t / base_t:.2f}x | {t / d:.2f} | {row['allreduce_s'] * 1e3:.2f} ms "
                         f"({row['params']:,} values) |")
    lines += ["", f"Allreduce cost fitted at 2 ranks on this machine (shared memory): alpha = "
              f"{sweep['alpha'] * 1e6:.1f} us, beta = {sweep['beta'] * 1e9:.3f} ns/byte "
              f"({1 / sweep['beta'] / 1e9:.1f} GB/s).", "",
              "Projection to a cluster (ring Allreduce; assumed network alpha = "
              f"{CLUSTER_ALPHA * 1e6:.0f} us, beta for {8 / CLUSTER_BETA / 1e9:.0f} Gb/s; compute = the "
              "measured 1-rank step time / p):", "",
              "| model | values | 8 ranks | 16 ranks | 32 ranks | 64 ranks |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        one = BATCH[name] / rows[0]["deepstep"]
        nbytes = rows[0]["params"] * 4
        cells = []
        for p in (8, 16, 32, 64):
            t = one / p + ring_time(p, nbytes, CLUSTER_ALPHA, CLUSTER_BETA)
            cells.append(f"{one / t:.1f}x")
        lines.append(f"| {name} | {rows[0]['params']:,} | " + " | ".join(cells) + " |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_distributed.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--models", default="mnist_cnn,signs_convnet")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"), help="'-' to only print")
    parser.add_argument("--worker", choices=("deepstep", "torch", "sweep"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "deepstep":
        result = deepstep_worker(args.models, args.steps)
        from deepstep.distributed import get_communicator

        if get_communicator().is_root:
            print(json.dumps(result))
        return 0
    if args.worker == "sweep":
        result = allreduce_sweep()
        from deepstep.distributed import get_communicator

        if get_communicator().is_root:
            print(json.dumps(result))
        return 0
    if args.worker == "torch":
        torch_worker(args.models, int(args.ranks), args.steps, args.out)
        return 0
    ranks = [int(r) for r in args.ranks.split(",")]
    results = {}
    for name in args.models.split(","):
        rows = []
        for r in ranks:
            runs = []
            for _ in range(args.repeats):  # alternate the two frameworks
                runs.append((run_deepstep(name, r, args.steps), run_torch(name, r, args.steps)))
            rows.append({"ranks": r, "deepstep": float(np.median([d["img_s"] for d, _ in runs])),
                         "torch": float(np.median([t["img_s"] for _, t in runs])),
                         "allreduce_s": float(np.median([d["allreduce_s"] for d, _ in runs])),
                         "params": runs[0][0]["params"]})
            print(name, rows[-1], flush=True)
        results[name] = rows
    done = subprocess.run([_mpiexec(), "-n", "2", sys.executable, __file__, "--worker", "sweep"],
                          capture_output=True, text=True, check=True)
    sweep = json.loads(done.stdout.strip().splitlines()[-1])
    section = render(results, sweep, args)
    print(section)
    if args.output != "-":
        write_section(Path(args.output), section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
