"""``srlm lm``: bad input gets one line and exit code 2 with nothing written; a tiny run works."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from srlm.cli import main


def _invoke(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["srlm", *args])
    try:
        main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("model: /no/such/model\n", "model="),
        ("model: [unclosed\n", "not valid YAML"),
        ("loss: hinge\n", "loss="),
        ("beta: -1\n", "beta="),
        ("no_such_field: 1\n", "no_such_field="),
        ("prompts_file: {prompts}\n", "prompts_file="),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, body: str, needle: str
) -> None:
    prompts = _write(tmp_path / "p.jsonl", '{"prompt": "1+1="}\nnot json\n')
    run_dir = tmp_path / "run"
    config = _write(tmp_path / "c.yaml", body.format(prompts=prompts) + f"run_dir: {run_dir}\n")
    if body.startswith("-"):
        config.write_text(body)
    code = _invoke(monkeypatch, "lm", "run", str(config))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error:") and needle in err, err
    assert not run_dir.exists()


def test_missing_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert _invoke(monkeypatch, "lm", "run", str(tmp_path / "nope.yaml")) == 2
    assert "file not found" in capsys.readouterr().err


def test_unknown_override_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    config = _write(tmp_path / "c.yaml", f"run_dir: {tmp_path / 'run'}\n")
    assert _invoke(monkeypatch, "lm", "run", str(config), "--betta", "0.1") == 2
    assert "unknown config field" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_cli_run_on_tiny_model(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run_dir = tmp_path / "run"
    config = _write(
        tmp_path / "c.yaml",
        f"model: {tiny_dir}\nrun_dir: {run_dir}\nnum_rounds: 1\nprompts_per_round: 8\n"
        "eval_prompts: 4\neval_samples: 2\nmax_new_tokens: 3\nbatch_size: 4\n",
    )
    assert _invoke(monkeypatch, "lm", "run", str(config), "--loss", "ipo") == 0
    rows = [json.loads(s) for s in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [0, 1]
    assert json.loads((run_dir / "manifest.json").read_text())["config"]["loss"] == "ipo"
    assert "kappa" in capsys.readouterr().out
