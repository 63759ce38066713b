"""The round loop on a causal LM, with artefacts per stage and resume.

Round ``t`` (``t = 0 .. T-1``) has four stages, each finished when its last file exists
(every file is written atomically, a checkpoint folder is renamed into place):

1. ``eval.json``: metrics of ``pi_t`` on fixed evaluation prompts;
2. ``prompts.json``, ``candidates.jsonl``, ``rewards.npz``: ``N`` samples per prompt from
   ``pi_t`` with ``log pi_t(y|x)`` (Eq. 1) and rewards;
3. ``pairs.jsonl``: pairs with targets (Eq. 3's ``r_t(x,y) - r_t(x,y')``);
4. ``checkpoint/`` then ``train.json``: ``pi_{t+1}`` (Eq. 4) and its training summary.

``round_T/eval.json`` measures the final model. A run started again with the same command
skips finished stages; every stage is seeded by ``(seed, t, stage)``, so a resumed run writes
the same artefacts as one that was never stopped.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from srlm.errors import ConfigError
from srlm.io import atomic_write_text, manifest, remove_temporaries, write_json, write_npz
from srlm.lm.collect import Candidates, collect, evaluate
from srlm.lm.config import LMRunConfig, load_prompts
from srlm.lm.metrics import kl_estimates
from srlm.lm.pairs import Pair, build_pairs
from srlm.lm.policy import LMPolicy, load_policy, resolve_source
from srlm.lm.processes import process_state
from srlm.lm.records import round_dir, write_metrics
from srlm.lm.tiny import AdditionTask, verify
from srlm.lm.train import NonFiniteLoss, TrainConfig, train_round

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]
STAGES = ("eval", "collect", "pairs", "train")


def stage_seed(seed: int, t: int, stage: str) -> int:
    """The seed of one stage of one round."""
    return seed * 1_000_003 + t * 101 + STAGES.index(stage)


def prompt_pool(config: LMRunConfig) -> list[str]:
    """The prompts ``D`` is drawn from: the prompts file, else held-out addition prompts."""
    if config.prompts_file is not None:
        return load_prompts(config.prompts_file)
    return AdditionTask().heldout_prompts()


def model_hash(path: str) -> str | None:
    """sha256 of a model folder's weight files (None for a hub id not on disk)."""
    import hashlib

    folder = Path(path)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for file in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape an LM run."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("srlm", "torch", "transformers", "accelerate", "peft", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def prepare(config: LMRunConfig) -> tuple[LMPolicy, str, list[str]]:
    """Everything that can fail on bad input, done before anything is written to ``run_dir``."""
    pool = prompt_pool(config)
    if config.reward == "verifier" and all(verify(p, "") is None for p in pool[:50]):
        raise ConfigError(
            "reward", "verifier", "the built-in verifier checks addition prompts only"
        )
    _check_sinks(config.log_to)
    if config.threads is not None:
        import torch

        # On a shared CPU, more threads than free cores makes torch far slower, not faster.
        torch.set_num_threads(config.threads)
    source = resolve_source(config.model)
    try:
        policy = load_policy(source, config.use_chat_template)
    except OSError as err:
        raise ConfigError("model", config.model, f"cannot load ({_first_line(err)})") from None
    return policy, source, pool


def _check_sinks(log_to: Sequence[str]) -> None:
    import importlib.util

    for sink, module in (("tensorboard", "tensorboard"), ("wandb", "wandb")):
        if sink in log_to and importlib.util.find_spec(module) is None:
            raise ConfigError("log_to", sink, f"needs the {module} package, which is not installed")


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def write_manifest(run_dir: Path, config: LMRunConfig, source: str) -> None:
    """Write ``manifest.json``, or check that an existing one describes the same run."""
    record = manifest(
        config.model_dump(),
        config.seed,
        model_source=source,
        model_hash=model_hash(source),
        versions=package_versions(),
        processes=process_state().num_processes,
    )
    path = run_dir / "manifest.json"
    if path.exists():
        old, new = json.loads(path.read_text())["config"], json.loads(json.dumps(record["config"]))
        # Settings that do not change the artefacts may differ on resume.
        if _without(old, RESUME_FREE) != _without(new, RESUME_FREE):
            raise ConfigError("run_dir", str(run_dir), "holds a run with a different config")
        return
    write_json(path, record)


RESUME_FREE = ("threads", "log_to")


def _without(config: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in keys}


def run(config: LMRunConfig, progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run (or resume) ``T`` rounds; returns the metric rows ``0 .. T`` (row t describes pi_t)."""
    policy, source, pool = prepare(config)
    run_dir = Path(config.run_dir)
    start = _first_unfinished_round(run_dir, config.num_rounds)
    state = process_state()
    if state.is_main_process:  # before any process writes again
        for t in range(start, config.num_rounds + 1):
            remove_temporaries(round_dir(run_dir, t))  # left by a process killed mid-write
        remove_temporaries(run_dir)
    state.wait_for_everyone()
    write_manifest(run_dir, config, source)
    report = progress or (lambda stage, t: None)
    eval_prompts = pool[: config.eval_prompts]
    if start > 0:
        logger.info("resuming at round %d", start)
        policy = load_policy(
            str(round_dir(run_dir, start - 1) / "checkpoint"), policy.use_chat_template
        )
    initial = source if config.reference == "initial" else None

    for t in range(start, config.num_rounds):
        rd = round_dir(run_dir, t)
        report("eval", t)
        _stage_eval(rd, policy, eval_prompts, config, t)
        report("collect", t)
        cands = _stage_collect(rd, policy, pool, config, t, initial)
        report("pairs", t)
        pairs = _stage_pairs(rd, cands, config)
        report("train", t)
        policy = _stage_train(rd, policy, cands, pairs, config, t)
        write_metrics(run_dir, config)

    report("eval", config.num_rounds)
    _stage_eval(
        round_dir(run_dir, config.num_rounds), policy, eval_prompts, config, config.num_rounds
    )
    return write_metrics(run_dir, config)


def _first_unfinished_round(run_dir: Path, num_rounds: int) -> int:
    t = 0
    while t < num_rounds and (round_dir(run_dir, t) / "train.json").exists():
        t += 1
    return t


def _stage_eval(
    rd: Path, policy: LMPolicy, prompts: list[str], config: LMRunConfig, t: int
) -> None:
    if (rd / "eval.json").exists():
        return
    metrics, details = evaluate(policy, prompts, config, stage_seed(config.seed, t, "eval"), verify)
    atomic_write_text(rd / "eval_greedy.jsonl", "".join(json.dumps(d) + "\n" for d in details))
    write_json(rd / "eval.json", metrics)


def _stage_collect(
    rd: Path, policy: LMPolicy, pool: list[str], config: LMRunConfig, t: int, initial: str | None
) -> Candidates:
    if (rd / "rewards.npz").exists():
        lines = (rd / "candidates.jsonl").read_text().splitlines()
        return Candidates.from_records([json.loads(line) for line in lines])
    seed = stage_seed(config.seed, t, "collect")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(
        len(pool), size=config.prompts_per_round, replace=len(pool) < config.prompts_per_round
    )
    prompts = [pool[int(i)] for i in chosen]
    # The initial model is loaded only for this pass (reference = initial, after round 0).
    reference = load_policy(initial, policy.use_chat_template) if initial and t > 0 else None
    cands = collect(policy, prompts, config, seed, verify, reference)
    del reference
    write_json(rd / "prompts.json", prompts)
    text = "".join(json.dumps(rec) + "\n" for rec in cands.to_records())
    atomic_write_text(rd / "candidates.jsonl", text)
    write_npz(
        rd / "rewards.npz",
        logps=cands.logps,
        ref_logps=cands.ref_logps,
        rewards=cands.rewards,
        verifier=cands.verifier,
        collect_seconds=np.array(cands.seconds),
    )
    return cands


def _stage_pairs(rd: Path, cands: Candidates, config: LMRunConfig) -> list[Pair]:
    path = rd / "pairs.jsonl"
    if path.exists():
        return [Pair(**json.loads(line)) for line in path.read_text().splitlines()]
    pairs = build_pairs(
        cands.prompt_ids,
        cands.responses,
        cands.rewards,
        cands.ref_logps,
        config.pairing,
        config.ties,
    )
    atomic_write_text(path, "".join(json.dumps(p.to_dict()) + "\n" for p in pairs))
    return pairs


def train_config(config: LMRunConfig, t: int) -> TrainConfig:
    """The optimisation settings of round ``t``."""
    return TrainConfig(
        loss=config.loss,
        beta=config.beta,
        lr=config.lr,
        epochs=config.epochs,
        batch_size=config.batch_size,
        max_grad_norm=config.max_grad_norm,
        lora=config.lora,
        lora_r=config.lora_r,
        lora_alpha=config.lora_alpha,
        seed=stage_seed(config.seed, t, "train"),
    )


def _stage_train(
    rd: Path, policy: LMPolicy, cands: Candidates, pairs: list[Pair], config: LMRunConfig, t: int
) -> LMPolicy:
    checkpoint = rd / "checkpoint"
    if (rd / "train.json").exists():
        return load_policy(str(checkpoint), policy.use_chat_template)
    if not pairs:
        logger.warning("round %d has no pairs (all ties?): pi_{t+1} = pi_t", t)
    try:
        model, result = train_round(policy.model, pairs, train_config(config, t), policy.pad_id)
    except NonFiniteLoss:
        logger.error("round %d stopped: non-finite loss; last good checkpoint kept", t)
        raise
    new = LMPolicy(model, policy.tokenizer, policy.use_chat_template)

    # KL between pi_{t+1} and pi_t on the round's own samples (y ~ pi_t).
    flat_x = [x for x, row in zip(cands.prompt_ids, cands.responses, strict=True) for _ in row]
    flat_y = [y for row in cands.responses for y in row]
    new_logps = new.logps(flat_x, flat_y, config.generation_batch_size)
    summary = {
        "loss": result.loss,
        "reward_margin": result.margin,
        "train_steps": result.steps,
        "train_seconds": result.seconds,
        "train_pairs_per_s": len(pairs) * config.epochs / max(result.seconds, 1e-9),
        **kl_estimates(cands.logps.reshape(-1), new_logps),
    }
    _save_checkpoint(new, checkpoint)
    write_json(rd / "train.json", summary)
    return new


def _save_checkpoint(policy: LMPolicy, checkpoint: Path) -> None:
    """Save ``pi_{t+1}`` atomically (folder renamed into place), by the main process only."""
    state = process_state()
    if state.is_main_process:
        _write_checkpoint(policy, checkpoint)
    state.wait_for_everyone()


def _write_checkpoint(policy: LMPolicy, checkpoint: Path) -> None:
    tmp = checkpoint.with_name("checkpoint.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    policy.model.save_pretrained(tmp)
    policy.tokenizer.save_pretrained(tmp)
    if checkpoint.exists():
        shutil.rmtree(checkpoint)
    tmp.rename(checkpoint)
