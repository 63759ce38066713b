"""Claim 1 (Lemmas C.3-C.4): ``kappa_t`` contracts geometrically to a fixed point.

The measured trajectories are fitted with ``kappa_t = kappa* + q^t (kappa_0 - kappa*)``
(:func:`srlm.theory.fits.fit_kappa_trajectory`). The lemma's constants ``A, B, C`` are not
recoverable, so the recursion's bound is drawn with a *fitted envelope*: ``C = 0`` and ``B'``
from a least-squares fit of ``kappa_{t+1}`` on ``sqrt(kappa_t)`` over every measured step,
then ``A`` raised until ``kappa_{t+1} <= A + B' sqrt(kappa_t)`` holds on every measured step.
Iterating that map from ``kappa_0`` gives Lemma C.3's chain of bounds.
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
    Verdict,
    mean_ci,
    pick,
    trajectories,
)
from srlm.experiments.runner import sweep
from srlm.report.figures import COLORS, MEASURED, band, finish, new_figure, theory
from srlm.theory.bounds import iterate_kappa_recursion
from srlm.theory.fits import fit_kappa_trajectory

MAX_LOG_RMS = 0.25  # a geometric model that misses log kappa_t by more does not describe it


def sizes(profile: str) -> dict[str, Any]:
    """Sizes: ``n / P = 2``, so that a round reaches most prompts, a few stay unsampled."""
    n = pick(profile, 64, 512, 2048)
    return {
        "base": {
            "num_prompts": n // 2,
            "num_responses": 32,
            "target_kappa": 16.0,
            "pairs_per_round": n,
            "num_rounds": pick(profile, 5, 10, 12),
            "beta": 1.0 / np.sqrt(n),
        },
        "seeds": list(range(pick(profile, 3, 6, 20))),
    }


def run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """One sweep cell per seed; all rounds kept."""
    rows = sweep(params["base"], {}, params["seeds"], work_dir, backend)
    return [{"seed": r["seed"], "round": r["round"], "kappa": r["kappa"]} for r in rows]


def envelope(kappas: FloatArray) -> tuple[float, float]:
    """``(A, B')`` with ``kappa_{t+1} <= A + B' sqrt(kappa_t)`` on every measured step."""
    k_now, k_next = kappas[:, :-1].ravel(), kappas[:, 1:].ravel()
    design = np.column_stack([np.ones_like(k_now), np.sqrt(k_now)])
    coef, *_ = np.linalg.lstsq(design, k_next, rcond=None)
    b_prime = max(float(coef[1]), 0.0)
    a = float(np.max(k_next - b_prime * np.sqrt(k_now)))
    return max(a, 0.0), b_prime


def verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Confirmed if ``q``'s interval lies below 1, the fit describes the data, and kappa fell."""
    kappas = trajectories(rows, "kappa", params["seeds"])  # (S, T + 1)
    fit = fit_kappa_trajectory(kappas)
    a, b_prime = envelope(kappas)
    bound = iterate_kappa_recursion(kappas[:, 0].mean(), kappas.shape[1] - 1, a, b_prime, 0.0)
    _, _, high_T = mean_ci(kappas[:, -1] - kappas[:, 0])
    numbers: dict[str, float | str] = {
        "kappa_0": float(kappas[:, 0].mean()),
        "kappa_T": float(kappas[:, -1].mean()),
        "kappa_star": fit.kappa_star,
        "kappa_star_low": fit.kappa_star_interval[0],
        "kappa_star_high": fit.kappa_star_interval[1],
        "q": fit.q,
        "q_low": fit.q_interval[0],
        "q_high": fit.q_interval[1],
        "log_rms": fit.residual_rms,
        "envelope_A": a,
        "envelope_B_prime": b_prime,
        "envelope_holds": str(bool(np.all(kappas.mean(axis=0) <= bound * (1 + 1e-9)))),
        "beta": float(params["base"]["beta"]),
    }
    if high_T >= 0:
        reason = "kappa_T is not significantly below kappa_0: no contraction"
        return Verdict("contradicted", reason, numbers)
    if not np.isfinite(fit.q_interval[1]) or fit.residual_rms > MAX_LOG_RMS:
        reason = f"the geometric fit is unidentified or poor (log RMS {fit.residual_rms:.3g})"
        return Verdict("inconclusive", reason, numbers)
    if fit.q_interval[1] >= 1.0:
        return Verdict("inconclusive", "q's 95% interval reaches 1", numbers)
    reason = (
        f"kappa falls from {numbers['kappa_0']:.3g} towards kappa* = {fit.kappa_star:.3g} at "
        f"q = {fit.q:.3g} [{fit.q_interval[0]:.3g}, {fit.q_interval[1]:.3g}] per round"
    )
    if fit.kappa_star < 1:
        reason += " (kappa* below 1, where kappa cannot go: one exponential only approximates)"
    if fit.q > 0.5:
        # Not a contradiction: the lemma bounds kappa_T from above with unknown A, B, C.
        reason += " (above the reconstructed closed form's q <= 1/2, which only bounds kappa_T)"
    return Verdict("confirmed", reason, numbers)


def plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """``kappa_t`` against ``t`` (log scale), the fit, the fitted envelope and ``kappa*``."""
    kappas = trajectories(rows, "kappa", params["seeds"])
    fit = fit_kappa_trajectory(kappas)
    a, b_prime = envelope(kappas)
    t = np.arange(kappas.shape[1])
    fig, (ax,) = new_figure()
    band(ax, t, *mean_ci(kappas), label=MEASURED, color=COLORS[0])
    k0 = kappas[:, 0].mean()
    theory(ax, t, fit.kappa_star + fit.q**t * (k0 - fit.kappa_star), "fit k* + q^t (k0 - k*)")
    chain = iterate_kappa_recursion(k0, t.size - 1, a, b_prime, 0.0)
    theory(ax, t, chain, f"Lemma C.3 chain, A={a:.2g}, B'={b_prime:.2g} (fitted)", COLORS[1])
    ax.axhline(fit.kappa_star, color="grey", linewidth=0.8, label="fitted kappa*")
    ax.set(xlabel="round t", ylabel="kappa_t", yscale="log")
    return finish(fig, [ax], "Claim 1: kappa_t contracts to a fixed point")


EXPERIMENT = Experiment(
    number=1,
    name="01-kappa-contraction",
    title="kappa_t contracts geometrically",
    claim="kappa_t approaches a fixed point kappa* geometrically, at a rate q < 1 per round.",
    reference="Lemmas C.3-C.4 (the kappa recursion)",
    criterion=(
        "Fit kappa_t = kappa* + q^t (kappa_0 - kappa*) to all seeds (log residuals, jackknife "
        "95% intervals). Contradicted if kappa_T - kappa_0 is not significantly negative. "
        f"Confirmed if q's interval lies below 1 and the fit's log RMS is at most {MAX_LOG_RMS}; "
        "otherwise inconclusive. The envelope A + B' sqrt(kappa) is fitted (A, B, C are "
        "unknown) and shown, not judged."
    ),
    sizes=sizes,
    run=run,
    verdict=verdict,
    plot=plot,
)
