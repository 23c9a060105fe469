"""How many CPUs other processes leave free: the machine's busy CPU time less this process's.

A parallel region waits for its slowest thread. Where other processes keep every other CPU busy, the
worker thread queues behind them at every region, and a step with hundreds of regions stalls: on
this 2-CPU VM beside a process keeping one core busy, resnet_small's training step took 37 ms on 2
threads against 18.7 ms on one (75 ms with every kernel parallel; PyTorch's own step: 72-93 ms).
So before a kernel goes parallel, :func:`free_cpus` estimates the CPUs that other processes use:
over the last :data:`REFRESH_S` or more, the growth of the busy time of all CPUs (``/proc/stat``'s
first line: every field but idle, iowait and the hypervisor's steal) less this process's CPU time
(``time.process_time``: all its threads, the kernels' workers included), divided by the wall time.

A count of running tasks at one instant (``/proc/loadavg``) was tried first: it counted the kernels'
own worker on its way to sleep after a region, and resnet_small's 2-thread step ran serial even on a
quiet machine (19.5 ms against 19.4 on one thread). Where ``/proc/stat`` is missing (macOS, Windows)
or unreadable, every CPU counts as free.
"""

from __future__ import annotations

import os
import time

__all__ = ["free_cpus", "busy_seconds", "REFRESH_S"]

REFRESH_S = 0.1  # /proc/stat counts in ticks of 10 ms: 20 per 100 ms on 2 CPUs
_PATH = "/proc/stat"
_CPUS = os.cpu_count() or 1
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_last: tuple[float, float, float, int] | None = None  # (wall, process CPU, machine busy, free CPUs)


def busy_seconds(first_line: bytes) -> float:
    """Busy CPU seconds of all CPUs from ``/proc/stat``'s first line (``cpu user nice system idle
    iowait irq softirq steal ...``, in clock ticks)."""
    ticks = [int(v) for v in first_line.split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0) + (ticks[7] if len(ticks) > 7 else 0)
    # guest time is already counted in user and nice
    return (sum(ticks[:8]) - idle) / _TICKS


def _read() -> float | None:
    try:
        with open(_PATH, "rb") as f:
            return busy_seconds(f.readline())
    except (OSError, ValueError, IndexError):
        return None


def free_cpus() -> int:
    """CPUs that other processes left idle over the last :data:`REFRESH_S` or more, at least 1."""
    global _last
    now = time.monotonic()
    if _last is not None and now - _last[0] < REFRESH_S:
        return _last[3]
    busy, mine = _read(), time.process_time()
    if busy is None:
        return _CPUS
    free = _CPUS
    if _last is not None:
        others = (busy - _last[2] - (mine - _last[1])) / (now - _last[0])
        free = max(1, min(_CPUS, round(_CPUS - others)))
    _last = (now, mine, busy, free)
    return free
