"""Data-parallel training over MPI (the optional ``[mpi]`` extra: mpi4py and MPICH).

``mpiexec -n 2 deepstep train ...`` trains one model on two processes; from Python::

    from deepstep.distributed import DistributedTrainer
    model.trainer = DistributedTrainer(model)      # MPI when launched by mpiexec
    model.fit(x, y, batch_size=64)                 # 64 = the global batch, split over the ranks

See :mod:`deepstep.distributed.trainer` for the algorithm and its guarantees.
"""

from .comm import (
    Communicator,
    DistributedError,
    LocalCommunicator,
    MPICommunicator,
    get_communicator,
    launched_by_mpi,
    mpi_library_version,
    shard,
)
from .trainer import DistributedTrainer, fingerprint

__all__ = ["Communicator", "LocalCommunicator", "MPICommunicator", "DistributedError", "get_communicator",
           "launched_by_mpi", "mpi_library_version", "shard", "DistributedTrainer", "fingerprint"]
