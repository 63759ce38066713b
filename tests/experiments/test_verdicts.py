"""Verdict logic on synthetic data: each criterion can confirm, contradict, or stay undecided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from srlm.config import LabConfig, parse_config
from srlm.experiments import (
    contraction,
    correctness,
    fade,
    linear,
    onestep,
    rates,
    rounds_needed,
    trap,
)
from srlm.experiments.base import mean_ci
from srlm.loop import run_rounds

SEEDS = [0, 1, 2, 3, 4]


def _noise(shape: Any, scale: float, seed: int = 0) -> np.ndarray:
    return 1.0 + scale * np.random.default_rng(seed).standard_normal(shape)


# --- Claim 1 -----------------------------------------------------------------------------


def _kappa_rows(kappas: np.ndarray) -> list[dict[str, Any]]:
    return [
        {"seed": s, "round": t, "kappa": float(k)}
        for s, row in enumerate(kappas)
        for t, k in enumerate(row)
    ]


def test_contraction_confirms_a_geometric_trajectory() -> None:
    t = np.arange(9)
    kappas = (2 + 14 * 0.5**t) * _noise((5, 9), 0.01)
    verdict = contraction.verdict(_kappa_rows(kappas), {"seeds": SEEDS, "base": {"beta": 0.1}})
    assert verdict.status == "confirmed"
    assert verdict.numbers["q_low"] < 0.5 < verdict.numbers["q_high"]  # type: ignore[operator]
    assert abs(float(verdict.numbers["kappa_star"]) - 2) < 0.2


def test_contraction_contradicted_when_kappa_grows() -> None:
    kappas = (4 + 0.5 * np.arange(9)) * _noise((5, 9), 0.01)
    verdict = contraction.verdict(_kappa_rows(kappas), {"seeds": SEEDS, "base": {"beta": 0.1}})
    assert verdict.status == "contradicted"


def test_contraction_inconclusive_when_not_geometric() -> None:
    # Falls, but in a zig-zag a geometric curve cannot follow (log RMS far above 0.25).
    row = np.array([16.0, 2.0, 12.0, 1.5, 10.0, 1.2, 8.0, 1.1, 4.0])
    kappas = row * _noise((5, 9), 0.01)
    verdict = contraction.verdict(_kappa_rows(kappas), {"seeds": SEEDS, "base": {"beta": 0.1}})
    assert verdict.status == "inconclusive"


# --- Claim 2 -----------------------------------------------------------------------------


def _rate_case(exponent: float, zero_from: int | None = None) -> tuple[list[dict[str, Any]], dict]:
    ns = [1000, 2000, 4000, 8000, 16000]
    params = {"ns": ns, "channels": ["loglik"], "seeds": SEEDS, "base": {"beta": 0.01}}
    rows = []
    for s in SEEDS:
        for j, n in enumerate(ns):
            value = 0.4 * (n / 1000) ** exponent * _noise(1, 0.05, 10 * s + j)[0]
            if zero_from is not None and j >= zero_from:
                value = 0.0
            rows.append(
                {"reward": "loglik", "pairs_per_round": n, "seed": s, "failure_rate": value}
            )
    return rows, params


@pytest.mark.parametrize(
    ("exponent", "zero_from", "status"),
    [
        (-1.5, None, "confirmed"),  # faster than n^-1/2: agrees with the upper bound
        (-0.5, None, "confirmed"),  # the bound's own rate
        (-0.45, None, "confirmed"),  # slower, but within the tolerance for log factors
        (-0.2, None, "contradicted"),  # significantly slower
        (-1.0, 2, "inconclusive"),  # only two positive points
    ],
)
def test_rate_verdict(exponent: float, zero_from: int | None, status: str) -> None:
    rows, params = _rate_case(exponent, zero_from)
    assert rates.rate_verdict(rows, params).status == status


def test_rate_fit_ignores_points_above_one_half() -> None:
    rows, params = _rate_case(-1.0)
    for row in rows:
        if row["pairs_per_round"] == 1000:
            row["failure_rate"] = 0.99  # the saturated regime: excluded from the fit
    verdict = rates.rate_verdict(rows, params)
    assert verdict.numbers["loglik_points"] == 4.0
    assert abs(float(verdict.numbers["loglik_slope"]) + 1.0) < 0.1


# --- Claim 3 -----------------------------------------------------------------------------


def _fade_rows(factor: float, c_mode: float) -> tuple[list[dict[str, Any]], dict]:
    kappas, T = [2.0, 8.0], 8
    params = {
        "kappas": kappas,
        "seeds": SEEDS,
        "ns": [100],
        "base": {"num_prompts": 100, "beta": 0.1},
    }
    rows = []
    for s in SEEDS:
        noise = _noise(T + 1, 0.02, s)
        for t in range(T + 1):
            for k in kappas:
                failure = 0.1 * factor**t * noise[t] if k == 8.0 else 0.0
                rows.append(
                    {
                        "pairs_per_round": 100,
                        "target_kappa": k,
                        "seed": s,
                        "round": t,
                        "failure_rate": failure,
                        "min_confidence_mode": c_mode,
                        "min_confidence_all": c_mode / 10,
                    }
                )
    return rows, params


def test_fade_confirmed_when_faster_than_theory() -> None:
    # n c = 4: theory factor (1 + 2)^-1/2 = 0.577; measured 0.3.
    rows, params = _fade_rows(0.3, 0.04)
    verdict = fade.verdict(rows, params)
    assert verdict.status == "confirmed"
    assert abs(float(verdict.numbers["n100_rate"]) - 0.3) < 0.02


def test_fade_contradicted_when_slower_than_theory() -> None:
    rows, params = _fade_rows(0.9, 0.04)
    assert fade.verdict(rows, params).status == "contradicted"


def test_fade_inconclusive_when_spread_vanishes() -> None:
    rows, params = _fade_rows(0.0, 0.04)  # spread 0 after t = 0
    assert fade.verdict(rows, params).status == "inconclusive"


# --- Claim 4 -----------------------------------------------------------------------------


def _needed_rows(rule: Any) -> tuple[list[dict[str, Any]], dict]:
    ns, kappas = [100, 400], [2.0, 4.0, 8.0, 16.0, 32.0]
    params = {"ns": ns, "kappas": kappas, "seeds": SEEDS, "base": {"beta": 0.05}}
    rows = [
        {
            "pairs_per_round": n,
            "target_kappa": k,
            "seed": s,
            "rounds_needed": rule(n, k, s),
            "c_mode": 0.05,
        }
        for n in ns
        for k in kappas
        for s in SEEDS
    ]
    return rows, params


def test_rounds_needed_confirmed_for_log_growth_falling_with_n() -> None:
    rows, params = _needed_rows(lambda n, k, s: round(2 * np.log2(k) * 100 / n) + 1 + s % 2)
    assert rounds_needed.verdict(rows, params).status == "confirmed"


def test_rounds_needed_contradicted_for_linear_growth_in_kappa() -> None:
    rows, params = _needed_rows(lambda n, k, s: int(k) + s % 2)
    assert rounds_needed.verdict(rows, params).status == "contradicted"


def test_rounds_needed_contradicted_when_rising_with_n() -> None:
    rows, params = _needed_rows(lambda n, k, s: n // 100 + s % 2)
    assert rounds_needed.verdict(rows, params).status == "contradicted"


def test_rounds_needed_inconclusive_when_censored() -> None:
    rows, params = _needed_rows(lambda n, k, s: -1 if k == 32.0 else 3)
    assert rounds_needed.verdict(rows, params).status == "inconclusive"


# --- Claim 5 -----------------------------------------------------------------------------


def _hard_rows(exponent: float) -> tuple[list[dict[str, Any]], dict]:
    params = {
        "pairs_per_informative": 4.0,
        "A": 64,
        "gamma": 1.0,
        "ns": [256, 512, 1024, 2048],
        "kappas": [4.0],
        "seeds": SEEDS,
    }
    rows = [
        {
            "pairs_per_round": n,
            "target_kappa": 4.0,
            "seed": s,
            "failure_rate": 0.2 * (n / 256) ** exponent * _noise(1, 0.02, s * 7 + n)[0],
            "log_card_pi": 8 * np.log(64),  # d fixed here: the bound falls like n^-1/2
            "kappa_0": 4.0,
        }
        for n in params["ns"]
        for s in SEEDS
    ]
    return rows, params


def test_hard_instance_verdicts() -> None:
    assert onestep.hard_verdict(*_hard_rows(-0.4)).status == "confirmed"
    assert onestep.hard_verdict(*_hard_rows(-2.0)).status == "contradicted"


# --- Claims 6, 8, 9, 10 ------------------------------------------------------------------


def test_trap_contradicted_if_greedy_finds_the_mode_at_first() -> None:
    params = {"seeds": [0, 1], "num_rounds": 1, "beta": 0.1}
    rows = [
        {"seed": s, "round": t, "greedy_matches_mode": g, "accuracy": 1.0, "mode_prob_mean": 0.9}
        for s in (0, 1)
        for t, g in ((0, 0.0), (1, 1.0))
    ]
    assert trap.verdict(rows, params).status == "confirmed"
    for row in rows:
        row["greedy_matches_mode"] = 1.0
    assert trap.verdict(rows, params).status == "contradicted"


def _budget_rows(failures: list[float]) -> tuple[list[dict[str, Any]], dict]:
    params = {"Ts": [1, 2, 4, 8], "seeds": SEEDS, "base": {"beta": 0.01}}
    rows = [
        {
            "num_rounds": T,
            "seed": s,
            "failure_rate": f * _noise(1, 0.05, s + 10 * T)[0],
            "kappa": 2.0,
        }
        for T, f in zip(params["Ts"], failures, strict=True)
        for s in SEEDS
    ]
    return rows, params


@pytest.mark.parametrize(
    ("failures", "status"),
    [
        ([0.4, 0.3, 0.2, 0.25], "confirmed"),
        ([0.1, 0.3, 0.4, 0.5], "contradicted"),
        ([0.2, 0.2, 0.2, 0.2], "inconclusive"),
        ([0.0, 0.0, 0.0, 0.0], "inconclusive"),
        ([0.3, 0.5, 0.5, 0.3], "inconclusive"),  # better than T = 2, 4; tied with T = 8
        ([0.3, 0.5, 0.4, 0.1], "confirmed"),  # T = 8 beats one step, T = 2 does not
    ],
)
def test_budget_verdict(failures: list[float], status: str) -> None:
    assert onestep.budget_verdict(*_budget_rows(failures)).status == status


def _lock_rows(accuracy_T: float, failure_T: float) -> tuple[list[dict[str, Any]], dict]:
    params = {"seeds": SEEDS, "base": {"beta": 0.05, "num_rounds": 1}}
    rows = []
    for s in SEEDS:
        jitter = 0.01 * (s - 2)
        rows.append({"seed": s, "round": 0, "failure_rate": 1.0, "accuracy": 0.75, "kappa": 8})
        rows.append(
            {
                "seed": s,
                "round": 1,
                "failure_rate": failure_T,
                "accuracy": accuracy_T + jitter,
                "kappa": 1,
            }
        )
    return rows, params


@pytest.mark.parametrize(
    ("accuracy_T", "failure_T", "status"),
    [
        (0.75, 0.0, "confirmed"),  # locked in
        (0.5, 0.0, "confirmed"),  # confident and worse
        (0.95, 0.0, "contradicted"),  # rounds repaired wrong answers
        (0.75, 1.0, "inconclusive"),  # no sharpening at all
    ],
)
def test_lock_verdict(accuracy_T: float, failure_T: float, status: str) -> None:
    assert correctness.lock_verdict(*_lock_rows(accuracy_T, failure_T)).status == status


def _reference_rows(ratio: float) -> tuple[list[dict[str, Any]], dict]:
    params = {"betas": [0.1], "seeds": SEEDS, "base": {"num_rounds": 1}}
    rows = []
    for s in SEEDS:
        for ref, k_T in (("current", 2.0 * ratio), ("initial", 2.0)):
            for t, k in ((0, 8.0), (1, k_T * _noise(1, 0.01, s)[0])):
                rows.append(
                    {
                        "reference": ref,
                        "beta": 0.1,
                        "seed": s,
                        "round": t,
                        "kappa": k,
                        "failure_rate": 0.0,
                    }
                )
    return rows, params


@pytest.mark.parametrize(
    ("ratio", "status"), [(0.5, "confirmed"), (2.0, "contradicted"), (1.0, "inconclusive")]
)
def test_reference_verdict(ratio: float, status: str) -> None:
    assert correctness.reference_verdict(*_reference_rows(ratio)).status == status


def test_mean_ci_matches_the_t_interval() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = mean_ci(values)
    half = 3.182446305284263 * values.std(ddof=1) / 2  # t_{0.975, 3}
    assert mean == 2.5 and np.isclose(low, 2.5 - half) and np.isclose(high, 2.5 + half)


# --- Claim 7 -----------------------------------------------------------------------------


def test_linear_d_eff_is_that_of_the_features_the_run_used(tmp_path: Path) -> None:
    """``d_eff`` from the covariance of the features a run saved, not the nominal spectrum."""
    cfg = parse_config(
        LabConfig,
        {
            "policy": "linear",
            "num_prompts": 40,
            "num_responses": 6,
            "feature_dim": 8,
            "spectrum": "flat",
            "num_rounds": 1,
            "pairs_per_round": 16,
            "save_rounds": True,
            "seed": 3,
        },
    )
    run_rounds(cfg, run_dir=tmp_path)
    with np.load(tmp_path / "instance.npz") as saved:
        phi, weights = saved["phi"], saved["weights"]
    # Independent formulation: a weighted sum of outer products, one (x, y) at a time.
    cov = sum(
        weights[x] / phi.shape[1] * np.outer(phi[x, y], phi[x, y])
        for x in range(phi.shape[0])
        for y in range(phi.shape[1])
    )
    lam = np.linalg.eigvalsh(cov)
    expected = float(np.sum(lam / (lam + 1.0 / 16)))
    assert np.trace(cov) <= 1.0 + 1e-12
    assert linear.features_d_eff(cfg) == pytest.approx(expected, rel=1e-10)
    assert expected < 8 * 0.9  # the nominal flat spectrum would give d_eff(1/16) = 7.5


def _linear_rows(
    failure_of: Any,
    seeds: list[int],
    flat_d_eff: Any = lambda d: d / 4,
    dims: tuple[int, ...] = (2, 4, 8, 16),
) -> list[dict[str, Any]]:
    return [
        {
            "spectrum": s,
            "feature_dim": d,
            "seed": seed,
            "d_eff": flat_d_eff(d) if s == "flat" else d / 16,
            "failure_rate": failure_of(d) * float(_noise(1, 0.02, seed + d)[0]),
        }
        for s in ("flat", "exp")
        for d in dims
        for seed in seeds
    ]


@pytest.mark.parametrize(("power", "status"), [(1.0, "confirmed"), (2.0, "contradicted")])
def test_linear_verdict_reads_the_slope_in_d_eff(power: float, status: str) -> None:
    params = {
        "dims": [2, 4, 8, 16],
        "spectra": ["flat", "exp"],
        "seeds": SEEDS,
        "base": {"beta": 0.125},
    }
    verdict = linear.verdict(_linear_rows(lambda d: 1e-3 * d**power, SEEDS), params)
    assert verdict.status == status
    assert float(verdict.numbers["flat_slope"]) == pytest.approx(power, abs=0.05)
    assert float(verdict.numbers["flat_slope_d"]) == pytest.approx(power, abs=0.05)


def test_linear_verdict_tells_theorem_from_corollary() -> None:
    """Failure linear in ``d`` agrees with Theorem 6.2; if ``d_eff`` saturates meanwhile, the
    same failure grows faster than ``d_eff`` and contradicts Corollary 6.4 alone."""
    params = {
        "dims": [2, 4, 8, 16, 32, 64],
        "spectra": ["flat", "exp"],
        "seeds": SEEDS,
        "base": {"beta": 0.125},
    }
    saturating = _linear_rows(
        lambda d: 1e-3 * d, SEEDS, lambda d: 16 * d / (16 + d), tuple(params["dims"])
    )
    verdict = linear.verdict(saturating, params)
    assert verdict.status == "contradicted"
    assert float(verdict.numbers["flat_slope_d"]) == pytest.approx(1.0, abs=0.05)
    assert float(verdict.numbers["flat_low"]) > 1.1
    parts = verdict.reason.split("; ")
    flat_in_d = next(p for p in parts if p.startswith("flat: slope in d "))
    flat_in_d_eff = next(p for p in parts if p.startswith("flat: slope in d_eff "))
    assert flat_in_d_eff.endswith("(faster than linear)")
    assert "faster" not in flat_in_d
    assert verdict.reason.count("(faster than linear)") == 1
