"""Sweeps: grid expansion, resume after a kill (byte-identical results), Ray agrees with local."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from srlm.errors import ConfigError
from srlm.sweep import grid_cells, run_sweep

BASE = {"num_prompts": 16, "num_responses": 8, "num_rounds": 3, "pairs_per_round": 32}
GRID = {"beta": [0.5, 1.0], "reward": ["loglik", "noisy"]}


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_grid_is_product_of_values_and_seeds() -> None:
    cells = grid_cells(BASE, GRID, [0, 1, 2])
    assert len(cells) == 12
    assert len({cell.name for cell, _ in cells}) == 12
    assert cells[0][1].beta == 0.5 and cells[-1][1].reward == "noisy" and cells[-1][1].seed == 2
    with pytest.raises(ConfigError, match="beta=-1"):
        grid_cells(BASE, {"beta": [1, -1]}, [0])


def test_resume_after_partial_run_is_byte_identical(tmp_path: Path) -> None:
    full = run_sweep(BASE, GRID, [0, 1], tmp_path / "full", jobs=1)

    # A sweep that stopped after some cells, one of them half-written (no rounds.csv).
    part = tmp_path / "part"
    run_sweep(BASE, {"beta": [0.5], "reward": ["loglik"]}, [0, 1], part, jobs=1)
    half = next((part / "cells").iterdir())
    (half / "rounds.csv").unlink()
    calls: list[tuple[int, int]] = []
    resumed = run_sweep(BASE, GRID, [0, 1], part, jobs=2, on_cell_done=lambda *a: calls.append(a))
    assert calls[0] == (1, 8)  # one finished cell was reused; seven ran (or re-ran)
    np.testing.assert_equal(resumed, full)  # NaN-aware
    assert files_of(tmp_path / "full") == files_of(part)


def test_resume_removes_files_left_by_a_kill_mid_write(tmp_path: Path) -> None:
    """SIGKILL during an atomic write leaves a temporary file; a resumed sweep leaves none."""
    full = tmp_path / "full"
    run_sweep(BASE, GRID, [0], full, jobs=1)
    part = tmp_path / "part"
    run_sweep(BASE, {"beta": [0.5], "reward": ["loglik"]}, [0], part, jobs=1)
    cell = next((part / "cells").iterdir())
    (cell / "rounds.csv").rename(cell / ".rounds.csv.k1ll3d.tmp")  # killed before the rename
    (part / ".results.csv.k1ll3d.tmp").write_text("cell,beta\n")
    assert files_of(full) != files_of(part)
    run_sweep(BASE, GRID, [0], part, jobs=1)
    assert files_of(full) == files_of(part)


@pytest.mark.slow
def test_sweep_killed_and_rerun_matches_uninterrupted(tmp_path: Path) -> None:
    """SIGKILL a real sweep mid-way, start it again with the same command, compare bytes."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "num_prompts: 200\nnum_responses: 64\nnum_rounds: 25\npairs_per_round: 4000\n"
    )
    args = [
        sys.executable,
        "-c",
        "from srlm.cli import main; main()",
        "lab",
        "sweep",
        str(config),
        "--grid",
        "beta=0.25,0.5,1,2",
        "--seeds",
        "0-1",
        "--jobs",
        "1",
    ]
    proc = subprocess.Popen(
        [*args, "--out", "killed"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 600
        while len(list((tmp_path / "killed").glob("cells/*/rounds.csv"))) < 2:
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (tmp_path / "killed" / "results.csv").exists()

    for out in ("killed", "clean"):
        done = subprocess.run([*args, "--out", out], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert files_of(tmp_path / "killed") == files_of(tmp_path / "clean")


@pytest.mark.slow
def test_ray_backend_gives_same_numbers_as_local(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    local = run_sweep(BASE, GRID, [0], tmp_path / "local", backend="local", jobs=2)
    on_ray = run_sweep(BASE, GRID, [0], tmp_path / "ray", backend="ray", jobs=2)
    np.testing.assert_equal(on_ray, local)
    assert (tmp_path / "ray" / "results.csv").read_bytes() == (
        tmp_path / "local" / "results.csv"
    ).read_bytes()
