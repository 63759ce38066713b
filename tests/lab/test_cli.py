"""The ``srlm lab`` command: runs, and bad input gets one line, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SRLM = [sys.executable, "-c", "from srlm.cli import main; main()"]


def srlm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SRLM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_run_prints_table_and_writes_run_dir(tmp_path: Path) -> None:
    out = srlm(
        "lab", "run", "--num-rounds", "2", "--pairs-per-round=32", "--out", "r", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "kappa" in out.stdout
    assert (tmp_path / "r" / "rounds.csv").read_text().count("\n") == 1 + 3  # header, rounds 0..2


@pytest.mark.parametrize(
    ("yaml_text", "flags", "message"),
    [
        ("pairs_per_round: 0\n", [], "pairs_per_round=0"),
        ("", ["--pairs-per-round", "-5"], "pairs_per_round=-5"),
        ("beta: 0\n", [], "beta=0"),
        ("", ["--beta", "-1"], "beta=-1"),
        ("failure_threshold: 1.5\n", [], "failure_threshold=1.5"),
        ("failure_threshold: 0\n", [], "failure_threshold=0"),
        ("policy: linear\nfeature_dim: 3\ntheta_init: [1, 2]\n", [], "feature_dim=3"),
        ("policy: transformer\n", [], "policy='transformer'"),
        ("solver: newton\n", [], "solver='newton'"),
        ("beta: [0.5\n", [], "malformed YAML"),
        ("- 1\n- 2\n", [], "YAML mapping"),
        ("betta: 0.5\n", [], "betta=0.5: unknown field"),
        ("", ["--betta", "1"], "--betta='1': unknown config field"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path, yaml_text: str, flags: list[str], message: str
) -> None:
    (tmp_path / "c.yaml").write_text(yaml_text)
    out = srlm("lab", "run", "c.yaml", *flags, "--out", "r", cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "r").exists()


def test_missing_config_file(tmp_path: Path) -> None:
    out = srlm("lab", "run", "nope.yaml", cwd=tmp_path)
    assert out.returncode == 2 and "file not found" in out.stderr


@pytest.mark.parametrize(
    ("grid", "message"), [("bogus=1,2", "grid.bogus"), ("beta=1,-1", "beta=-1")]
)
def test_sweep_bad_grid_is_one_line_and_writes_nothing(
    tmp_path: Path, grid: str, message: str
) -> None:
    out = srlm("lab", "sweep", "--grid", grid, "--out", "s", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout.strip() == ""  # no progress bar before the error
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert not (tmp_path / "s").exists()
