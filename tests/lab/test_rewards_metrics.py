"""Self-reward channels and the per-round metrics."""

from __future__ import annotations

import numpy as np
import pytest

from srlm.metrics import policy_metrics, sampled_kappa, step_metrics
from srlm.policies.tabular import TabularPolicy
from srlm.rewards import LogLikelihood, NoisyLogLikelihood, QuantisedJudge, SignLabel, make_reward
from srlm.update.erm import Pairs


def test_noisy_reward_is_unbiased_with_variance_two_s2(rng: np.random.Generator) -> None:
    pi = TabularPolicy(rng.normal(size=(1, 3)))
    log_pi = pi.log_probs()
    n = 200_000
    x, y, y_prime = np.zeros(n, int), np.zeros(n, int), np.ones(n, int)
    t = NoisyLogLikelihood(noise_std=0.3).pair_target(pi, x, y, y_prime, rng)
    assert t.mean() == pytest.approx(log_pi[0, 0] - log_pi[0, 1], abs=0.005)
    assert t.var() == pytest.approx(2 * 0.09, rel=0.02)


def test_quantised_judge_keeps_order_coarsely(rng: np.random.Generator) -> None:
    pi = TabularPolicy(rng.normal(size=(5, 30)))
    log_pi = pi.log_probs()
    r = QuantisedJudge(levels=4).node_reward(pi)
    for row in range(5):
        assert len(np.unique(r[row])) <= 4
        order = np.argsort(log_pi[row])
        assert np.all(np.diff(r[row, order]) >= 0)  # monotone: never reverses a preference
        assert np.abs(r[row] - log_pi[row]).max() <= (np.ptp(log_pi[row]) / 8) * (1 + 1e-9)


def test_sign_label_and_unknown_reward(rng: np.random.Generator) -> None:
    pi = TabularPolicy(np.log(np.array([[0.5, 0.3, 0.2]])))
    t = SignLabel().pair_target(pi, np.zeros(3, int), np.array([0, 1, 2]), np.array([1, 1, 0]), rng)
    np.testing.assert_array_equal(t, [1, 0, -1])
    with pytest.raises(ValueError, match="unknown reward 'judge'"):
        make_reward("judge")


def test_loglik_potential_differs_from_log_probs_by_a_prompt_constant(
    rng: np.random.Generator,
) -> None:
    pi = TabularPolicy(rng.normal(size=(4, 6)) + 3.0)
    x, y = np.divmod(np.arange(24), 6)
    gap = LogLikelihood().potential_at(pi, x, y) - pi.log_probs()[x, y]
    np.testing.assert_allclose(gap.reshape(4, 6), np.repeat(gap.reshape(4, 6)[:, :1], 6, 1))
    t = LogLikelihood().pair_target(pi, x, y, (y + 1) % 6, rng)
    np.testing.assert_allclose(t, pi.log_probs()[x, y] - pi.log_probs()[x, (y + 1) % 6])


def test_policy_metrics_by_hand() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    pi = TabularPolicy(np.log(probs))
    m = policy_metrics(pi, np.array([0.5, 0.5]), delta=0.5)
    assert m["kappa"] == pytest.approx(0.5 / 0.7 + 0.5 / 0.4)
    assert m["failure_rate"] == pytest.approx(0.5)  # only prompt 1 has mode prob <= 1/2
    assert m["margin_min"] == pytest.approx(np.log(0.4 / 0.35))
    assert m["min_confidence_all"] == pytest.approx(0.1)
    assert m["min_confidence_mode"] == pytest.approx(0.4)
    entropy = -(probs * np.log(probs)).sum(1).mean()
    assert m["entropy"] == pytest.approx(entropy)


def test_step_metrics_kl_and_mode_changes() -> None:
    old = TabularPolicy(np.log(np.array([[0.6, 0.4], [0.5, 0.5 - 1e-9]])))
    new = TabularPolicy(np.log(np.array([[0.3, 0.7], [0.9, 0.1]])))
    m = step_metrics(new, old, np.array([1.0, 0.0]))
    assert m["kl_step"] == pytest.approx(0.3 * np.log(0.3 / 0.6) + 0.7 * np.log(0.7 / 0.4))
    assert m["mode_changes"] == 1


def test_sampled_kappa_uses_best_sampled_response() -> None:
    pi = TabularPolicy(np.log(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])))
    pairs = Pairs(np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([2, 1, 0]), np.zeros(3))
    # prompt 0: best sampled is 0.3 (the mode 0.6 was never drawn); prompt 1: 0.3
    assert sampled_kappa(pi, pairs) == pytest.approx((1 / 0.3 + 1 / 0.3 + 1 / 0.3) / 3)
