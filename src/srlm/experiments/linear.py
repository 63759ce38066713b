"""Claim 7 (Theorem 6.2, Corollary 6.4): linear softmax, failure against ``d`` and ``d_eff``.

The bound's complexity term is ``d log(n B / rho)``, linear in ``d``; with a decaying
feature spectrum Corollary 6.4 replaces ``d`` by ``d_eff(lambda) = sum_j lambda_j /
(lambda_j + lambda)``. Here ``lambda = 1/n`` (the scale below which ``n`` samples cannot
resolve a direction), an assumption of this project: the paper does not fix ``lambda``.
The ``lambda_j`` are the eigenvalues of the covariance of the features each run actually
uses (rescaled to norm at most 1, so their trace is at most 1), not of the nominal spectrum
they were drawn from, which is on another scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from srlm.config import LabConfig, parse_config
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
from srlm.experiments.runner import BASE_CONFIG, final_rows, sweep
from srlm.instance import instance_of
from srlm.policies.linear import LinearSoftmaxPolicy
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
        "d_eff_of": "covariance of the features drawn, lambda = 1/n",
        "dims": pick(profile, [4, 16, 64], [2, 4, 8, 16, 32, 64], [2, 4, 8, 16, 32, 64, 128]),
        "spectra": list(SPECTRA),
        "seeds": list(range(pick(profile, 3, 12, 20))),
    }


def run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Final failure and ``d_eff(1/n)`` of the features for every (spectrum, d, seed)."""
    grid = {"spectrum": params["spectra"], "feature_dim": params["dims"]}
    rows = sweep(params["base"], grid, params["seeds"], work_dir, backend)
    keep = ("spectrum", "feature_dim", "seed", "failure_rate", "kappa")
    final = final_rows(rows, params["base"]["num_rounds"], keep)
    for row in final:
        fields = {"spectrum": row["spectrum"], "feature_dim": row["feature_dim"]}
        cfg = parse_config(
            LabConfig, {**BASE_CONFIG, **params["base"], **fields, "seed": row["seed"]}
        )
        row["d_eff"] = features_d_eff(cfg)
    return final


def features_d_eff(cfg: LabConfig) -> float:
    """``d_eff(1/n)`` of the covariance of the features a run with ``cfg`` uses."""
    instance = instance_of(cfg)
    assert isinstance(instance.pi_0, LinearSoftmaxPolicy)
    eigenvalues = np.linalg.eigvalsh(instance.pi_0.feature_covariance(instance.weights))
    return float(effective_dimension(np.clip(eigenvalues, 0.0, None), 1.0 / cfg.pairs_per_round))


def d_eff(rows: Rows, params: dict[str, Any], spectrum: str) -> FloatArray:
    """Mean ``d_eff(1/n)`` over seeds of each grid dimension for ``spectrum``."""
    values = matrix(
        select(rows, spectrum=spectrum), "d_eff", "feature_dim", params["dims"], params["seeds"]
    )
    return values.mean(axis=0)


def _failure(rows: Rows, params: dict[str, Any], spectrum: str) -> FloatArray:
    return matrix(
        select(rows, spectrum=spectrum),
        "failure_rate",
        "feature_dim",
        params["dims"],
        params["seeds"],
    )


def verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Two statements, each read as a log-log slope against its dimension.

    Theorem 6.2: the flat spectrum's failure grows at most linearly in ``d``. Corollary 6.4:
    each spectrum's failure grows at most linearly in ``d_eff``. Contradicted if either
    slope's interval lies above ``1 + SLOPE_TOLERANCE``; the slope of the exponential
    spectrum in ``d`` is reported beside them.
    """
    numbers: dict[str, float | str] = {"beta": float(params["base"]["beta"])}
    statuses: list[Status] = []
    parts: list[str] = []
    dims = np.asarray(params["dims"], dtype=np.float64)
    for spectrum in params["spectra"]:
        failure = _failure(rows, params, spectrum)
        numbers[f"{spectrum}_failure_dmax"] = float(failure[:, -1].mean())
        effective = d_eff(rows, params, spectrum)
        numbers[f"{spectrum}_d_eff_max"] = float(effective[-1])
        # (axis name, suffix of its numbers, x values, whether a bound speaks of this spectrum
        # on this axis)
        axes = [("d", "_d", dims, spectrum == "flat"), ("d_eff", "", effective, True)]
        for axis, suffix, x, tested in axes:
            fit, note, _ = positive_slope(x, failure)
            if fit is None:
                if tested:
                    statuses.append("inconclusive")
                parts.append(f"{spectrum} in {axis}: no fit ({note})")
                continue
            low, high = fit.slope_interval
            numbers.update(
                {
                    f"{spectrum}_slope{suffix}": fit.slope,
                    f"{spectrum}_low{suffix}": low,
                    f"{spectrum}_high{suffix}": high,
                }
            )
            too_fast = low > BOUND_EXPONENT + SLOPE_TOLERANCE
            if tested:
                statuses.append("contradicted" if too_fast else "confirmed")
            mark = " (faster than linear)" if tested and too_fast else ""
            parts.append(
                f"{spectrum}: slope in {axis} {fit.slope:.3g} [{low:.3g}, {high:.3g}]{mark}"
            )
    parts.append(
        f"failure at d={params['dims'][-1]}: flat {numbers['flat_failure_dmax']:.3g} "
        f"(d_eff {numbers['flat_d_eff_max']:.3g}), exp {numbers['exp_failure_dmax']:.3g} "
        f"(d_eff {numbers['exp_d_eff_max']:.3g})"
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
            d_eff(rows, params, spectrum),
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
    flat_d_eff = d_eff(rows, params, "flat")
    guide_eff = anchored_power(flat_d_eff[j:], BOUND_EXPONENT, flat_d_eff[j], max(flat[j], 1e-4))
    theory(ax1, flat_d_eff[j:], guide_eff, "linear in d_eff (constant unknown)")
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
        "Log-log slopes of the final failure, per-seed fits with a 95% t interval (d where a "
        "seed is at 0 dropped, or seed means fitted if fewer than 3 d remain). Theorem 6.2: "
        "the flat spectrum's slope in d. Corollary 6.4: each spectrum's (flat, exponential with "
        "rate 0.5) slope in d_eff(1/n), computed from the covariance of the features each run "
        "uses (norm at most 1, so trace at most 1) and averaged over seeds. Contradicted if an "
        f"interval lies entirely above 1 + {SLOPE_TOLERANCE} (growth faster than the bound's "
        "linear term); inconclusive if fewer than 3 points can be fitted; confirmed otherwise. "
        "The exponential spectrum's slope in d is reported, not tested."
    ),
    sizes=sizes,
    run=run,
    verdict=verdict,
    plot=plot,
)
