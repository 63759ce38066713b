"""Claim 2 (Theorem 5.3): failure after ``T`` rounds shrinks with ``n``.

Claim 2 sweeps ``n`` for each self-reward channel at a fixed number of rounds and fits the
log-log slope of the final failure rate. The theorem is an upper bound of order ``n^(-1/2)``:
a faster measured decay agrees with it, a significantly slower one contradicts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from srlm.experiments.base import (
    SLOPE_TOLERANCE,
    Backend,
    Experiment,
    Rows,
    Status,
    Verdict,
    log_band,
    matrix,
    pick,
    positive_slope,
    select,
    worst,
)
from srlm.experiments.runner import final_rows, sweep
from srlm.report.figures import (
    COLORS,
    anchored_power,
    finish,
    new_figure,
    theory,
)

CHANNELS = ("loglik", "noisy", "quantised")
THEORY_SLOPE = -0.5
FIT_MAX_FAILURE = 0.5  # above it the bound is vacuous at any constant worth the name

# --- Claim 2: failure against n ------------------------------------------------------------


def rate_sizes(profile: str) -> dict[str, Any]:
    """``n / P`` from 1/2 to 32 in steps of sqrt(2); ``beta = n_max^(-1/2)`` for every cell."""
    num_prompts = pick(profile, 256, 2048, 8192)
    ratios = 2.0 ** np.arange(-1.0, 5.01, pick(profile, 1.0, 0.5, 0.5))
    ns = sorted({round(r * num_prompts) for r in ratios})
    return {
        "base": {
            "num_prompts": num_prompts,
            "num_responses": 16,
            "target_kappa": 8.0,
            "num_rounds": 2,
            "beta": 1.0 / np.sqrt(max(ns)),
            "noise_std": 0.1,
            "judge_levels": 5,
        },
        "ns": ns,
        "channels": list(CHANNELS),
        "seeds": list(range(pick(profile, 3, 6, 10))),
    }


def rate_run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Final-round failure of every (channel, n, seed) cell."""
    grid = {"reward": params["channels"], "pairs_per_round": params["ns"]}
    rows = sweep(params["base"], grid, params["seeds"], work_dir, backend)
    keep = ("reward", "pairs_per_round", "seed", "failure_rate", "kappa")
    return final_rows(rows, params["base"]["num_rounds"], keep)


def _channel_fit(rows: Rows, params: dict[str, Any], channel: str) -> tuple[Any, str, list[int]]:
    """The slope fit of one channel over the points with mean failure in (0, 1/2]."""
    ns = params["ns"]
    failure = matrix(
        select(rows, reward=channel), "failure_rate", "pairs_per_round", ns, params["seeds"]
    )
    usable = [j for j in range(len(ns)) if failure[:, j].mean() <= FIT_MAX_FAILURE]
    fit, note, kept = positive_slope([ns[j] for j in usable], failure[:, usable])
    return fit, note, [usable[j] for j in kept]


def rate_verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Per channel: contradicted if the slope's interval lies above -1/2."""
    numbers: dict[str, float | str] = {"beta": float(params["base"]["beta"])}
    statuses: list[Status] = []
    parts: list[str] = []
    for channel in params["channels"]:
        fit, note, kept = _channel_fit(rows, params, channel)
        if fit is None:
            statuses.append("inconclusive")
            parts.append(f"{channel}: no fit ({note})")
            continue
        low, high = fit.slope_interval
        numbers.update(
            {f"{channel}_slope": fit.slope, f"{channel}_low": low, f"{channel}_high": high}
        )
        numbers[f"{channel}_points"] = float(len(kept))
        statuses.append("contradicted" if low > THEORY_SLOPE + SLOPE_TOLERANCE else "confirmed")
        parts.append(f"{channel}: slope {fit.slope:.3g} [{low:.3g}, {high:.3g}]")
    status = worst(statuses)
    return Verdict(
        status, "; ".join(parts) + f" (against {THEORY_SLOPE} + {SLOPE_TOLERANCE})", numbers
    )


def rate_plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """Failure against ``n`` (log-log) per channel, ``n^(-1/2)`` through the first fitted point."""
    ns = np.asarray(params["ns"], dtype=np.float64)
    fig, (ax,) = new_figure()
    for color, channel in zip(COLORS, params["channels"], strict=False):
        failure = matrix(
            select(rows, reward=channel),
            "failure_rate",
            "pairs_per_round",
            params["ns"],
            params["seeds"],
        )
        mean = log_band(ax, ns, failure, channel, color)
        fit, _, kept = _channel_fit(rows, params, channel)
        if fit is not None:
            line = anchored_power(ns[kept], THEORY_SLOPE, ns[kept[0]], mean[kept[0]])
            theory(ax, ns[kept], line, f"n^-1/2 through {channel}'s first fitted point", color)
    ax.set(xscale="log", yscale="log", xlabel="pairs per round n", ylabel="failure after T rounds")
    return finish(fig, [ax], "Claim 2: failure against n (Theorem 5.3)")


RATE = Experiment(
    number=2,
    name="02-failure-vs-n",
    title="failure shrinks with n",
    claim="Failure after T rounds is O(n^-1/2) (up to logs), for every self-reward channel.",
    reference="Theorem 5.3",
    criterion=(
        "For each channel (exact log-likelihood, noisy, quantised judge) fit the log-log slope of "
        "the final failure rate against n over the n whose mean failure is in "
        f"(0, {FIT_MAX_FAILURE}] "
        "(per-seed fits, 95% t interval; n where a seed is at 0 dropped, "
        "or seed means fitted if fewer than 3 n remain). Contradicted if any "
        f"channel's interval lies entirely above -1/2 + {SLOPE_TOLERANCE} (decay significantly "
        "slower than the "
        "bound); inconclusive if a channel has fewer than 3 usable n; confirmed otherwise."
    ),
    sizes=rate_sizes,
    run=rate_run,
    verdict=rate_verdict,
    plot=rate_plot,
)
