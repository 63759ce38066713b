"""The round loop: ``pi_0 -> pi_1 -> ... -> pi_T`` (the paper's algorithm), one row per round.

Each round t:
1. draws ``n`` prompts ``x ~ D`` and two responses ``y, y' ~ pi_t(.|x)``;
2. labels each pair with the self-reward difference ``r_t(x, y) - r_t(x, y')`` (Eq. 1);
3. fits ``pi_{t+1}`` to the labels with the configured solver (Eqs. 3-4, or Eq. 2's optimum);
4. measures ``pi_t`` exactly (section 2) and, with a run directory, saves the round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from srlm.config import LabConfig
from srlm.instance import Instance, build_instance, seed_streams
from srlm.io import manifest, write_csv, write_json, write_npz
from srlm.metrics import accuracy, policy_metrics, sampled_kappa, step_metrics, token_metrics
from srlm.policies.base import Policy
from srlm.rewards import SelfReward, make_reward
from srlm.sampling import sample_pairs
from srlm.update.erm import Pairs, UpdateResult, exact_update
from srlm.update.gradient import gradient_update
from srlm.update.population import population_update

logger = logging.getLogger(__name__)

Row = dict[str, float]


def update_step(
    cfg: LabConfig,
    pi_t: Policy,
    pi_ref: Policy,
    pairs: Pairs,
    reward: SelfReward,
    rng: np.random.Generator,
) -> UpdateResult:
    """Step 3 of a round: the configured solver applied to this round's pairs."""
    if cfg.solver == "exact":
        return exact_update(pi_t, pi_ref, pairs, cfg.beta, reward.potential(pi_t))
    if cfg.solver == "gradient":
        return gradient_update(
            pi_t,
            pi_ref,
            pairs,
            cfg.beta,
            loss=cfg.loss,
            steps=cfg.grad_steps,
            learning_rate=cfg.learning_rate,
            batch_size=cfg.batch_size,
            rng=rng,
        )
    node_reward = reward.node_reward(pi_t)
    assert node_reward is not None  # the config forbids population with pair-only rewards
    return UpdateResult(population_update(pi_t, pi_ref, cfg.beta, node_reward), 0.0)


def run_rounds(
    cfg: LabConfig,
    instance: Instance | None = None,
    run_dir: Path | None = None,
    on_round: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Run ``T`` rounds for ``cfg.seed`` and return rows ``t = 0 .. T`` describing ``pi_t``.

    Args:
        cfg: The run's configuration.
        instance: Start from this instance instead of building one from ``cfg``.
        run_dir: If given, write the manifest and ``rounds.csv`` there and, with
            ``save_rounds``, the instance (``pi_0``, weights, planted answers, features) and
            each round's pairs and parameters.
        on_round: Called with each row as it is made (progress reporting).
    """
    instance_rng, data_rng = seed_streams(cfg.seed)
    if instance is None:
        instance = build_instance(cfg, instance_rng)
    reward = make_reward(cfg.reward, cfg.noise_std, cfg.judge_levels)
    if run_dir is not None:
        _save_instance(run_dir, cfg, instance)

    rows: list[Row] = []
    pi_t, pi_prev, last = instance.pi_0, None, None
    for t in range(cfg.num_rounds + 1):
        # Steps 1-2: this round's data and self-reward labels (row T uses them only to measure).
        pairs = _collect(cfg, pi_t, instance, reward, data_rng)
        rows.append(_row(t, cfg, instance, pi_t, pi_prev, last, pairs))
        if run_dir is not None and cfg.save_rounds:
            write_npz(run_dir / "rounds" / f"round_{t:03d}.npz", **_round_arrays(pi_t, pairs))
        if on_round is not None:
            on_round(rows[-1])
        if t == cfg.num_rounds:
            break

        # Step 3: fit pi_{t+1}.
        pi_ref = pi_t if cfg.reference == "current" else instance.pi_0
        last = update_step(cfg, pi_t, pi_ref, pairs, reward, data_rng)
        pi_prev, pi_t = pi_t, last.policy

    if run_dir is not None:
        write_csv(run_dir / "rounds.csv", rows)
    return rows


def _collect(
    cfg: LabConfig,
    pi_t: Policy,
    instance: Instance,
    reward: SelfReward,
    rng: np.random.Generator,
) -> Pairs:
    x, y, y_prime = sample_pairs(pi_t, instance.weights, cfg.pairs_per_round, rng)
    return Pairs(x, y, y_prime, reward.pair_target(pi_t, x, y, y_prime, rng))


def _row(
    t: int,
    cfg: LabConfig,
    instance: Instance,
    pi_t: Policy,
    pi_prev: Policy | None,
    last: UpdateResult | None,
    pairs: Pairs,
) -> Row:
    """Step 4: the exact measurements of ``pi_t`` (flat column names, see metrics.COLUMNS)."""
    weights = instance.weights
    row: Row = {"round": t, **policy_metrics(pi_t, weights, cfg.failure_threshold)}
    if pi_prev is None:
        row.update(kl_step=float("nan"), mode_changes=0.0)
    else:
        row.update(step_metrics(pi_t, pi_prev, weights))
    row["erm_residual"] = last.erm_residual if last is not None else float("nan")
    row["accuracy"] = accuracy(pi_t, weights, instance.correct)
    row["kappa_sampled"] = sampled_kappa(pi_t, pairs)
    row.update(token_metrics(pi_t, weights))
    return row


def _round_arrays(pi_t: Policy, pairs: Pairs) -> dict[str, Any]:
    """What a saved round holds: the pairs drawn from ``pi_t`` and ``pi_t``'s parameters."""
    return {
        "x": pairs.x,
        "y": pairs.y,
        "y_prime": pairs.y_prime,
        "reward_diff": pairs.reward_diff,
        **{f"param_{name}": value for name, value in pi_t.params.items()},
    }


def _save_instance(run_dir: Path, cfg: LabConfig, instance: Instance) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "manifest.json", manifest(cfg.model_dump(), cfg.seed))
    if not cfg.save_rounds:  # the instance is only needed to re-check saved rounds
        return
    arrays: dict[str, Any] = {"weights": instance.weights}
    if instance.correct is not None:
        arrays["correct"] = instance.correct
    arrays.update({f"param_{k}": v for k, v in instance.pi_0.params.items()})
    if hasattr(instance.pi_0, "phi"):
        arrays["phi"] = instance.pi_0.phi
    write_npz(run_dir / "instance.npz", **arrays)
