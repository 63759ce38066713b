"""Training under accelerate: data-parallel equals single-process; LoRA; NaN stops a round."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from srlm.lm.train import NonFiniteLoss, TrainConfig, train_round

from ._dist_worker import fixed_pairs, sample_fixed, train_fixed
from .conftest import make_tiny


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_two_gloo_processes_match_one(tmp_path: Path) -> None:
    out = tmp_path / "ddp.pt"
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    assert launcher is not None
    cmd = [
        launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(_free_port()),
        str(Path(__file__).with_name("_dist_worker.py")), str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = torch.load(out)

    loss, step_losses, params = train_fixed()
    assert len(step_losses) == 2 and len(ddp["step_losses"]) == 2
    assert abs(ddp["loss"] - loss) < 1e-5
    torch.testing.assert_close(ddp["params"], params, atol=1e-5, rtol=0)
    # The step did move the parameters (so the comparison is not trivially equal).
    start = torch.cat([p.detach().reshape(-1) for p in make_tiny(0)[0].parameters()])
    assert float((params - start).abs().max()) > 1e-4

    # Sampling and scoring: each process did every other batch, and both hold all the results,
    # the same as one process computes.
    shards = [torch.load(f"{out}.rank{r}", weights_only=False) for r in (0, 1)]
    assert shards[0]["computed"] == [0, 2, 4, 6] and shards[1]["computed"] == [1, 3, 5]
    responses, logps = sample_fixed()
    assert len({len(y) for row in responses for y in row}) > 1  # varied lengths: padding is hit
    for shard in shards:
        assert shard["squares"] == [k * k for k in range(7)]
        assert shard["responses"] == responses
        np.testing.assert_allclose(shard["logps"], logps, rtol=0, atol=1e-6)


def test_square_loss_training_reaches_eq3_target() -> None:
    # On one pair, Eq. (3)'s minimiser satisfies beta * (chosen - rejected log-ratio) = target.
    model, _ = make_tiny(0)
    pair = fixed_pairs(1)
    config = TrainConfig(loss="square", beta=0.5, lr=3e-3, epochs=300, batch_size=1, seed=0)
    model, result = train_round(model, pair, config, pad_id=0)
    # Starts at target^2 (pi = pi_t), ends near 0 (Adam hovers around the minimiser).
    assert result.step_losses[0] > 1.0
    assert min(result.step_losses[-50:]) < 1e-4 * result.step_losses[0]


def test_lora_trains_only_adapters_and_merges() -> None:
    model, _ = make_tiny(0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(loss="sigmoid", beta=0.1, lr=1e-2, batch_size=8, lora=True, lora_r=2)
    merged, result = train_round(model, fixed_pairs(), config, pad_id=0)
    after = merged.state_dict()
    assert set(after) == set(before)  # a plain model again, adapters merged
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all("wte" not in k and "wpe" not in k for k in changed)
    assert result.steps == 2


def test_non_finite_loss_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    import srlm.lm.train as train_module

    def nan_loss(*args, **kwargs):
        return torch.full((len(args[1][0]),), float("nan"), requires_grad=True)

    monkeypatch.setattr(train_module, "pair_loss", nan_loss)
    model, _ = make_tiny(0)
    with pytest.raises(NonFiniteLoss, match="NaN"):
        train_round(model, fixed_pairs(), TrainConfig(batch_size=8), pad_id=0)
