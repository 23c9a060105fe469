"""Data-parallel training: sharding, the fused reduction, and real 2-rank MPI jobs.

The MPI tests start ``mpiexec -n 2`` (MPICH from the ``[mpi]`` extra, part of the test
install) on the small job in ``mpi_job.py`` and compare with the same job in one process.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deepstep
from cli_helpers import cli_env
from deepstep.distributed import (
    DistributedError,
    DistributedTrainer,
    LocalCommunicator,
    get_communicator,
    launched_by_mpi,
    shard,
)

JOB = Path(__file__).with_name("mpi_job.py")
sys.path.insert(0, str(JOB.parent))
import mpi_job  # noqa: E402


def mpiexec() -> str:
    """The mpiexec beside the test interpreter (the [mpi] extra's MPICH), else the one on PATH."""
    local = Path(sys.executable).with_name("mpiexec")
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpiexec not found: the [test] extra installs mpich (pip install -e '.[test]')")
    return found


def run_job(mode: str, out: Path, ranks: int = 2, timeout: float = 120) -> subprocess.CompletedProcess:
    env = cli_env()
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    return subprocess.run([mpiexec(), "-n", str(ranks), sys.executable, str(JOB), mode, str(out)],
                          env=env, capture_output=True, text=True, timeout=timeout)


def single_process(bn: bool = False, mode: str = "train"
                   ) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """The same job as mpi_job.py in this process, with the plain Trainer."""
    x, y = mpi_job.data()
    net = mpi_job.model(bn)
    net.compile(optimizer=deepstep.optim.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
    history = mpi_job.fit(net, mode, x, y)
    return net.get_weight_dict(), history.history


def test_shard_splits_a_batch_into_contiguous_near_equal_parts() -> None:
    batch = np.arange(10, 17)
    parts = [shard(batch, r, 3) for r in range(3)]
    assert [list(p) for p in parts] == [[10, 11], [12, 13], [14, 15, 16]]
    assert list(np.concatenate(parts)) == list(batch)
    assert [shard(np.arange(1), r, 2).size for r in range(2)] == [0, 1]


def test_launcher_detection_reads_the_environment_only() -> None:
    assert launched_by_mpi({}) == 0
    assert launched_by_mpi({"PMI_SIZE": "4"}) == 4
    assert launched_by_mpi({"OMPI_COMM_WORLD_SIZE": "2"}) == 2
    assert isinstance(get_communicator(False), LocalCommunicator)


def test_one_rank_trains_exactly_like_the_plain_trainer() -> None:
    x, y = mpi_job.data()
    reference, ref_history = single_process(bn=True)
    net = mpi_job.model(bn=True)
    net.compile(optimizer=deepstep.optim.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
    net.trainer = DistributedTrainer(net, LocalCommunicator())
    history = net.fit(x, y, epochs=4, batch_size=10, validation_split=0.2, seed=5, verbose=0)
    for name, value in net.get_weight_dict().items():
        np.testing.assert_array_equal(value, reference[name], err_msg=name)
    assert history.history == ref_history


@pytest.mark.parametrize("mode", ["train", "weighted", "stream"])
def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path: Path, mode: str) -> None:
    """Arrays; arrays with class_weight and sample_weight; a dataset (each rank its shard of each batch)."""
    out = tmp_path / "w.npz"
    done = run_job(mode, out)
    assert done.returncode == 0, done.stderr
    reference, ref_history = single_process(mode=mode)
    with np.load(out) as got:
        assert bool(got["identical"]), "the replicas' weights differ between ranks"
        for name, value in reference.items():
            np.testing.assert_allclose(got[f"w/{name}"], value, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(got["loss"], ref_history["loss"], rtol=1e-10)
        np.testing.assert_allclose(got["val_loss"], ref_history["val_loss"], rtol=1e-10)


def test_two_rank_runs_are_bit_identical_and_batchnorm_replicas_agree(tmp_path: Path) -> None:
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (first, second):
        done = run_job("bn", out)
        assert done.returncode == 0, done.stderr
    with np.load(first) as a, np.load(second) as b:
        assert bool(a["identical"]), "BatchNormalization's moving statistics differ between ranks"
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_mismatched_data_stops_every_rank_with_a_clear_error(tmp_path: Path) -> None:
    done = run_job("mismatch", tmp_path / "w.npz")
    assert done.returncode != 0
    assert "the ranks disagree on the data x" in done.stderr + done.stdout
    assert not (tmp_path / "w.npz").exists()


def test_a_nan_on_the_ranks_stops_them_all_at_the_same_step(tmp_path: Path) -> None:
    done = run_job("nan", tmp_path / "w.npz")
    assert done.returncode == 3, done.stderr
    # each rank writes its error to its own file (their lines may interleave in mpiexec's stdout)
    reports = [(tmp_path / f"w.npz.rank{r}.txt").read_text() for r in range(2)]
    assert all(r.startswith("loss became nan") or r.startswith("loss became inf") for r in reports), reports
    assert reports[0] == reports[1], "the ranks stopped at different steps"


def test_a_killed_rank_ends_the_job_and_the_checkpoint_stays_loadable(tmp_path: Path) -> None:
    out = tmp_path / "ckpt.npz"
    done = run_job("kill", out, timeout=60)
    assert done.returncode != 0
    model = deepstep.load(out)
    assert model.epoch in (1, 2)  # rank 0 may or may not have saved epoch 2 when rank 1 died


def test_the_global_batch_must_cover_the_ranks() -> None:
    class TwoRanks(LocalCommunicator):
        size = 2

    x, y = mpi_job.data()
    net = mpi_job.model(bn=False)
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    net.trainer = DistributedTrainer(net, TwoRanks())
    with pytest.raises(DistributedError, match="batch_size"):
        net.fit(x, y, batch_size=1, verbose=0)


def test_mpiexec_deepstep_train_prints_once_writes_once_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = cli_env()
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    command = [mpiexec(), "-n", "2", sys.executable, "-m", "deepstep", "train", "--epochs", "1",
               "--out", str(out), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy:") == 1 and "distributed: MPI, 2 ranks" in done.stdout
    assert deepstep.load(out / "model.npz").epoch == 1
    done = subprocess.run(command[:7] + ["--epochs", "2", "--out", str(out), "--resume", "--quiet"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy:") == 1
    assert deepstep.load(out / "model.npz").epoch == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_cli_info_names_the_mpi_library(capsys: pytest.CaptureFixture[str]) -> None:
    from deepstep.cli import main

    assert main(["info", "digits_cnn"]) == 0
    assert "mpi: MPICH" in capsys.readouterr().out


def test_mpiexec_deepstep_train_streams_an_image_folder(tmp_path: Path) -> None:
    """Both ranks stream the same seeded batches of the folder and train on their halves of each."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(3):
        (tmp_path / "pics" / str(k)).mkdir(parents=True)
        for i in range(10):
            pixels = np.clip(rng.normal(60 + 60 * k, 20, (10, 10, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "pics" / str(k) / f"{i}.png")
    env = cli_env()
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    out = tmp_path / "run"
    command = [mpiexec(), "-n", "2", sys.executable, "-m", "deepstep", "train", "--data",
               str(tmp_path / "pics"), "--classes", "0,1", "--image-size", "12", "--model", "signs_convnet",
               "--epochs", "2", "--batch-size", "6", "--augment", "flip", "--out", str(out), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy:") == 1 and "distributed: MPI, 2 ranks" in done.stdout
    assert deepstep.load(out / "model.npz").epoch == 2
