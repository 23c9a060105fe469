"""``python -m deepstep.nn.functional._numba.warmup DTYPE``: compile the convolution kernels into the cache.

The ``auto`` kernel choice starts this in a background process (at low priority) once a job has
spent :data:`.._registry.BACKGROUND_COMPILE_AFTER_S` in the NumPy convolutions: the job goes on with
NumPy meanwhile, never waits for the compile, and switches to the compiled kernels (loaded from
the cache in about a second) when this process has written them. Small shapes suffice: Numba
compiles per argument *types*, and the calls below reach every kernel variant a network can use
(forward blocks 7x8 and 4x16, dW blocks of 4 and 8 rows x 8 and 16 channels, dx at stride 1 and 2,
fused ReLU; of the forward kernels written out for window rows of up to 12 numbers, those of the
model zoo; dW blocks of a short window row's length for those), max pooling (NHWC and NCHW), the NCHW
layout copies, channels-last batch normalization and ReLU, each as its serial twin and as its parallel
driver.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .._kernel_cache import mark_warm


def warm(dtype: str) -> None:
    from . import forcing_twins

    for serial_twins in (True, False):  # small jobs and one thread run the serial twins, others the drivers
        with forcing_twins(serial_twins):
            _run_every_kernel(dtype)
    mark_warm(dtype)  # every variant is compiled: `auto` may use them without a compile stall


def _run_every_kernel(dtype: str) -> None:
    from ... import functional as F

    F.set_kernels("numba")
    rng = np.random.default_rng(0)
    # (C_in, C_out, kernel, stride): window rows kw*C of 12, 16 and 3; C_out 8, 16 and 32
    for c, f, k, s in ((3, 8, 4, 1), (8, 16, 2, 2), (1, 32, 3, 1)):
        x = rng.standard_normal((2, 6, 6, c)).astype(dtype)
        w = rng.standard_normal((k, k, c, f)).astype(dtype)
        out, cache = F.conv2d(x, w, np.zeros(f, dtype), stride=s, padding="same", activation="relu")
        F.conv2d_backward(out, cache)
        out, cache = F.pool2d(out, 2, padding="same")  # the max pooling `auto` uses too
        F.pool2d_backward(out, cache)
        planes = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        for pool, stride in ((2, 2), (3, 1)):  # NCHW max pooling: a written-out window and the generic loop
            out, cache = F.pool2d(planes, pool, stride, padding="same", data_format="NCHW")
            F.pool2d_backward(out, cache)
    # the forward kernels written out for the zoo's short window rows (kw * C <= 12): first layers
    # (no dx) of 3x3x1 (digits_cnn, resnet_mnist), 5x5x1 (mnist_cnn), 3x3x3 -> 16 (resnet_small's stem);
    # 1x1 convolutions 8 -> 16 and 16 -> 8 with dx (resnet_small's blocks)
    for c, f, k, need_dx in ((1, 16, 3, False), (1, 8, 5, False), (3, 16, 3, False), (8, 16, 1, True),
                             (16, 8, 1, True)):
        x = rng.standard_normal((2, 6, 6, c)).astype(dtype)
        w = rng.standard_normal((k, k, c, f)).astype(dtype)
        out, cache = F.conv2d(x, w, np.zeros(f, dtype), padding="same", activation="relu", need_dx=need_dx)
        F.conv2d_backward(out, cache)
    # an NCHW convolution: the layout copies around the NHWC kernels (3 channels in: compiled with dx)
    x, w = rng.standard_normal((2, 3, 6, 6)).astype(dtype), rng.standard_normal((8, 3, 3, 3)).astype(dtype)
    out, cache = F.conv2d(x, w, padding="same", data_format="NCHW")
    F.conv2d_backward(out, cache)
    # batch normalization, channels last: every kernel in one training and one inference call (the
    # kernels see flat rows, so 2-D and 4-D inputs share them)
    x = rng.standard_normal((2, 3, 3, 4)).astype(dtype)
    gamma, beta = np.ones(4, dtype), np.zeros(4, dtype)
    out, cache = F.batch_norm(x, gamma, beta)
    F.batch_norm_backward(out, cache)
    out, cache = F.batch_norm(x, gamma, beta, mean=cache["batch_mean"], var=cache["batch_var"])
    F.batch_norm_backward(out, cache)
    out, cache = F.relu(x)  # ReLU layers (flat kernels: any shape)
    F.relu_backward(out, cache)


def main(argv: list[str]) -> int:
    with contextlib.suppress(OSError):
        os.nice(10)  # yield the CPU to the job that started this
    for dtype in argv or ["float32"]:
        warm(dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
