"""Shared fixtures: one smoke-profile run of every experiment, reused by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from srlm.experiments import EXPERIMENTS
from srlm.experiments.runner import run_all
from srlm.report.html import build_report


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run every experiment at the smoke profile and build the report; return the run dir."""
    run_dir = tmp_path_factory.mktemp("reproduce") / "smoke"
    run_all(list(EXPERIMENTS), "smoke", run_dir, backend="local")
    build_report(run_dir)
    return run_dir
