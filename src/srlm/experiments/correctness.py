"""Claims 9 and 10: self-consistency is not correctness; the reference policy of the KL term.

Claim 9 starts from a model whose mode is wrong on a quarter of the prompts (the planted
correct answer is its runner-up there) and tracks failure (self-consistency, what the theory
bounds) beside accuracy (agreement with the planted answers, what the theory does not).
Claim 10 compares the paper's reference ``pi_t`` with the common ``pi_0``, at the
assumption's ``beta = n^(-1/2)`` and at a larger ``beta = 1/2`` outside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from srlm.experiments.base import (
    Backend,
    Experiment,
    Rows,
    Verdict,
    mean_ci,
    pick,
    trajectories,
)
from srlm.experiments.runner import sweep
from srlm.report.figures import COLORS, band, finish, new_figure, theory

WRONG_FRACTION = 0.25
REPAIR_TOLERANCE = 0.05  # an accuracy gain above this counts as repairing wrong answers


def _base(profile: str) -> dict[str, Any]:
    num_prompts = pick(profile, 128, 512, 2048)
    n = 2 * num_prompts
    return {
        "num_prompts": num_prompts,
        "num_responses": 16,
        "target_kappa": 8.0,
        "pairs_per_round": n,
        "num_rounds": pick(profile, 4, 8, 10),
        "beta": 1 / np.sqrt(n),
    }


# --- Claim 9 -------------------------------------------------------------------------------


def lock_sizes(profile: str) -> dict[str, Any]:
    """A quarter of the prompts with a wrong mode; ``n / P = 2``; ``beta = n^(-1/2)``."""
    return {
        "base": {**_base(profile), "wrong_fraction": WRONG_FRACTION},
        "seeds": list(range(pick(profile, 2, 8, 20))),
    }


def lock_run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Every round of every seed."""
    rows = sweep(params["base"], {}, params["seeds"], work_dir, backend)
    keep = ("seed", "round", "failure_rate", "accuracy", "kappa")
    return [{k: r[k] for k in keep} for r in rows]


def lock_verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Confirmed if failure falls while accuracy does not rise beyond the tolerance."""
    failure = trajectories(rows, "failure_rate", params["seeds"])
    accuracy = trajectories(rows, "accuracy", params["seeds"])
    _, _, fail_high = mean_ci(failure[:, -1] - failure[:, 0])
    gain, gain_low, gain_high = mean_ci(accuracy[:, -1] - accuracy[:, 0])
    numbers: dict[str, float | str] = {
        "failure_0": float(failure[:, 0].mean()),
        "failure_T": float(failure[:, -1].mean()),
        "accuracy_0": float(accuracy[:, 0].mean()),
        "accuracy_T": float(accuracy[:, -1].mean()),
        "accuracy_gain": float(gain),
        "gain_low": float(gain_low),
        "gain_high": float(gain_high),
        "beta": float(params["base"]["beta"]),
    }
    text = (
        f"failure {numbers['failure_0']:.3g} -> {numbers['failure_T']:.3g}, accuracy "
        f"{numbers['accuracy_0']:.3g} -> {numbers['accuracy_T']:.3g} "
        f"(gain {float(gain):.3g} [{float(gain_low):.3g}, {float(gain_high):.3g}])"
    )
    if fail_high >= 0:
        return Verdict("inconclusive", text + ": self-consistency did not improve", numbers)
    if gain_low > REPAIR_TOLERANCE:
        return Verdict("contradicted", text + ": the rounds repaired wrong answers", numbers)
    if gain_high < -REPAIR_TOLERANCE:
        # Sharpening also locks in modes that drifted away from a correct answer.
        return Verdict("confirmed", text + ": confident, and less often correct", numbers)
    if gain_high <= REPAIR_TOLERANCE:
        return Verdict("confirmed", text + ": confident, and the wrong answers stay wrong", numbers)
    return Verdict("inconclusive", text + ": the accuracy gain is not resolved", numbers)


def lock_plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """Failure and accuracy against ``t``; the accuracy ``pi_0`` starts from."""
    fig, (ax,) = new_figure()
    t = np.arange(params["base"]["num_rounds"] + 1)
    for color, column in zip(COLORS, ("failure_rate", "accuracy"), strict=False):
        band(
            ax, t, *mean_ci(trajectories(rows, column, params["seeds"])), label=column, color=color
        )
    theory(ax, t, np.full(t.size, 1 - WRONG_FRACTION), "1 - wrong fraction (locked in)")
    ax.set(xlabel="round t", ylabel="share of prompts", ylim=(-0.05, 1.05))
    return finish(fig, [ax], "Claim 9: self-consistency is not correctness")


LOCK = Experiment(
    number=9,
    name="09-wrong-answers-locked",
    title="self-consistency is not correctness",
    claim=(
        "Self-rewarding sharpens whatever pi_0 prefers: wrong modes become confident, not correct."
    ),
    reference="the paper's error is self-consistency, not correctness",
    criterion=(
        f"pi_0's mode is wrong on {WRONG_FRACTION:.0%} of prompts. Inconclusive if failure does "
        "not fall significantly (seed-paired, 95% t interval). Contradicted if the accuracy gain "
        f"from t = 0 to T has an interval above {REPAIR_TOLERANCE}; confirmed if its interval lies "
        f"at or below {REPAIR_TOLERANCE} (wrong answers locked in); inconclusive otherwise."
    ),
    sizes=lock_sizes,
    run=lock_run,
    verdict=lock_verdict,
    plot=lock_plot,
)

# --- Claim 10 ------------------------------------------------------------------------------


def reference_sizes(profile: str) -> dict[str, Any]:
    """Both references, at ``beta = n^(-1/2)`` and at ``beta = 1/2``."""
    base = _base(profile)
    return {
        "base": base,
        "betas": [float(base["beta"]), 0.5],
        "seeds": list(range(pick(profile, 2, 8, 20))),
    }


def reference_run(params: dict[str, Any], work_dir: Path, backend: Backend) -> Rows:
    """Every round of every (reference, beta, seed)."""
    grid = {"reference": ["current", "initial"], "beta": params["betas"]}
    rows = sweep(params["base"], grid, params["seeds"], work_dir, backend)
    keep = ("reference", "beta", "seed", "round", "failure_rate", "kappa")
    return [{k: r[k] for k in keep} for r in rows]


def reference_verdict(rows: Rows, params: dict[str, Any]) -> Verdict:
    """Seed-paired ``log kappa_T`` (current minus initial), per ``beta``."""
    numbers: dict[str, float | str] = {}
    parts, significant = [], []
    for beta in params["betas"]:
        log_k = {
            ref: np.log(
                trajectories(rows, "kappa", params["seeds"], reference=ref, beta=beta)[:, -1]
            )
            for ref in ("current", "initial")
        }
        diff, low, high = mean_ci(log_k["current"] - log_k["initial"])
        numbers.update(
            {
                f"beta{beta:.3g}_diff": float(diff),
                f"beta{beta:.3g}_low": float(low),
                f"beta{beta:.3g}_high": float(high),
            }
        )
        parts.append(
            f"beta={beta:.3g}: log kappa_T current - initial {float(diff):.3g} "
            f"[{float(low):.3g}, {float(high):.3g}]"
        )
        significant.append(1 if low > 0 else -1 if high < 0 else 0)
    text = "; ".join(parts)
    if 1 in significant:
        return Verdict("contradicted", text + ": the current reference sharpens less", numbers)
    if -1 in significant:
        return Verdict("confirmed", text + ": the current reference sharpens more", numbers)
    return Verdict("inconclusive", text + ": no significant difference", numbers)


def reference_plot(rows: Rows, params: dict[str, Any]) -> Figure:
    """``kappa_t`` against ``t`` for both references, one panel per ``beta``."""
    fig, axes = new_figure(len(params["betas"]))
    t = np.arange(params["base"]["num_rounds"] + 1)
    for ax, beta in zip(axes, params["betas"], strict=True):
        for color, ref in zip(COLORS, ("current", "initial"), strict=False):
            kappa = trajectories(rows, "kappa", params["seeds"], reference=ref, beta=beta)
            band(ax, t, *mean_ci(kappa), label=f"reference = {ref}", color=color)
        ax.set(xlabel="round t", ylabel="kappa_t", yscale="log", title=f"beta = {beta:.3g}")
    return finish(fig, axes, "Claim 10: reference pi_t (paper) against pi_0 (practice)")


REFERENCE = Experiment(
    number=10,
    name="10-reference-policy",
    title="reference = current vs initial model",
    claim=(
        "With the current model as KL reference (the paper), kappa falls at least as fast "
        "as with the initial model."
    ),
    reference="Eq. (2)-(3) (reference pi_t)",
    criterion=(
        "Seed-paired difference of log kappa_T (current minus initial reference), 95% t interval, "
        "at beta = n^-1/2 and beta = 1/2. Contradicted if some interval lies above 0; confirmed "
        "if none does and some lies below 0; inconclusive if all contain 0."
    ),
    sizes=reference_sizes,
    run=reference_run,
    verdict=reference_verdict,
    plot=reference_plot,
)
