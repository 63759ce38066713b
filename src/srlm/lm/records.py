"""The rows of ``metrics.jsonl``, rebuilt from a run's files after every stage.

Row ``t`` describes ``pi_t``: its evaluation (``round_t/eval.json``), the update that produced
it (``round_{t-1}/train.json``: loss, margins, KL; NaN at ``t = 0``), round t's data
(``pairs.jsonl``), and what it does on prompts whose initial greedy answer was wrong.
Rebuilding from files (rather than appending) means a resumed run writes no duplicate rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from srlm.io import atomic_write_text
from srlm.lm.config import LMRunConfig


def round_dir(run_dir: Path, t: int) -> Path:
    """The folder of round ``t``."""
    return run_dir / f"round_{t:03d}"


def _data_columns(rd: Path) -> dict[str, Any]:
    """Row t's columns about round t's data (pairs drawn from pi_t)."""
    path = rd / "pairs.jsonl"
    if not path.exists():
        return {}
    pairs = [json.loads(line) for line in path.read_text().splitlines()]
    used = [p for p in pairs if p["weight"] > 0]
    diff = [len(p["chosen_ids"]) - len(p["rejected_ids"]) for p in used]
    return {
        "pairs": len(used),
        "chosen_minus_rejected_length": float(np.mean(diff)) if diff else float("nan"),
        "target_mean": float(np.mean([p["target"] for p in used])) if used else float("nan"),
    }


def write_metrics(run_dir: Path, config: LMRunConfig) -> list[dict[str, Any]]:
    """Rebuild ``metrics.jsonl`` (and the other sinks) from the rounds' files; return the rows."""
    rows = []
    nan_step = dict.fromkeys(("loss", "reward_margin", "kl_step", "kl_step_reverse"), float("nan"))
    for t in range(config.num_rounds + 1):
        rd = round_dir(run_dir, t)
        if not (rd / "eval.json").exists():
            break
        row: dict[str, Any] = {"round": t, "reward": _reward_label(config)}
        row.update(json.loads((rd / "eval.json").read_text()))
        prev = round_dir(run_dir, t - 1) / "train.json"
        row.update(json.loads(prev.read_text()) if t > 0 and prev.exists() else nan_step)
        row.update(_data_columns(rd))
        row.update(_initially_wrong(round_dir(run_dir, 0), rd))
        rows.append(row)
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    atomic_write_text(run_dir / "metrics.jsonl", text)
    _extra_sinks(run_dir, config, rows)
    return rows


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _initially_wrong(rd0: Path, rd: Path) -> dict[str, float]:
    """What ``pi_t`` does on the evaluation prompts whose greedy answer under ``pi_0`` was wrong.

    - ``initially_wrong``: how many such prompts;
    - ``accuracy_initially_wrong``: greedy accuracy of ``pi_t`` on them;
    - ``same_wrong_answer``: fraction where ``pi_t``'s greedy answer is still ``pi_0``'s;
    - ``mode_prob_initially_wrong``: mean ``pi_t(g(x)|x)`` on them (confidence in the answer).
    """
    if not (rd0 / "eval_greedy.jsonl").exists() or not (rd / "eval_greedy.jsonl").exists():
        return {}
    first, now = _read_jsonl(rd0 / "eval_greedy.jsonl"), _read_jsonl(rd / "eval_greedy.jsonl")
    wrong = [i for i, d in enumerate(first) if d["verifier"] == 0.0]
    if not wrong:
        return {"initially_wrong": 0}
    return {
        "initially_wrong": len(wrong),
        "accuracy_initially_wrong": float(np.mean([now[i]["verifier"] for i in wrong])),
        "same_wrong_answer": float(
            np.mean([now[i]["greedy"] == first[i]["greedy"] for i in wrong])
        ),
        "mode_prob_initially_wrong": float(np.mean([np.exp(now[i]["logp"]) for i in wrong])),
    }


def _reward_label(config: LMRunConfig) -> str:
    return "self: log pi_t (Eq. 1)" if config.reward == "self" else "verifier (not self-reward)"


def _extra_sinks(run_dir: Path, config: LMRunConfig, rows: list[dict[str, Any]]) -> None:
    """TensorBoard / W&B (offline) when asked, rewritten in full after every round.

    The previous round's copy is removed first, so a run (or a resumed run) leaves exactly one
    TensorBoard event file and one offline W&B run, each with every round once.
    """
    numeric = [{k: v for k, v in r.items() if isinstance(v, int | float)} for r in rows]
    if "tensorboard" in config.log_to:
        from torch.utils.tensorboard import SummaryWriter

        shutil.rmtree(run_dir / "tensorboard", ignore_errors=True)
        writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
        for r in numeric:
            for key, value in r.items():
                writer.add_scalar(key, value, global_step=int(r["round"]))
        writer.close()
    if "wandb" in config.log_to and rows and (run_dir / "round_000").exists():
        import wandb

        run_id = "srlm-" + hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:10]
        for old in (run_dir / "wandb").glob(f"offline-run-*-{run_id}"):
            shutil.rmtree(old, ignore_errors=True)
        wandb_run = wandb.init(
            mode="offline", dir=str(run_dir), id=run_id, config=config.model_dump()
        )
        for r in numeric:
            wandb_run.log(r, step=int(r["round"]))
        wandb_run.finish()
