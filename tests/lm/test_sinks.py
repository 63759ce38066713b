"""Metrics reach TensorBoard and Weights & Biases (offline) with the same values as the JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import srlm.lm.loop as loop

from .test_loop import small_config


def test_tensorboard_and_wandb_offline_match_jsonl(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorboard")
    pytest.importorskip("wandb")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    run_dir = tmp_path / "run"
    rows = loop.run(small_config(tiny_dir, run_dir, log_to=["jsonl", "tensorboard", "wandb"]))

    jsonl = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["kappa"] for r in jsonl] == pytest.approx([r["kappa"] for r in rows])

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    logged = {e.step: e.value for e in events.Scalars("kappa")}
    assert sorted(logged) == [0, 1, 2]
    assert [logged[t] for t in range(3)] == pytest.approx([r["kappa"] for r in rows], rel=1e-6)

    offline = list(run_dir.rglob("offline-run-*/run-*.wandb"))
    assert len(offline) == 1 and offline[0].stat().st_size > 0
