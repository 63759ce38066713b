"""The round loop end to end on a tiny random model: artefacts, manifest, resume, NaN."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import srlm.lm.loop as loop
from srlm.lm.config import parse_config
from srlm.lm.train import NonFiniteLoss

TIMING_KEYS = {"generation_tokens_per_s", "train_seconds", "train_pairs_per_s"}


def small_config(model: Path, run_dir: Path, **extra):
    fields = dict(
        model=str(model),
        run_dir=str(run_dir),
        num_rounds=2,
        prompts_per_round=12,
        num_samples=2,
        max_new_tokens=4,
        eval_prompts=6,
        eval_samples=2,
        batch_size=4,
        epochs=1,
        lr=1e-3,
        generation_batch_size=8,
        threads=1,  # float reductions depend on the thread count; fix it for any test order
    )
    return parse_config({**fields, **extra})


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMING_KEYS}


def snapshot(run_dir: Path) -> dict[str, object]:
    """Every artefact of a run, with wall-clock timings removed."""
    out: dict[str, object] = {}
    for path in sorted(run_dir.rglob("*")):
        rel = str(path.relative_to(run_dir))
        if path.suffix in (".jsonl", ".json") and path.name != "manifest.json":
            lines = path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]
            out[rel] = [
                _strip(r) if isinstance(r, dict) else r for r in (json.loads(s) for s in lines)
            ]
        elif path.suffix == ".npz":
            with np.load(path) as data:
                out[rel] = {k: data[k].tolist() for k in data.files if k != "collect_seconds"}
        elif path.suffix == ".safetensors":
            out[rel] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def full_run(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("full") / "run"
    rows = loop.run(small_config(tiny_dir, run_dir))
    assert [r["round"] for r in rows] == [0, 1, 2]
    return run_dir


def test_artefacts_and_manifest(full_run: Path, tiny_dir: Path) -> None:
    r0 = full_run / "round_000"
    for name in ("prompts.json", "candidates.jsonl", "rewards.npz", "pairs.jsonl", "train.json"):
        assert (r0 / name).is_file(), name
    assert (r0 / "checkpoint" / "model.safetensors").is_file()
    record = json.loads((r0 / "candidates.jsonl").read_text().splitlines()[0])
    assert {"text", "token_ids", "logp", "reward", "verifier"} <= set(record["responses"][0])
    # Under the paper's reward, the reward is the log-probability and also the reference.
    with np.load(r0 / "rewards.npz") as data:
        np.testing.assert_array_equal(data["rewards"], data["logps"])
        np.testing.assert_array_equal(data["ref_logps"], data["logps"])
        assert np.all(data["logps"] < 0)
    manifest = json.loads((full_run / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["config"]["num_rounds"] == 2
    assert manifest["model_hash"] == loop.model_hash(str(tiny_dir)) is not None
    assert {"torch", "transformers", "accelerate"} <= set(manifest["versions"])
    rows = [json.loads(s) for s in (full_run / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["reward"].startswith("self") and np.isnan(rows[0]["loss"])
    assert rows[1]["kappa"] >= 1.0 and np.isfinite(rows[1]["loss"])
    assert 0.0 <= rows[2]["failure_rate"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "at_round"), [("train", 0), ("collect", 1), ("pairs", 1)])
def test_resume_after_kill_gives_same_artefacts(
    full_run: Path, tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage, at_round
) -> None:
    run_dir = tmp_path / "run"
    config = small_config(tiny_dir, run_dir)
    original = getattr(loop, f"_stage_{stage}")

    def killed(rd, *args, **kwargs):
        if rd.name == f"round_{at_round:03d}":
            raise KeyboardInterrupt  # the process dies inside this stage
        return original(rd, *args, **kwargs)

    monkeypatch.setattr(loop, f"_stage_{stage}", killed)
    with pytest.raises(KeyboardInterrupt):
        loop.run(config)
    monkeypatch.setattr(loop, f"_stage_{stage}", original)
    # What a kill during an atomic write leaves behind.
    (run_dir / f"round_{at_round:03d}" / ".train.json.k1ll3d.tmp").write_text("{")
    (run_dir / ".metrics.jsonl.k1ll3d.tmp").write_text("")
    loop.run(config)
    assert snapshot(run_dir) == snapshot(full_run)
    assert not list(run_dir.rglob("*.tmp"))


def test_nan_loss_stops_round_and_keeps_last_checkpoint(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    import srlm.lm.train as train_module

    run_dir = tmp_path / "run"
    real = train_module.pair_loss
    calls = {"n": 0}

    def nan_in_round_1(*args, **kwargs):
        calls["n"] += 1
        losses = real(*args, **kwargs)
        return losses * float("nan") if calls["n"] > 3 else losses  # round 0 has 3 steps

    monkeypatch.setattr(train_module, "pair_loss", nan_in_round_1)
    with pytest.raises(NonFiniteLoss):
        loop.run(small_config(tiny_dir, run_dir))
    assert (run_dir / "round_000" / "checkpoint" / "model.safetensors").is_file()
    assert not (run_dir / "round_001" / "checkpoint").exists()
    assert not (run_dir / "round_001" / "train.json").exists()
    assert torch.isfinite(
        torch.tensor(json.loads((run_dir / "round_000/train.json").read_text())["loss"])
    )


def test_verifier_reward_and_initial_reference(tiny_dir: Path, tmp_path: Path) -> None:
    config = small_config(
        tiny_dir,
        tmp_path / "run",
        reward="verifier",
        reference="initial",
        loss="sigmoid",
        ties="keep",
    )
    rows = loop.run(config)
    assert all(r["reward"] == "verifier (not self-reward)" for r in rows)
    with np.load(tmp_path / "run" / "round_001" / "rewards.npz") as data:
        assert set(np.unique(data["rewards"])) <= {0.0, 1.0}
        # Reference = initial model: after round 0 it differs from pi_1's own log-probs.
        assert not np.allclose(data["ref_logps"], data["logps"])


def test_changed_config_in_same_run_dir_is_refused(full_run: Path, tiny_dir: Path) -> None:
    from srlm.errors import ConfigError

    with pytest.raises(ConfigError, match="run_dir"):
        loop.run(small_config(tiny_dir, full_run, beta=0.25))


def test_mean_logp_reward_and_best_worst_pairs(tiny_dir: Path, tmp_path: Path) -> None:
    config = small_config(
        tiny_dir, tmp_path / "run", num_rounds=1, num_samples=3, reward_average=True,
        pairing="best_worst", ties="keep",
    )  # fmt: skip
    loop.run(config)
    rd = tmp_path / "run" / "round_000"
    records = [json.loads(s) for s in (rd / "candidates.jsonl").read_text().splitlines()]
    for rec in records:
        for r in rec["responses"]:
            assert abs(r["reward"] - r["logp"] / len(r["token_ids"])) < 1e-5
    pairs = [json.loads(s) for s in (rd / "pairs.jsonl").read_text().splitlines()]
    assert len(pairs) == len(records)  # one best-versus-worst pair per prompt
    for p in pairs:
        rewards = [r["reward"] for r in records[p["prompt_index"]]["responses"]]
        assert p["target"] == pytest.approx(max(rewards) - min(rewards))


@pytest.mark.slow
def test_accelerate_launch_two_processes_same_rows(tiny_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from .test_train import _free_port

    rows, cands = {}, {}
    for procs in (1, 2):
        run_dir = tmp_path / f"run{procs}"
        config = tmp_path / f"c{procs}.yaml"
        config.write_text(
            f"model: {tiny_dir}\nrun_dir: {run_dir}\nnum_rounds: 1\nprompts_per_round: 16\n"
            "eval_prompts: 6\neval_samples: 2\nmax_new_tokens: 4\nbatch_size: 8\nlr: 0.001\n"
        )
        srlm = Path(sys.executable).parent / "srlm"
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs),
            "--master_port", str(_free_port()), str(srlm), "lm", "run", str(config),
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads((run_dir / "manifest.json").read_text())["processes"] == procs
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        rows[procs] = [_strip(json.loads(s)) for s in lines]
        cands[procs] = (run_dir / "round_000" / "candidates.jsonl").read_bytes()
    assert len(rows[2]) == 2
    assert cands[1] == cands[2]  # sampling split by batch across processes: same candidates
    for one, two in zip(rows[1], rows[2], strict=True):
        assert one.keys() == two.keys()
        for key, value in one.items():
            if isinstance(value, float):
                assert value == pytest.approx(two[key], abs=1e-5, nan_ok=True), key
            else:
                assert value == two[key], key
