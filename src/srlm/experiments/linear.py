"""Claim 7 (Theorem 6.2, Corollary 6.4): linear softmax, failure against ``d`` and ``d_eff``.

The bound's complexity term is ``d log(n B / rho)``, linear in ``d``; with a decaying
feature spectrum Corollary 6.4 replaces ``d`` by ``d_eff(lambda) = sum_j lambda_j /
(lambda_j + lambda)``. Here ``lambda = 1/n`` (the scale below which ``n`` samples cannot
resolve a direction), an assumption of this project: the paper does not fix ``lambda``.
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
    FloatArray,
    Rows,
    Status,
    Verdict,
    matrix,
    mean_ci,
    pick,
    positive_slope,
    select,
    worst,
)
from srlm.experiments.runner import final_rows, sweep
from srlm.policies.linear import spectrum_eigenvalues
from srlm.report.figures import COLORS, anchored_power, band, finish, new_figure, theory
from srlm.theory.bounds import effective_dimension

SPECTRA = ("flat", "exp")
BOUND_EXPONENT = 1.0  # the complexity term is linear in d (or d_eff)


def sizes(profile: str) -> dict[str, Any]:
    """Few pairs (``n = 16``) so that ``d`` matters; ``beta = 1/8 <= n^(-1/2)``."""
    return {
        "base": {
            "policy": "linear",
            "num_prompts": pick(profile, 128, 1024, 2048),
            "num_responses": 16,
            "target_kappa": 8.0,
            "pairs_per_round": 16,
            "num_rounds": 2,
            "beta": 0.125,
            "spectrum_rate": 0.5,
        },
        "dims": pick(profile, [4, 16, 64], [2, 4, 8, 16, 32, 64], [2, 4, 8, 16, 32, 64, 128]),
        "spectra": list(SPECTRA),
        "seeds": list(range(pick(profile, 3, 12, 20))),
    }


def run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Final failure for every (spectrum, d, seed)."""
    grid = {"spectrum": params["spectra"], "feature_dim": params["dims"]}
    rows = sweep(params["base"], grid, params["seeds"], work_dir, backend)
    keep = ("spectrum", "feature_dim", "seed", "failure_rate", "kappa")
    return final_rows(rows, params["base"]["num_rounds"], keep)


def d_eff(params: dict[str, Any], spectrum: str) -> FloatArray:
    """``d_eff(1/n)`` of each grid dimension for ``spectrum``."""
    base = params["base"]
    lam = 1.0 / base["pairs_per_round"]
    values = []
    for d in params["dims"]:
        eigenvalues = spectrum_eigenvalues(spectrum, d, base["spectrum_rate"], 2)
        values.append(float(effective_dimension(eigenvalues, lam)))
    return np.array(values)


def _failure(rows: Rows, params: dict[str, Any], spectrum: str) -> FloatArray:
    return matrix(
        select(rows, spectrum=spectrum),
        "failure_rate",
        "feature_dim",
        params["dims"],
        params["seeds"],
    )


def verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Contradicted if failure grows faster than linearly in ``d_eff`` (about ``d`` if flat)."""
    numbers: dict[str, float | str] = {"beta": float(params["base"]["beta"])}
    statuses: list[Status] = []
    parts: list[str] = []
    for spectrum in params["spectra"]:
        failure = _failure(rows, params, spectrum)
        numbers[f"{spectrum}_failure_dmax"] = float(failure[:, -1].mean())
        numbers[f"{spectrum}_d_eff_max"] = float(d_eff(params, spectrum)[-1])
        fit, note, _ = positive_slope(d_eff(params, spectrum), failure)
        if fit is None:
            statuses.append("inconclusive")
            parts.append(f"{spectrum}: no fit ({note})")
            continue
        low, high = fit.slope_interval
        numbers.update(
            {f"{spectrum}_slope": fit.slope, f"{spectrum}_low": low, f"{spectrum}_high": high}
        )
        statuses.append("contradicted" if low > BOUND_EXPONENT + SLOPE_TOLERANCE else "confirmed")
        parts.append(f"{spectrum}: slope in d_eff {fit.slope:.3g} [{low:.3g}, {high:.3g}]")
    parts.append(
        f"failure at d={params['dims'][-1]}: flat {numbers['flat_failure_dmax']:.3g}, "
        f"exp {numbers['exp_failure_dmax']:.3g}"
    )
    status = worst(statuses)
    return Verdict(status, "; ".join(parts), numbers)


def plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """Failure against ``d`` and against ``d_eff`` for both spectra, with a linear-in-d guide."""
    dims = np.asarray(params["dims"], dtype=np.float64)
    fig, (ax0, ax1) = new_figure(2)
    for color, spectrum in zip(COLORS, params["spectra"], strict=False):
        mean, low, high = mean_ci(_failure(rows, params, spectrum))
        floor = np.maximum(low, 1e-4)
        band(ax0, dims, np.maximum(mean, 1e-4), floor, high, f"{spectrum} spectrum", color)
        band(
            ax1,
            d_eff(params, spectrum),
            np.maximum(mean, 1e-4),
            floor,
            high,
            f"{spectrum} spectrum",
            color,
        )
    flat = _failure(rows, params, "flat").mean(axis=0)
    j = int(np.argmax(flat > 0)) if np.any(flat > 0) else 0
    guide = anchored_power(dims[j:], BOUND_EXPONENT, dims[j], max(flat[j], 1e-4))
    theory(ax0, dims[j:], guide, "bound's d log(nB/rho) shape (constant unknown)")
    ax0.set(
        xscale="log", yscale="log", xlabel="feature dimension d", ylabel="failure after T rounds"
    )
    ax1.set(
        xscale="log", yscale="log", xlabel="d_eff(1/n) (Cor. 6.4)", ylabel="failure after T rounds"
    )
    return finish(fig, [ax0, ax1], "Claim 7: linear softmax, failure against d and d_eff")


EXPERIMENT = Experiment(
    number=7,
    name="07-linear-softmax",
    title="linear softmax: d and d_eff",
    claim=(
        "For linear softmax, failure grows at most like d (flat spectrum) or d_eff "
        "(decaying spectrum)."
    ),
    reference="Theorem 6.2, Corollary 6.4",
    criterion=(
        "For each spectrum (flat, exponential with rate 0.5), fit the log-log slope of the final "
        "failure against d_eff(1/n) (equal to about d for the flat spectrum; per-seed fits, 95% t "
        "interval, d where a seed is at 0 dropped, "
        "or seed means fitted if fewer than 3 d remain). Contradicted if an interval lies entirely "
        f"above 1 + {SLOPE_TOLERANCE} (growth faster than the bound's linear term); "
        "inconclusive if fewer than 3 "
        "points can be fitted; confirmed otherwise."
    ),
    sizes=sizes,
    run=run,
    verdict=verdict,
    plot=plot,
)
