"""Shared fixtures: one smoke-profile run of every experiment, reused by the report tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from srlm.experiments import EXPERIMENTS
from srlm.experiments.runner import run_all
from srlm.report.html import build_report


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """Run every experiment at the smoke profile, build the report; return (dir, seconds)."""
    run_dir = tmp_path_factory.mktemp("reproduce") / "smoke"
    start = time.perf_counter()
    run_all(list(EXPERIMENTS), "smoke", run_dir, backend="local")
    build_report(run_dir)
    return run_dir, time.perf_counter() - start
