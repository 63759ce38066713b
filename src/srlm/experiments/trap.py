"""Claim 6 (Proposition 4.3): greedy decoding misses the optimal sequence, at first.

Each prompt's initial token model is the trap of :func:`greedy_trap_conditionals` (tokens
relabelled per prompt): greedy decoding takes a first token that beats the optimal one and
ends on a worse sequence. The rounds then sharpen the sequence distribution ``pi_t(y|x)``
towards its mode; once the mode's probability exceeds 1/2, greedy decoding must find it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from srlm.config import LabConfig
from srlm.experiments.base import (
    Backend,
    Experiment,
    Rows,
    Verdict,
    mean_ci,
    pick,
    trajectories,
)
from srlm.experiments.runner import BASE_CONFIG
from srlm.instance import Instance
from srlm.loop import run_rounds
from srlm.policies.token import TokenPolicy
from srlm.report.figures import COLORS, band, finish, new_figure, theory
from srlm.theory.constructions import greedy_trap_conditionals, optimal_sequence

MAX_INITIAL_MATCH = 0.01  # the construction must defeat greedy on (almost) every prompt


def sizes(profile: str) -> dict[str, Any]:
    """``V = 3``, ``L = 3``; ``n / P = 4``; ``beta = n^(-1/2)``."""
    num_prompts = pick(profile, 16, 64, 256)
    n = 4 * num_prompts
    return {
        "vocab_size": 3,
        "seq_len": 3,
        "num_prompts": num_prompts,
        "trap_ratio": 1.5,
        "tail": 0.9,
        "tilt": 0.1,
        "pairs_per_round": n,
        "num_rounds": pick(profile, 3, 6, 8),
        "beta": 1 / np.sqrt(n),
        "seeds": list(range(pick(profile, 2, 5, 20))),
    }


def run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Every round of every seed, started from the trap."""
    rows = []
    for seed in params["seeds"]:
        conditionals = greedy_trap_conditionals(
            params["vocab_size"],
            params["seq_len"],
            num_prompts=params["num_prompts"],
            trap_ratio=params["trap_ratio"],
            tail=params["tail"],
            tilt=params["tilt"],
            rng=seed,
        )
        pi_0 = TokenPolicy.from_conditionals(conditionals)
        optimum, _ = optimal_sequence(conditionals)
        weights = np.full(params["num_prompts"], 1 / params["num_prompts"])
        cfg = LabConfig(
            **{**BASE_CONFIG, "policy": "token"},
            vocab_size=params["vocab_size"],
            seq_len=params["seq_len"],
            num_prompts=params["num_prompts"],
            pairs_per_round=params["pairs_per_round"],
            num_rounds=params["num_rounds"],
            beta=params["beta"],
            seed=seed,
        )
        for row in run_rounds(cfg, instance=Instance(pi_0, weights, optimum)):
            keep = ("round", "greedy_matches_mode", "accuracy", "failure_rate", "mode_prob_mean")
            rows.append({"seed": seed, **{k: row[k] for k in keep}})
    return rows


def verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Contradicted if greedy finds the mode at ``t = 0``; the rounds' effect is reported."""
    match = trajectories(rows, "greedy_matches_mode", params["seeds"])  # (S, T + 1)
    optimum = trajectories(rows, "accuracy", params["seeds"])
    mean_T, low_T, high_T = mean_ci(match[:, -1])
    numbers: dict[str, float | str] = {
        "greedy_finds_mode_t0": float(match[:, 0].mean()),
        "greedy_finds_mode_T": float(mean_T),
        "greedy_finds_mode_T_low": float(low_T),
        "mode_is_initial_optimum_T": float(optimum[:, -1].mean()),
        "beta": float(params["beta"]),
    }
    if match[:, 0].mean() > MAX_INITIAL_MATCH:
        return Verdict("contradicted", "greedy decoding finds the mode of pi_0", numbers)
    reason = (
        f"greedy misses the optimal sequence on {1 - match[:, 0].mean():.0%} of prompts at t=0; "
        f"after T={params['num_rounds']} rounds it finds the mode on {float(mean_T):.0%} "
        f"[{float(low_T):.0%}, {float(high_T):.0%}], and that mode is pi_0's optimum on "
        f"{optimum[:, -1].mean():.0%}"
    )
    return Verdict("confirmed", reason, numbers)


def plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """Share of prompts where greedy finds the mode, and mode probability, against ``t``."""
    fig, (ax,) = new_figure()
    t = np.arange(params["num_rounds"] + 1)
    for color, (column, label) in zip(
        COLORS,
        [
            ("greedy_matches_mode", "greedy finds the mode"),
            ("accuracy", "mode = pi_0's optimal sequence"),
            ("mode_prob_mean", "mean mode probability"),
        ],
        strict=False,
    ):
        band(ax, t, *mean_ci(trajectories(rows, column, params["seeds"])), label=label, color=color)
    theory(ax, t, np.full(t.size, 0.5), "1/2: above it greedy must find the mode")
    ax.set(xlabel="round t", ylabel="share of prompts / probability", ylim=(-0.05, 1.05))
    return finish(fig, [ax], "Claim 6: the greedy trap under self-rewarding")


EXPERIMENT = Experiment(
    number=6,
    name="06-greedy-trap",
    title="greedy trap",
    claim=(
        "Greedy decoding can miss a unique optimal sequence of probability <= 1/2; rounds "
        "of self-rewarding change that."
    ),
    reference="Proposition 4.3 (construction reconstructed)",
    criterion=(
        f"Contradicted if greedy decoding finds pi_0's mode on more than {MAX_INITIAL_MATCH:.0%} "
        "of prompts at t = 0; otherwise confirmed, with the share of prompts where greedy finds "
        "the mode after T rounds (95% t interval over seeds) and whether that mode is still "
        "pi_0's optimum reported as the rounds' effect."
    ),
    sizes=sizes,
    run=run,
    verdict=verdict,
    plot=plot,
)
