"""Communicators: the few collective operations data-parallel training needs.

:class:`LocalCommunicator` is the single-process case (every operation is a no-op);
:class:`MPICommunicator` wraps an ``mpi4py`` communicator. Training code talks to the
:class:`Communicator` interface only, so it runs unchanged with one process or N ranks.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["Communicator", "LocalCommunicator", "MPICommunicator", "DistributedError",
           "launched_by_mpi", "get_communicator", "mpi_library_version"]

#: environment variables that MPI launchers set in every rank (MPICH/Hydra, Open MPI, PMIx, Slurm)
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


class DistributedError(RuntimeError):
    """The ranks of a distributed job disagree (data, shapes, options) or MPI is unavailable."""


class Communicator:
    """Interface of a communicator: ``rank``, ``size`` and in-place collectives.

    Every collective must be called by every rank, in the same order.
    """

    rank: int = 0
    size: int = 1

    @property
    def is_root(self) -> bool:
        """True on rank 0, the rank that prints and writes files."""
        return self.rank == 0

    def allreduce_sum_(self, buffer: np.ndarray) -> np.ndarray:
        """Replace ``buffer`` (contiguous) by its element-wise sum over the ranks, in place."""
        raise NotImplementedError

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite ``buffer`` (contiguous) on every rank with rank ``root``'s values, in place."""
        raise NotImplementedError

    def allgather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (a small picklable object), in rank order."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Wait until every rank has arrived."""

    def check_same(self, value: Any, what: str) -> None:
        """Raise :class:`DistributedError` on every rank unless ``value`` is equal on all ranks.

        Used at start-up to detect mismatched data or options (``what`` names them).
        """
        values = self.allgather(value)
        if any(v != values[0] for v in values[1:]):
            shown = "; ".join(f"rank {r}: {v!r}" for r, v in enumerate(values))
            raise DistributedError(f"the ranks disagree on {what}: {shown}")

    @property
    def description(self) -> str:
        return "single process"


class LocalCommunicator(Communicator):
    """One process: collectives return their input unchanged."""

    def allreduce_sum_(self, buffer: np.ndarray) -> np.ndarray:
        return buffer

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        return buffer

    def allgather(self, value: Any) -> list[Any]:
        return [value]


class MPICommunicator(Communicator):
    """An ``mpi4py`` communicator (``MPI.COMM_WORLD`` by default).

    ``allreduce_sum_`` is one in-place ``MPI_Allreduce`` on the whole buffer, in its own
    dtype (float32 stays float32). MPICH and Open MPI give every rank the same bits for a
    sum of the same operands, which keeps the replicas identical; a test checks it.
    """

    def __init__(self, comm: Any = None) -> None:
        from mpi4py import MPI

        self._mpi = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = int(self.comm.Get_rank())
        self.size = int(self.comm.Get_size())

    def _check_buffer(self, buffer: np.ndarray) -> None:
        if not isinstance(buffer, np.ndarray) or not buffer.flags.c_contiguous:
            raise TypeError("buffer must be a C-contiguous numpy.ndarray")

    def allreduce_sum_(self, buffer: np.ndarray) -> np.ndarray:
        self._check_buffer(buffer)
        if self.size > 1:
            self.comm.Allreduce(self._mpi.IN_PLACE, buffer, op=self._mpi.SUM)
        return buffer

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        self._check_buffer(buffer)
        if self.size > 1:
            self.comm.Bcast(buffer, root=root)
        return buffer

    def allgather(self, value: Any) -> list[Any]:
        return list(self.comm.allgather(value))

    def barrier(self) -> None:
        self.comm.Barrier()

    @property
    def description(self) -> str:
        return f"MPI, {self.size} ranks ({mpi_library_version()})"


def launched_by_mpi(environ: dict[str, str] | None = None) -> int:
    """The number of ranks an MPI launcher (``mpiexec``) started this process with, else 0.

    Read from the launcher's environment variables, so MPI itself is not initialised.
    """
    env = os.environ if environ is None else environ
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = env.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def mpi_library_version() -> str:
    """The MPI library's first version line, or why it is unavailable."""
    try:
        from mpi4py import MPI
    except ImportError:
        return "mpi4py not installed (pip install 'deepstep[mpi]')"
    return MPI.Get_library_version().strip().splitlines()[0].strip()


def get_communicator(distributed: bool | None = None) -> Communicator:
    """The communicator for this process.

    Parameters
    ----------
    distributed : bool, optional
        True: an :class:`MPICommunicator` (raises :class:`DistributedError` without mpi4py);
        False: a :class:`LocalCommunicator`; None (default): MPI when ``mpiexec`` started
        this process with more than one rank, else local.
    """
    if distributed is None:
        distributed = launched_by_mpi() > 1
    if not distributed:
        return LocalCommunicator()
    try:
        return MPICommunicator()
    except ImportError:
        raise DistributedError("distributed training needs mpi4py and an MPI library: "
                               "pip install 'deepstep[mpi]'") from None


def shard(indices: np.ndarray, rank: int, size: int) -> np.ndarray:
    """Rank ``rank``'s contiguous share of ``indices`` (sizes differ by at most one).

    Every rank computes the same global order, then takes its slice of each global batch:
    ``shard(order[lo:hi], rank, size)``.
    """
    n = len(indices)
    lo = (n * rank) // size
    hi = (n * (rank + 1)) // size
    return indices[lo:hi]


