"""Claim 3 (Theorem 5.3, transient term): the effect of ``kappa_0`` fades geometrically in ``T``.

Initial models with ``kappa_0`` from 2 to 24 run side by side; each round, the *spread* of
failure across them (max minus min, per seed) measures how much ``kappa_0`` still matters.
The theorem's transient term shrinks by ``(1 + sqrt(n c))^(-1/2)`` per round, so the spread
should fade at least that fast. The sweep covers several pairs per prompt ``n / P``: the
theorem's rate depends on ``n`` alone, so the lab can tell whether ``P`` matters too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from srlm.experiments.base import (
    Backend,
    Experiment,
    FloatArray,
    Rows,
    Status,
    Verdict,
    log_linear_rate,
    mean_ci,
    pick,
    select,
    trajectories,
    worst,
)
from srlm.experiments.runner import sweep
from srlm.report.figures import COLORS, band, finish, new_figure, theory


def sizes(profile: str) -> dict[str, Any]:
    """kappa_0 from 2 to 24 over Y = 32; ``n / P`` in 1/2 and 2; ``beta = n_max^(-1/2)``."""
    num_prompts = pick(profile, 256, 2048, 8192)
    ratios = pick(profile, [0.5, 2.0], [0.5, 2.0], [0.25, 0.5, 1.0, 2.0])
    ns = [round(r * num_prompts) for r in ratios]
    return {
        "base": {
            "num_prompts": num_prompts,
            "num_responses": 32,
            "num_rounds": pick(profile, 6, 10, 12),
            "beta": 1.0 / np.sqrt(max(ns)),
        },
        "ns": ns,
        "kappas": pick(
            profile, [2.0, 8.0, 24.0], [2.0, 4.0, 8.0, 16.0, 24.0], [2.0, 4.0, 8.0, 16.0, 24.0]
        ),
        "seeds": list(range(pick(profile, 3, 8, 10))),
    }


def run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Every round of every (n, kappa_0, seed) cell."""
    grid = {"pairs_per_round": params["ns"], "target_kappa": params["kappas"]}
    rows = sweep(params["base"], grid, params["seeds"], work_dir, backend)
    keep = ["pairs_per_round", "target_kappa", "seed", "round", "failure_rate"]
    keep += ["min_confidence_mode", "min_confidence_all"]
    return [{k: r[k] for k in keep} for r in rows]


def spread(rows: Rows, params: dict[str, Any], n: int) -> FloatArray:
    """(S, T + 1): per seed and round, max minus min failure across the initial models."""
    values = np.stack(
        [
            trajectories(rows, "failure_rate", params["seeds"], pairs_per_round=n, target_kappa=k)
            for k in params["kappas"]
        ]
    )  # (K, S, T + 1)
    return values.max(axis=0) - values.min(axis=0)


def theory_rate(rows: Rows, n: int) -> tuple[float, float, float, float]:
    """``(c_mode, c_all, rate_mode, rate_all)``: measured ``c`` and ``(1 + sqrt(n c))^(-1/2)``.

    ``c`` is the smallest probability over prompts, rounds and initial models at this ``n``,
    of the mode (``c_mode``) or of any action (``c_all``), the paper's two possible readings.
    """
    cells = select(rows, pairs_per_round=n)
    c_mode = min(float(r["min_confidence_mode"]) for r in cells)
    c_all = min(float(r["min_confidence_all"]) for r in cells)
    return c_mode, c_all, (1 + np.sqrt(n * c_mode)) ** -0.5, (1 + np.sqrt(n * c_all)) ** -0.5


def decay_window(values: FloatArray) -> list[int]:
    """Rounds from the peak of the mean spread on, while every seed's spread is positive."""
    start = int(np.argmax(values.mean(axis=0)))
    window = []
    for t in range(start, values.shape[1]):
        if not np.all(values[:, t] > 0):
            break
        window.append(t)
    return window


def _judge(rows: Rows, params: dict[str, Any], n: int) -> tuple[Status, str, dict[str, float]]:
    """One ``n``: its status, a sentence, and its numbers."""
    c_mode, _, rate_mode, rate_all = theory_rate(rows, n)
    ratio = n / params["base"]["num_prompts"]
    numbers = {f"n{n}_c_mode": c_mode, f"n{n}_theory": rate_mode, f"n{n}_theory_c_all": rate_all}
    values = spread(rows, params, n)
    window = decay_window(values)
    if len(window) < 3:
        return "inconclusive", f"n/P={ratio:g}: spread > 0 for {len(window)} rounds only", numbers
    rate, low, high = log_linear_rate(np.asarray(window, dtype=np.float64), values[:, window])
    numbers.update({f"n{n}_rate": rate, f"n{n}_rate_low": low, f"n{n}_rate_high": high})
    text = (
        f"n/P={ratio:g}: spread fades by {rate:.3g} [{low:.3g}, {high:.3g}] per round, theory "
        f"{rate_mode:.3g} (c = {c_mode:.2g}; {rate_all:.2g} with c over all actions)"
    )
    return ("contradicted" if low > rate_mode else "confirmed"), text, numbers


def verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Contradicted if, at some ``n``, the spread fades significantly slower than theory."""
    numbers: dict[str, float | str] = {"beta": float(params["base"]["beta"])}
    statuses: list[Status] = []
    parts = []
    for n in params["ns"]:
        status, text, values = _judge(rows, params, n)
        statuses.append(status)
        parts.append(text)
        numbers.update(values)
    return Verdict(worst(statuses), "; ".join(parts), numbers)


def plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """The spread against ``t`` per ``n`` with the theorem's rate; failure per ``kappa_0``."""
    fig, (ax0, ax1) = new_figure(2)
    num_prompts = params["base"]["num_prompts"]
    for color, n in zip(COLORS, params["ns"], strict=False):
        values = spread(rows, params, n)
        mean, low, high = mean_ci(values)
        t = np.arange(values.shape[1])
        label = f"spread, n/P={n / num_prompts:g}"
        band(ax0, t, np.maximum(mean, 1e-5), np.maximum(low, 1e-5), high, label, color)
        window = decay_window(values)
        if window:
            t_w = np.asarray(window, dtype=np.float64)
            rate = theory_rate(rows, n)[2]
            theory(ax0, t_w, mean[window[0]] * rate ** (t_w - t_w[0]), f"theory {rate:.2g}", color)
    ax0.set(xlabel="round t", ylabel="max - min failure across kappa_0", yscale="log")
    n = params["ns"][0]
    for color, k in zip(COLORS, params["kappas"], strict=False):
        failure = trajectories(
            rows, "failure_rate", params["seeds"], pairs_per_round=n, target_kappa=k
        )
        band(
            ax1, np.arange(failure.shape[1]), *mean_ci(failure), label=f"kappa_0={k:g}", color=color
        )
    ax1.set(xlabel="round t", ylabel=f"failure rate (n/P={n / num_prompts:g})")
    return finish(fig, [ax0, ax1], "Claim 3: the effect of kappa_0 fades in T")


EXPERIMENT = Experiment(
    number=3,
    name="03-kappa0-fades",
    title="dependence on kappa_0 fades geometrically",
    claim=(
        "The kappa_0 term of the bound decays geometrically in T, by (1 + sqrt(n c))^-1/2 per "
        "round."
    ),
    reference="Theorem 5.3 (transient term)",
    criterion=(
        "Spread = max - min failure across initial models kappa_0, per seed and round, for each "
        "n. Fit log spread against t (per-seed slopes, 95% t interval) from the round of largest "
        "mean spread on, while every seed's spread is > 0. Contradicted if, for some n, the "
        "measured per-round factor's interval lies above (1 + sqrt(n c))^-1/2 with c the "
        "smallest mode probability measured at that n (the stronger of the paper's two readings "
        "of c); inconclusive if some n has fewer than 3 rounds to fit; confirmed otherwise."
    ),
    sizes=sizes,
    run=run,
    verdict=verdict,
    plot=plot,
)
