"""Threads over independent blocks of one large array computation.

numpy releases the GIL inside its loops, so blocks of rows run side by side on every core.
Each block writes only its own slice of the output, so the result does not depend on how
many threads run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Below this many array entries one thread is faster than starting a pool.
THREADED_MIN_SIZE = 2_000_000
# Entries per block of a threaded gather: large enough that the per-call cost is small.
BLOCK_SIZE = 2**18


def available_cores() -> int:
    """The cores this process may run on (a job scheduler or container may allow fewer than
    the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_workers(size: int, min_size: int = THREADED_MIN_SIZE) -> int:
    """Every available core for an array of ``size`` entries, or one thread below ``min_size``."""
    return available_cores() if size >= min_size else 1


def block_bounds(size: int, step: int) -> np.ndarray:
    """Bounds ``0, step, 2 step, .., size`` of consecutive blocks of ``size`` items: block
    ``k`` is ``[bounds[k], bounds[k + 1])``, and only the last may be shorter."""
    return np.append(np.arange(0, size, step), size)


def run_blocks(block: Callable[[int], None], count: int, workers: int) -> None:
    """Call ``block(k)`` for ``k = 0 .. count - 1`` on ``workers`` threads."""
    if workers <= 1 or count <= 1:
        for k in range(count):
            block(k)
        return
    with ThreadPoolExecutor(min(workers, count)) as pool:
        list(pool.map(block, range(count)))  # list() re-raises a block's exception
