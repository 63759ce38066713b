"""Running experiments into a run directory, resuming what a previous run finished.

Layout of a run directory::

    RUN_DIR/
      run.json                    profile and experiments requested
      <name>/params.json          the sizes the data was made with (written last)
      <name>/data.csv             the measured table the verdict is computed from
      <name>/work/                sweep cells (resumable cell by cell)
      figures/<name>.png|.svg     written by the report
      claims.csv, report.html     written by the report

An experiment is finished when ``data.csv`` exists and ``params.json`` equals its current
sizes; a changed size, or a run killed before ``params.json`` was written, reruns it (its
sweep cells that did finish are still reused by :func:`srlm.sweep.run_sweep`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from srlm.experiments.base import Backend, Experiment, Rows
from srlm.io import read_csv, write_csv, write_json
from srlm.sweep import run_sweep

logger = logging.getLogger(__name__)

# Fields every experiment shares unless it says otherwise: the paper's setting.
BASE_CONFIG: dict[str, Any] = {
    "policy": "tabular",
    "init": "planted",
    "reward": "loglik",
    "solver": "exact",
    "reference": "current",
    "failure_threshold": 0.5,
    "save_rounds": False,
}


def sweep(
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    work_dir: Path,
    backend: Backend,
) -> Rows:
    """A resumable sweep over ``grid x seeds`` on top of :data:`BASE_CONFIG` and ``base``.

    ``save_rounds`` is off, so cells keep only their manifest and ``rounds.csv``: the
    experiments read nothing else, and the linear features would take hundreds of megabytes.
    """
    return run_sweep({**BASE_CONFIG, **base}, grid, list(seeds), work_dir, backend=backend)


def final_rows(rows: Rows, last_round: int, columns: Sequence[str]) -> Rows:
    """The row of round ``last_round`` of every cell, keeping only ``columns``."""
    return [{k: r[k] for k in columns} for r in rows if r["round"] == last_round]


def is_finished(exp_dir: Path, params: Mapping[str, Any]) -> bool:
    """Whether ``exp_dir`` holds data made with exactly ``params``."""
    params_path, data_path = exp_dir / "params.json", exp_dir / "data.csv"
    if not (params_path.is_file() and data_path.is_file()):
        return False
    return bool(json.loads(params_path.read_text()) == json.loads(json.dumps(dict(params))))


def run_experiment(
    exp: Experiment, profile: str, run_dir: Path, backend: Backend = "local"
) -> tuple[Rows, bool]:
    """Run one experiment unless its data is already there.

    Returns:
        The data rows and whether they were reused from a previous run.
    """
    params = exp.sizes(profile)
    exp_dir = run_dir / exp.name
    if is_finished(exp_dir, params):
        logger.info("%s: reusing finished data", exp.name)
        return read_csv(exp_dir / "data.csv"), True

    # Invalidate first, so that a run killed mid-way is never taken as finished.
    (exp_dir / "params.json").unlink(missing_ok=True)
    rows = exp.run(params, exp_dir / "work", backend)
    write_csv(exp_dir / "data.csv", rows)
    write_json(exp_dir / "params.json", params)
    return rows, False


def run_all(
    experiments: Sequence[Experiment],
    profile: str,
    run_dir: Path,
    backend: Backend = "local",
    on_done: Callable[[Experiment, bool], None] | None = None,
) -> dict[str, bool]:
    """Run every experiment in turn; return ``name -> reused``."""
    write_json(
        run_dir / "run.json",
        {"profile": profile, "experiments": [e.name for e in experiments]},
    )
    reused = {}
    for exp in experiments:
        _, reused[exp.name] = run_experiment(exp, profile, run_dir, backend)
        if on_done is not None:
            on_done(exp, reused[exp.name])
    return reused


def load_data(exp: Experiment, run_dir: Path) -> tuple[Rows, dict[str, Any]] | None:
    """Saved data and params of one experiment, or None if it has not finished."""
    exp_dir = run_dir / exp.name
    if not ((exp_dir / "data.csv").is_file() and (exp_dir / "params.json").is_file()):
        return None
    return read_csv(exp_dir / "data.csv"), json.loads((exp_dir / "params.json").read_text())
