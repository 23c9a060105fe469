"""Errors raised by the training loop."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN or infinite).

    Parameters
    ----------
    message : str
        What went wrong; ``str(error)`` is this message.
    epoch : int, optional
        The 0-based epoch in which it happened.
    batch : int, optional
        The 0-based batch index within that epoch.
    """

    def __init__(self, message: str, epoch: int | None = None, batch: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
