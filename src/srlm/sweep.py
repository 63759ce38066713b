"""Sweeps: a grid over config fields and seeds, one run directory per cell, resumable.

A cell is finished when its ``rounds.csv`` exists (written last, atomically) and its manifest
holds the cell's config, so a sweep killed mid-way and started again with the same command
runs only the missing cells. Results are gathered in cell order, never completion order, so
an interrupted-then-resumed sweep writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from srlm.config import LabConfig, parse_config
from srlm.errors import ConfigError
from srlm.io import read_csv, remove_temporaries, write_csv, write_json
from srlm.loop import run_rounds
from srlm.parallel import available_cores

Backend = Literal["local", "ray"]


@dataclass(frozen=True)
class Cell:
    """One grid point and seed.

    Attributes:
        index: Position in the sweep's fixed order.
        overrides: Field values this cell sets on top of the base config (including seed).
    """

    index: int
    overrides: dict[str, Any]

    @property
    def name(self) -> str:
        """Directory name: the position plus a hash of the overrides (a changed grid never
        reuses a stale cell)."""
        digest = hashlib.sha256(json.dumps(self.overrides, sort_keys=True).encode()).hexdigest()
        return f"cell{self.index:04d}-{digest[:8]}"


def grid_cells(
    base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], seeds: Sequence[int]
) -> list[tuple[Cell, LabConfig]]:
    """Every combination of grid values and seeds, each validated as a full config.

    Raises:
        ConfigError: If a grid field is unknown or a combination is invalid, before anything
            is written.
    """
    for field in grid:
        if field not in LabConfig.model_fields or field == "seed":
            raise ConfigError(f"grid.{field}", list(grid[field]), "not a config field to sweep")
    names = list(grid)
    cells = []
    for index, (values, seed) in enumerate(
        itertools.product(itertools.product(*(grid[n] for n in names)), seeds)
    ):
        overrides = {**dict(zip(names, values, strict=True)), "seed": seed}
        cfg = parse_config(LabConfig, {**base, **overrides})
        cells.append((Cell(index, overrides), cfg))
    return cells


def is_done(cell_dir: Path, cfg: LabConfig) -> bool:
    """Whether a cell's run finished with this exact config."""
    manifest_path, rounds_path = cell_dir / "manifest.json", cell_dir / "rounds.csv"
    if not (manifest_path.is_file() and rounds_path.is_file()):
        return False
    return bool(json.loads(manifest_path.read_text())["config"] == cfg.model_dump())


def _run_cell(config: dict[str, Any], cell_dir: str) -> str:
    """Worker entry point (top-level so that process pools can pickle it).

    An unfinished cell's folder is emptied first: a run killed mid-write leaves temporary
    files, and a cell rerun with a changed base config would otherwise keep stale rounds.
    """
    shutil.rmtree(cell_dir, ignore_errors=True)
    run_rounds(LabConfig.model_validate(config), run_dir=Path(cell_dir))
    return cell_dir


def run_sweep(
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    out_dir: Path,
    backend: Backend = "local",
    jobs: int | None = None,
    on_cell_done: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every missing cell, then gather all rows into ``out_dir / results.csv``.

    Args:
        base: Base config fields (as in a YAML file).
        grid: Field name -> values to sweep.
        seeds: Seeds; each grid point runs once per seed.
        out_dir: Sweep directory (``cells/`` inside holds one run directory per cell).
        backend: ``"local"`` (a process per core) or ``"ray"`` (the Ray cluster in reach).
        jobs: Parallel workers; default every core this process may use.
        on_cell_done: Called as ``(finished, total)`` after each cell (progress bars).

    Returns:
        The gathered rows: the cell's overrides, then its per-round metrics.
    """
    cells = grid_cells(base, grid, seeds)
    jobs = jobs or available_cores()
    todo = [
        (cfg.model_dump(), str((out_dir / "cells" / cell.name).resolve()))
        for cell, cfg in cells
        if not is_done(out_dir / "cells" / cell.name, cfg)
    ]
    remove_temporaries(out_dir)
    write_json(
        out_dir / "sweep.json", {"base": dict(base), "grid": dict(grid), "seeds": list(seeds)}
    )

    finished = len(cells) - len(todo)
    if on_cell_done is not None:
        on_cell_done(finished, len(cells))
    for _ in _execute(todo, backend, jobs):
        finished += 1
        if on_cell_done is not None:
            on_cell_done(finished, len(cells))

    rows = [
        {"cell": cell.name, **cell.overrides, **row}
        for cell, _ in cells
        for row in read_csv(out_dir / "cells" / cell.name / "rounds.csv")
    ]
    write_csv(out_dir / "results.csv", rows)
    return rows


def _execute(todo: list[tuple[dict[str, Any], str]], backend: Backend, jobs: int) -> Any:
    """Yield once per finished cell, on the chosen backend."""
    if not todo:
        return
    if backend == "ray":
        yield from _execute_ray(todo, jobs)
        return
    if jobs == 1 or len(todo) == 1:
        for config, cell_dir in todo:
            yield _run_cell(config, cell_dir)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=min(jobs, len(todo)), return_as="generator_unordered")
    yield from parallel(delayed(_run_cell)(config, cell_dir) for config, cell_dir in todo)


def _execute_ray(todo: list[tuple[dict[str, Any], str]], jobs: int) -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "backend", "ray", "Ray is not installed: pip install 'srlm[ray]'"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_run_cell)
        pending = [remote.remote(config, cell_dir) for config, cell_dir in todo]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started_here:
            ray.shutdown()
