"""The bounds' limits, monotonicity and identities, and the kappa recursion's closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srlm.theory import bounds

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
kappa = st.floats(min_value=1.0, max_value=1e4, allow_nan=False)
constant_abc = st.floats(min_value=0.0, max_value=20.0, allow_nan=False)
NS = np.logspace(1, 7, 25)  # (25,) sample sizes


# --- Theorem 4.1 ----------------------------------------------------------------------------


@settings(deadline=None)  # timing varies on shared CPUs
@given(log_card_pi=positive, kappa_0=kappa)
def test_lower_bound_non_increasing_in_n_and_exact_below_simplified(log_card_pi, kappa_0):
    exact = bounds.one_step_lower_bound(NS, log_card_pi, kappa_0, clip=False)
    simple = bounds.one_step_lower_bound(NS, log_card_pi, kappa_0, inner_log=False, clip=False)
    assert np.all(np.diff(exact) <= 1e-12 * exact[:-1])
    assert np.all(np.diff(simple) < 0)
    assert np.all(exact <= simple * (1 + 1e-12))


def test_lower_bound_forms_written_out():
    n, log_card_pi, kappa_0 = 1e5, 30.0, 50.0
    simple = np.sqrt(kappa_0 * log_card_pi / n)
    inner = np.log(n * kappa_0 / log_card_pi)
    got = bounds.one_step_lower_bound(n, log_card_pi, kappa_0, constant=2.0)
    assert got == pytest.approx(2.0 * simple / np.sqrt(inner), rel=1e-12)
    got = bounds.one_step_lower_bound(n, log_card_pi, kappa_0, inner_log=False)
    assert got == pytest.approx(simple, rel=1e-12)


def test_lower_bound_clipped_and_floored_in_constant_failure_regime():
    # n kappa_0 / log|Pi| = 2 < e: inner log floored at 1, so exact == simplified.
    exact = bounds.one_step_lower_bound(2.0, 10.0, 10.0, clip=False)
    assert exact == pytest.approx(np.sqrt(10.0 * 10.0 / 2.0))
    assert bounds.one_step_lower_bound(2.0, 10.0, 10.0) == 1.0
    assert bounds.one_step_lower_bound(1e12, 1.0, 1.0) > 0.0


# --- Theorem 5.3 and Corollary 5.7 ----------------------------------------------------------


def _thm53(**overrides):
    args = dict(n=1e4, log_card_pi=20.0, rho=0.05, gamma=0.5, delta=0.5, c=0.01, kappa_0=1e3, T=3)
    args.update(overrides)
    return bounds.multi_round_upper_bound(**args)


def test_upper_bound_terms_written_out():
    n, log_card_pi, rho, gamma, delta, c, kappa_0, T = 400.0, 5.0, 0.1, 0.2, 0.5, 0.04, 9.0, 4
    pre = (np.log(n) + log_card_pi - np.log(rho)) / (gamma * delta * np.sqrt(n))
    got = bounds.multi_round_upper_bound(n, log_card_pi, rho, gamma, delta, c, kappa_0, T)
    assert got.stable == pytest.approx(pre / np.sqrt(c), rel=1e-12)
    assert got.transient == pytest.approx(pre * 3.0 / (1 + np.sqrt(16.0)) ** 1.5, rel=1e-12)
    assert got.total == pytest.approx(got.stable + got.transient, rel=1e-12)


def test_upper_bound_monotone():
    # n|Pi|/rho > e^2 throughout, where the stable term decreases in n.
    by_n = _thm53(n=NS)
    assert np.all(np.diff(by_n.stable) < 0) and np.all(np.diff(by_n.transient) < 0)
    by_t = _thm53(T=np.arange(1, 20))
    assert np.all(np.diff(by_t.transient) < 0) and np.all(np.diff(by_t.stable) == 0)
    by_kappa = _thm53(kappa_0=np.logspace(0, 6, 13))
    assert np.all(np.diff(by_kappa.transient) > 0)
    assert by_t.stable.shape == by_t.transient.shape == (19,)


@settings(deadline=None)  # timing varies on shared CPUs
@given(n=st.floats(10.0, 1e8), kappa_0=kappa, log_card_pi=positive)
def test_upper_bound_at_t1_has_lower_bound_shape(n, kappa_0, log_card_pi):
    """At T = 1: transient / sqrt(kappa_0 log|Pi|/n) = log(n|Pi|/rho) / (gamma delta sqrt(log|Pi|)).

    The ratio does not depend on kappa_0 and depends on n only through a logarithm.
    """
    rho, gamma, delta = 0.05, 0.3, 0.5
    transient = _thm53(n=n, kappa_0=kappa_0, log_card_pi=log_card_pi, T=1, rho=rho, gamma=gamma)
    simple = bounds.one_step_lower_bound(n, log_card_pi, kappa_0, inner_log=False, clip=False)
    polylog = (np.log(n) + log_card_pi - np.log(rho)) / (gamma * delta * np.sqrt(log_card_pi))
    assert transient.transient / simple == pytest.approx(polylog, rel=1e-9)


def test_upper_bound_at_t1_scales_like_sqrt_kappa_and_inverse_sqrt_n():
    kappas = np.logspace(0, 6, 7)
    ratio = _thm53(T=1, kappa_0=kappas).transient / np.sqrt(kappas)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    # Across n the ratio to 1/sqrt(n) changes only by the log factor log(n|Pi|/rho).
    scaled = _thm53(T=1, n=NS).transient * np.sqrt(NS)
    log_term = np.log(NS) + 20.0 - np.log(0.05)
    np.testing.assert_allclose(scaled / log_term, scaled[0] / log_term[0], rtol=1e-12)


@settings(deadline=None)  # timing varies on shared CPUs
@given(n=st.floats(1.0, 1e8), c=st.floats(1e-6, 1.0), kappa_0=kappa)
def test_iteration_threshold_is_where_transient_meets_stable(n, c, kappa_0):
    t_star = bounds.iteration_threshold(n, c, kappa_0)
    at = _thm53(n=n, c=c, kappa_0=kappa_0, T=t_star)
    assert at.transient == pytest.approx(at.stable, rel=1e-9)
    after = _thm53(n=n, c=c, kappa_0=kappa_0, T=np.ceil(t_star) + np.arange(4))
    assert np.all(after.transient <= after.stable * (1 + 1e-9))
    if t_star > 1.5:
        before = _thm53(n=n, c=c, kappa_0=kappa_0, T=t_star - 0.5)
        assert before.transient > before.stable


def test_iteration_threshold_grows_like_log_kappa_and_falls_with_n():
    kappas = np.logspace(1, 8, 8)
    t_star = bounds.iteration_threshold(1e4, 0.1, kappas)
    np.testing.assert_allclose(np.diff(t_star), np.diff(t_star)[0], rtol=1e-9)
    assert np.all(np.diff(bounds.iteration_threshold(NS, 0.1, 1e4)) < 0)


# --- Lemmas C.3-C.4 -------------------------------------------------------------------------


@settings(deadline=None)  # timing varies on shared CPUs
@given(A=st.floats(0.0, 50.0), B=constant_abc, C=constant_abc)
def test_fixed_point_is_fixed_point_of_sqrt_map_and_q_below_one(A, B, C):
    kappa_star = bounds.kappa_fixed_point(A, B, C)
    b_prime = B + C
    assert A + b_prime * np.sqrt(kappa_star) == pytest.approx(kappa_star, rel=1e-10, abs=1e-12)
    q = bounds.kappa_contraction(A, B, C)
    assert 0.0 <= q <= 0.5  # at most 1/2, hence < 1 as the paper states
    if kappa_star > 0:
        # q is the slope of k -> A + B' sqrt(k) at kappa*.
        assert q == pytest.approx(b_prime / (2 * np.sqrt(kappa_star)), rel=1e-10)


@settings(max_examples=200, deadline=None)
@given(A=st.floats(1.0, 50.0), B=constant_abc, C=constant_abc, kappa_0=kappa)
def test_trajectory_bound_dominates_iterated_recursion(A, B, C, kappa_0):
    T = 30
    iterates = bounds.iterate_kappa_recursion(kappa_0, T, A, B, C)  # (T + 1,)
    bound = bounds.kappa_trajectory_bound(kappa_0, np.arange(T + 1), A, B, C)
    assert np.all(iterates <= bound * (1 + 1e-10) + 1e-10)
    assert np.all(iterates >= 1.0)


def test_trajectory_bound_tight_without_log_term_and_converges():
    # With C = 0 and kappa_0 = kappa*, the recursion sits at its fixed point.
    kappa_star = bounds.kappa_fixed_point(3.0, 2.0, 0.0)
    iterates = bounds.iterate_kappa_recursion(kappa_star, 5, 3.0, 2.0, 0.0)
    np.testing.assert_allclose(iterates, kappa_star, rtol=1e-12)
    far = bounds.kappa_trajectory_bound(1e6, 200, 3.0, 2.0, 1.0)
    assert far == pytest.approx(bounds.kappa_fixed_point(3.0, 2.0, 1.0), rel=1e-9)


def test_iterate_broadcasts_over_constants():
    A = np.array([1.0, 2.0, 5.0])
    iterates = bounds.iterate_kappa_recursion(100.0, 4, A, 1.0, 0.5)
    assert iterates.shape == (5, 3)
    np.testing.assert_allclose(iterates[1], bounds.kappa_recursion_step(100.0, A, 1.0, 0.5))


# --- Theorem 6.2 and Corollary 6.4 ----------------------------------------------------------


def test_linear_softmax_term():
    assert bounds.linear_softmax_log_card_pi(8, 1e3, 2.0, 0.1) == pytest.approx(8 * np.log(2e4))
    assert bounds.linear_softmax_log_card_pi(8, 1.0, 0.5, 1.0) == 0.0


@settings(deadline=None)  # timing varies on shared CPUs
@given(
    eigenvalues=st.lists(st.floats(0.0, 1e3), min_size=1, max_size=30),
    lam=st.floats(1e-6, 1e3),
)
def test_effective_dimension_in_range_and_decreasing(eigenvalues, lam):
    d = len(eigenvalues)
    lams = lam * np.array([1.0, 2.0, 10.0])
    d_eff = bounds.effective_dimension(eigenvalues, lams)
    assert d_eff.shape == (3,)
    assert np.all((d_eff >= 0) & (d_eff <= d * (1 + 1e-12)))
    assert np.all(np.diff(d_eff) <= 1e-12)


@pytest.mark.parametrize("lam", [1e-6, 1e-3, 1e-1])
def test_exponential_closed_form_brackets_sum(lam):
    C0, alpha = 2.0, 0.5
    exact = bounds.effective_dimension(bounds.exponential_spectrum(400, C0, alpha), lam)
    approx = bounds.effective_dimension_exponential(lam, C0, alpha)
    assert approx - 1.0 <= exact <= approx


@pytest.mark.parametrize("lam", [1e-4, 1e-2, 1e-1])
def test_polynomial_closed_form_brackets_sum(lam):
    C0, p = 1.0, 2.0
    spectrum = bounds.polynomial_spectrum(10**6, C0, p)
    exact = bounds.effective_dimension(spectrum, lam)
    approx = bounds.effective_dimension_polynomial(lam, C0, p)
    # The tail beyond d = 10^6 adds at most (C0/lam) / d^(p-1) <= 0.01 here.
    assert approx - 1.0 - 0.01 <= exact <= approx


def test_spiked_closed_form_matches_sum_and_is_about_k():
    spectrum = bounds.spiked_spectrum(500, 7, spike=10.0, bulk=1e-6)
    for lam in (1e-3, 1e-2):
        exact = bounds.effective_dimension(spectrum, lam)
        closed = bounds.effective_dimension_spiked(lam, 500, 7, 10.0, 1e-6)
        assert closed == pytest.approx(exact, rel=1e-12)
        assert abs(closed - 7) < 0.5
