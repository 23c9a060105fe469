"""Data-parallel training: every rank trains a replica on its shard of each global batch.

The algorithm (as ChainerMN, Horovod and PyTorch's DDP):

1. At the start of :meth:`DistributedTrainer.fit`, rank 0's weights are broadcast, and the
   ranks check that they hold the same data, options and architecture.
2. Every epoch, all ranks draw the same permutation from the seeded stream; each global
   batch ``order[lo:hi]`` is split into ``size`` contiguous shards (sizes differ by at most
   one) and rank ``r`` runs forward and backward on shard ``r``.
3. Between backward and the optimizer step, one fused in-place ``Allreduce`` sums, over the
   ranks, ``(n_r / B) * grad_r`` for every trainable parameter (``n_r`` the shard size,
   ``B`` the global batch), so every rank holds the gradient of the mean loss over the global
   batch, exactly what one process with batch ``B`` computes, up to the order of the float
   sums. The same buffer averages the non-trainable state (BatchNormalization's moving
   statistics, updated from each rank's shard) and carries the loss, so a NaN/inf on any rank
   stops every rank at the same step.
4. Every rank applies the same optimizer step: the replicas stay identical.

BatchNormalization normalises each shard with its own batch statistics (per-rank, like
PyTorch's ``BatchNorm2d`` under DDP, not ``SyncBatchNorm``); its moving statistics are averaged
over the ranks at every step, so all replicas keep identical inference statistics.

A dataset or an iterable of batches (``fit(dataset)``) is streamed alike on every rank (the
same seeded batches, augmentation included) and each rank trains on its contiguous shard of
every batch, so each rank decodes every image of the batch; ``class_weight`` and
``sample_weight`` weigh the shard's losses, and the weighted gradients combine to those of the
global batch.

Epoch metrics (loss, accuracy) are reduced over the ranks; validation runs on every rank on the
whole validation set with identical weights, so every rank sees the same logs and callbacks such
as EarlyStopping decide alike. Only rank 0 should print and write files (the CLI does that).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from ..nn.losses import l2_penalty
from ..train.trainer import NonFiniteError, Trainer, is_batch_source
from .comm import Communicator, DistributedError, get_communicator, shard

__all__ = ["DistributedTrainer", "fingerprint"]


def _length(x: Any, batch_size: Any) -> int | None:
    """Samples of a dataset (batches when it has no length), batches of a sized iterable, else None."""
    for attempt in (lambda: len(x), lambda: x.num_batches(batch_size)):
        try:
            return int(attempt())
        except (TypeError, AttributeError, ValueError):
            continue
    return None


def fingerprint(array: np.ndarray) -> tuple[tuple[int, ...], str, int]:
    """``(shape, dtype, crc32 of the bytes)``: cheap to compare across ranks (about 1 GB/s)."""
    a = np.ascontiguousarray(array)
    return a.shape, str(a.dtype), zlib.crc32(a.view(np.uint8).reshape(-1)) if a.size else 0


class DistributedTrainer(Trainer):
    """A :class:`~deepstep.train.Trainer` whose ranks share each global batch.

    Parameters
    ----------
    model : deepstep.nn.Model
        The same architecture on every rank (checked); its weights are replaced by rank 0's.
    comm : Communicator, optional
        Default: :func:`deepstep.distributed.get_communicator` (MPI when launched by ``mpiexec``).

    Notes
    -----
    Install it with ``model.trainer = DistributedTrainer(model)``; ``model.fit`` then trains
    data-parallel. With one rank it trains exactly as :class:`Trainer` does.
    """

    def __init__(self, model: Any, comm: Communicator | None = None) -> None:
        super().__init__(model)
        self.comm = comm if comm is not None else get_communicator()
        self._global_batch = 0
        self._buffer: np.ndarray | None = None

    # ------------------------------------------------------------------ start-up
    def broadcast_weights(self) -> None:
        """Overwrite every parameter value with rank 0's (one fused broadcast)."""
        params = [p for _, p in self.model.named_parameters()]
        if not params:
            return
        flat = np.concatenate([p.value.reshape(-1) for p in params])
        self.comm.broadcast_(flat)
        offset = 0
        for p in params:
            p.value[...] = flat[offset:offset + p.value.size].reshape(p.value.shape)
            offset += p.value.size

    def check_consistent(self, x: Any, y: Any, options: dict[str, Any], sample_weight: Any = None) -> None:
        """Raise :class:`DistributedError` on every rank unless data, options and model agree.

        Arrays are compared by checksum; a dataset or an iterable of batches by its type and
        length (its batches are not read ahead).
        """
        comm = self.comm
        names = [(name, p.value.shape) for name, p in self.model.named_parameters()]
        comm.check_same(names, "the model's parameters (architecture)")
        comm.check_same(options, "the training options")
        if is_batch_source(x, y):
            comm.check_same((type(x).__name__, _length(x, options["batch_size"])),
                            "the data x (type, number of samples or batches)")
        else:
            for what, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    comm.check_same(fingerprint(np.asarray(value)),
                                    f"the data {what} (shape, dtype, checksum)")
        comm.check_same(int(getattr(self.model.optimizer, "iterations", 0)), "the optimizer's step count")

    # ------------------------------------------------------------------ extension points
    def batch_indices(self, order: np.ndarray | None, start: int, stop: int) -> Any:
        """Rank ``rank``'s contiguous shard of the global batch ``order[start:stop]``."""
        self._global_batch = stop - start
        batch = np.arange(start, stop) if order is None else order[start:stop]
        return shard(batch, self.comm.rank, self.comm.size)

    def shard_batch(self, xb: np.ndarray, tb: np.ndarray, wb: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Rank ``rank``'s contiguous shard of a streamed global batch (every rank streams it whole)."""
        self._global_batch = xb.shape[0]
        part = shard(np.arange(xb.shape[0]), self.comm.rank, self.comm.size)
        lo, hi = (int(part[0]), int(part[-1]) + 1) if part.size else (0, 0)
        return xb[lo:hi], tb[lo:hi], None if wb is None else wb[lo:hi]

    def reduce_totals(self, totals: np.ndarray) -> np.ndarray:
        """Sum the epoch's running totals (loss x samples, correct, samples) over the ranks."""
        return self.comm.allreduce_sum_(np.ascontiguousarray(totals, dtype=np.float64))

    def _fused_buffer(self, size: int, dtype: np.dtype) -> np.ndarray:
        if self._buffer is None or self._buffer.size != size or self._buffer.dtype != dtype:
            self._buffer = np.empty(size, dtype=dtype)
        return self._buffer

    def train_step(self, xb: np.ndarray, tb: np.ndarray, named: list[tuple[str, Any]],
                   weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Forward and backward on this rank's shard, one fused Allreduce, the same step everywhere.

        ``weights`` (``(n_r,)``, optional): the shard's per-sample loss weights; the shard's mean
        weighted loss times ``n_r / B`` summed over the ranks is the global batch's.

        Returns this rank's shard loss (the epoch totals are reduced by :meth:`reduce_totals`).
        Raises :class:`~deepstep.train.trainer.NonFiniteError` on every rank, before any weight
        changes, when the loss or a gradient of any rank is NaN/inf.
        """
        model = self.model
        global_batch = self._global_batch or xb.shape[0]
        model.zero_grad()
        if xb.shape[0]:
            out, cache = model.forward(xb, training=True, input_grad=False)
            loss, dout = model.loss(out, tb) if weights is None else model.loss.weighted(out, tb, weights)
            loss += l2_penalty(named, model.weight_decay, add_grad=False, names=model.weight_decay_params)
            model.backward(dout, cache)
        else:  # more ranks than samples in this (last) batch: contribute zeros
            out, loss = np.zeros((0, *model.output_shape), dtype=model.dtype), 0.0
        l2_penalty(named, model.weight_decay, add_grad=True, names=model.weight_decay_params)
        trainable = [p for _, p in named if p.trainable]
        state = [p for _, p in named if not p.trainable]
        size = sum(p.grad.size for p in trainable) + sum(p.value.size for p in state) + 1
        buf = self._fused_buffer(size, np.dtype(model.dtype))
        weight = xb.shape[0] / global_batch
        offset = 0
        for p in trainable:
            np.multiply(p.grad.reshape(-1), weight, out=buf[offset:offset + p.grad.size])
            offset += p.grad.size
        for p in state:
            np.divide(p.value.reshape(-1), self.comm.size, out=buf[offset:offset + p.value.size])
            offset += p.value.size
        buf[offset] = loss * weight
        self.comm.allreduce_sum_(buf)
        if not np.isfinite(buf[offset]):
            raise NonFiniteError(f"loss became {float(buf[offset])} (on at least one rank)")
        offset = 0
        for p in trainable:
            p.grad.reshape(-1)[...] = buf[offset:offset + p.grad.size]
            offset += p.grad.size
        for p in state:
            p.value.reshape(-1)[...] = buf[offset:offset + p.value.size]
            offset += p.value.size
        for name, p in named:
            if p.trainable and not np.all(np.isfinite(p.grad)):
                raise NonFiniteError(f"gradient of {name!r} became NaN/inf")
        model.optimizer.step(named)
        return float(loss), out

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any, y: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True, seed: int | None = None,
            callbacks: Any = None, verbose: int = 1, initial_epoch: int = 0,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None) -> Any:
        """:meth:`Trainer.fit` on every rank, after broadcasting rank 0's weights and checking
        that the ranks agree (data, options, architecture, seed). Only rank 0 shows progress.

        ``x`` may be arrays (with ``y``), a dataset or an iterable of batches, as for
        :meth:`Trainer.fit`; ``batch_size`` (and the batches an iterable yields) is the global batch."""
        self._require_compiled("fit")
        if seed is None:  # every rank must shuffle alike: rank 0's seed
            seed = int(self.comm.allgather(self.model.seed_sequence()[0])[0])
        options = {"epochs": epochs, "batch_size": batch_size, "validation_split": validation_split,
                   "shuffle": shuffle, "seed": seed, "initial_epoch": initial_epoch,
                   "class_weight": repr(sorted(class_weight.items()) if isinstance(class_weight, dict)
                                        else class_weight),
                   "sample_weight": sample_weight is not None}
        self.check_consistent(x, y, options, sample_weight)
        if isinstance(batch_size, int) and batch_size < self.comm.size:
            raise DistributedError(f"batch_size ({batch_size}) is the global batch and must be at least the "
                                   f"number of ranks ({self.comm.size})")
        self.broadcast_weights()
        return super().fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                           validation_split=validation_split, shuffle=shuffle, seed=seed,
                           callbacks=callbacks, verbose=verbose if self.comm.is_root else 0,
                           initial_epoch=initial_epoch, class_weight=class_weight,
                           sample_weight=sample_weight)
