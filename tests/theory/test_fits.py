"""The fits recover known parameters from synthetic data, within their stated intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from srlm.theory import bounds, fits


def _trajectories(kappa_star, q, kappa_0, T, num_seeds, noise, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(T + 1)
    clean = kappa_star + q**t * (kappa_0 - kappa_star)  # (T + 1,)
    noisy = clean * np.exp(noise * rng.standard_normal((num_seeds, T + 1)))  # (S, T + 1)
    noisy[:, 0] = kappa_0  # kappa_0 is measured exactly from pi_0
    return noisy


def test_kappa_fit_exact_on_noiseless_trajectory():
    clean = _trajectories(4.0, 0.6, 200.0, 12, 1, 0.0, 0)[0]
    fit = fits.fit_kappa_trajectory(clean)
    assert fit.kappa_star == pytest.approx(4.0, rel=1e-6)
    assert fit.q == pytest.approx(0.6, rel=1e-6)
    assert fit.residual_rms < 1e-6


@pytest.mark.parametrize("kappa_star, q", [(4.0, 0.6), (20.0, 0.3), (2.0, 0.85)])
def test_kappa_fit_recovers_parameters_across_seeds(kappa_star, q):
    kappas = _trajectories(kappa_star, q, 300.0, 15, 10, 0.03, seed=1)
    fit = fits.fit_kappa_trajectory(kappas)
    assert fit.interval_method == "jackknife" and fit.num_seeds == 10
    # One draw may miss a 95% interval (coverage is tested below); it should not miss by
    # more than twice the interval's half-width.
    for (low, high), truth in ((fit.kappa_star_interval, kappa_star), (fit.q_interval, q)):
        assert low < high and abs((low + high) / 2 - truth) <= (high - low)
    assert fit.kappa_star == pytest.approx(kappa_star, rel=0.1)
    assert fit.q == pytest.approx(q, abs=0.05)


def test_kappa_fit_one_seed_asymptotic_interval():
    kappas = _trajectories(5.0, 0.5, 100.0, 20, 1, 0.02, seed=2)
    fit = fits.fit_kappa_trajectory(kappas[0])
    assert fit.interval_method == "asymptotic"
    assert fit.kappa_star_interval[0] <= 5.0 <= fit.kappa_star_interval[1]
    assert fit.q_interval[0] <= 0.5 <= fit.q_interval[1]


def test_kappa_fit_of_recursion_bound_recovers_lemma_constants():
    # The Lemma C.4 bound is itself of the fitted form, with kappa* and q in closed form.
    A, B, C = 2.0, 1.5, 0.5
    trajectory = bounds.kappa_trajectory_bound(500.0, np.arange(16), A, B, C)
    fit = fits.fit_kappa_trajectory(trajectory)
    assert fit.kappa_star == pytest.approx(bounds.kappa_fixed_point(A, B, C), rel=1e-6)
    assert fit.q == pytest.approx(bounds.kappa_contraction(A, B, C), rel=1e-6)


def test_kappa_fit_jackknife_coverage_close_to_nominal():
    # 40 independent experiments of 8 seeds each; a binomial 99.9% band around 0.95 for 40
    # trials starts at 33 covered.
    covered = np.zeros(2)
    for seed in range(40):
        fit = fits.fit_kappa_trajectory(_trajectories(6.0, 0.5, 200.0, 12, 8, 0.05, seed))
        covered += [
            fit.kappa_star_interval[0] <= 6.0 <= fit.kappa_star_interval[1],
            fit.q_interval[0] <= 0.5 <= fit.q_interval[1],
        ]
    low = stats.binom.interval(0.999, 40, 0.95)[0]
    assert np.all(covered >= low)


def test_kappa_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="T >= 2"):
        fits.fit_kappa_trajectory([10.0, 5.0])
    with pytest.raises(ValueError, match="non-positive"):
        fits.fit_kappa_trajectory([10.0, 5.0, 0.0])


def test_slope_fit_recovers_known_slope_one_curve():
    n = np.logspace(2, 5, 10)
    rng = np.random.default_rng(0)
    y = 3.0 * n**-0.5 * np.exp(0.05 * rng.standard_normal(n.size))
    fit = fits.fit_loglog_slope(n, y)
    assert fit.method == "ols" and fit.dof == 8
    assert fit.slope_interval[0] <= -0.5 <= fit.slope_interval[1]
    # Two formulations agree: numpy's polynomial fit gives the same slope and intercept.
    slope, intercept = np.polyfit(np.log(n), np.log(y), 1)
    assert fit.slope == pytest.approx(slope, rel=1e-10)
    assert fit.intercept == pytest.approx(intercept, rel=1e-10)


@pytest.mark.parametrize("method", ["per_seed", "pooled"])
def test_slope_fit_over_seeds(method):
    n = np.logspace(2, 5, 8)
    rng = np.random.default_rng(1)
    y = 0.7 * n**-1.0 * np.exp(0.1 * rng.standard_normal((12, n.size)))  # (S, N)
    fit = fits.fit_loglog_slope(n, y, method=method)
    assert fit.method == method
    assert fit.slope_interval[0] <= -1.0 <= fit.slope_interval[1]
    assert fit.dof == (11 if method == "per_seed" else 12 * 8 - 2)


def test_slope_fit_interval_coverage_close_to_nominal():
    # 400 independent curves: the 95% interval should cover the true slope about 95% of the
    # time; a binomial 99.9% band around 0.95 for 400 trials is about [0.91, 0.98].
    rng = np.random.default_rng(2)
    n = np.logspace(1, 4, 6)
    covered = 0
    for _ in range(400):
        y = n**-0.5 * np.exp(0.2 * rng.standard_normal(n.size))
        low, high = fits.fit_loglog_slope(n, y).slope_interval
        covered += low <= -0.5 <= high
    band = stats.binom.interval(0.999, 400, 0.95)
    assert band[0] <= covered <= band[1]


def test_slope_fit_rejects_zeros():
    with pytest.raises(ValueError, match="non-positive"):
        fits.fit_loglog_slope([10, 100, 1000], [0.1, 0.0, 0.01])


def test_bounds_reexports_fits():
    assert bounds.fit_kappa_trajectory is fits.fit_kappa_trajectory
    assert bounds.fit_loglog_slope is fits.fit_loglog_slope
