"""The processes of a data-parallel launch, and work split across them.

srlm runs as one process by default. Under a launcher that sets ``WORLD_SIZE`` (``accelerate
launch --multi_gpu``, or ``torchrun`` on CPUs), every process runs the same loop: sampling and
scoring are split by batch (:func:`map_shards`) and training by pair (``accelerate``'s
dataloader). Without a GPU, or with ``ACCELERATE_USE_CPU=1``, the processes talk over gloo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def use_cpu() -> bool:
    """Whether this run is on the CPU: no accelerator, or ``ACCELERATE_USE_CPU`` set."""
    import torch
    from accelerate.utils import parse_flag_from_env

    return bool(parse_flag_from_env("ACCELERATE_USE_CPU")) or not torch.accelerator.is_available()


def process_state() -> Any:
    """``accelerate``'s process state, created on first use so that CPU launches use gloo.

    (``accelerate`` sets up a process group on CPUs only when told the run is on the CPU; left
    alone, each process of a CPU launch would believe it is alone and repeat all the work.)
    """
    from accelerate import PartialState

    return PartialState(cpu=use_cpu())


def default_device() -> Any:
    """This process's device: its GPU under a launch on GPUs, else the CPU."""
    return process_state().device


def map_shards(fn: Callable[[int], T], count: int) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]``, with the calls spread over the launched processes.

    Process ``r`` of ``P`` computes items ``r, r + P, r + 2P, ...``; the results are gathered on
    every process in index order, so each one ends with the list a single process computes
    (the items are whole batches, seeded by their index, so the numbers are the same too).
    Without a launch this is a plain loop.
    """
    state = process_state()
    world, rank = state.num_processes, state.process_index
    if world == 1:
        return [fn(k) for k in range(count)]
    from accelerate.utils import gather_object

    mine = [(k, fn(k)) for k in range(rank, count, world)]
    merged = dict(gather_object(mine))
    return [merged[k] for k in range(count)]


def is_main_process() -> bool:
    """Whether this is the process that prints (the only one, without a launch)."""
    return bool(process_state().is_main_process)


def end_processes() -> None:
    """Wait for every process, then leave the process group (a no-op without a launch).

    A process that exits with its gloo group still open can abort in C++ ("terminate called
    without an active exception"), which fails the whole launch after the work is done.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        state = process_state()
        state.wait_for_everyone()
        state.destroy_process_group()
