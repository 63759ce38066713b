"""End to end: the smoke profile runs all ten claims, rebuilds from data, and resumes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import srlm.report.html as report_html
from srlm.experiments import EXPERIMENTS, select_experiments
from srlm.experiments.runner import run_all
from srlm.io import read_csv
from srlm.report.html import build_report

STATUSES = {"confirmed", "contradicted", "inconclusive"}


def _boom(*_: Any) -> Any:
    raise AssertionError("an experiment ran although its data was saved")


def _no_runs() -> tuple[Any, ...]:
    return tuple(dataclasses.replace(e, run=_boom) for e in EXPERIMENTS)


def test_smoke_profile_writes_every_output(smoke_run: Path) -> None:
    run_dir = smoke_run
    claims = read_csv(run_dir / "claims.csv")
    assert [row["claim"] for row in claims] == list(range(1, 11))
    assert {row["verdict"] for row in claims} <= STATUSES
    page = (run_dir / "report.html").read_text()
    assert page.count("<svg") == 10 and "src=" not in page  # self-contained: inline figures
    for exp in EXPERIMENTS:
        assert (run_dir / "figures" / f"{exp.name}.png").read_bytes().startswith(b"\x89PNG")
        assert (run_dir / "figures" / f"{exp.name}.svg").stat().st_size > 1000
        assert read_csv(run_dir / exp.name / "data.csv"), exp.name
        assert exp.criterion in page.replace("&#x27;", "'").replace("&lt;", "<").replace(
            "&gt;", ">"
        ).replace("&amp;", "&").replace("&quot;", '"')


def test_report_rebuilds_identically_without_running(
    smoke_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = smoke_run
    outputs = [run_dir / name for name in ("report.html", "claims.csv", "verdicts.json")]
    outputs += sorted((run_dir / "figures").iterdir())
    before = {path: path.read_bytes() for path in outputs}
    monkeypatch.setattr(report_html, "EXPERIMENTS", _no_runs())
    build_report(run_dir)
    for path, content in before.items():
        assert path.read_bytes() == content, path.name


def test_second_run_reuses_finished_experiments(
    smoke_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = smoke_run
    reused = run_all(list(_no_runs()), "smoke", run_dir)
    assert all(reused.values()) and len(reused) == 10


def test_changed_sizes_rerun_only_that_experiment(tmp_path: Path) -> None:
    trap = select_experiments(["6"])[0]
    calls: list[str] = []

    def counting_run(params: dict[str, Any], work_dir: Path, backend: Any) -> Any:
        calls.append(params["tail"])
        return trap.run(params, work_dir, backend)

    exp = dataclasses.replace(trap, run=counting_run)
    run_all([exp], "smoke", tmp_path)
    run_all([exp], "smoke", tmp_path)
    changed = dataclasses.replace(exp, sizes=lambda p: {**trap.sizes(p), "tail": 0.85})
    run_all([changed], "smoke", tmp_path)
    assert calls == [0.9, 0.85]


def test_report_of_a_partial_run_marks_the_rest_not_run(tmp_path: Path) -> None:
    run_all(select_experiments(["6"]), "smoke", tmp_path)
    build_report(tmp_path)
    verdicts = {row["claim"]: row["verdict"] for row in read_csv(tmp_path / "claims.csv")}
    assert verdicts[6] in STATUSES
    assert {v for k, v in verdicts.items() if k != 6} == {"not run"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reproduce", "--profile", "huge"], "--profile='huge'"),
        (["reproduce", "--only", "11"], "--only='11'"),
        (["report", "no/such/dir"], "RUN_DIR='no/such/dir'"),
    ],
)
def test_cli_errors_are_one_line(args: list[str], message: str) -> None:
    srlm = Path(sys.executable).parent / "srlm"
    result = subprocess.run([str(srlm), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr


def test_report_marks_data_from_other_sizes_stale(tmp_path: Path) -> None:
    run_all(select_experiments(["6"]), "smoke", tmp_path)
    params_path = tmp_path / "06-greedy-trap" / "params.json"
    params = json.loads(params_path.read_text())
    params_path.write_text(json.dumps({**params, "tail": 0.8}))
    build_report(tmp_path)
    verdicts = {row["claim"]: row["verdict"] for row in read_csv(tmp_path / "claims.csv")}
    assert verdicts[6] == "stale"


def test_select_experiments_by_number_name_and_list() -> None:
    chosen = select_experiments(["5,2", "06-greedy-trap"])
    assert [e.number for e in chosen] == [2, 5, 6]
    assert len(select_experiments(None)) == 10
