"""Gradient ERM run to convergence reaches the exact minimum-norm solution."""

from __future__ import annotations

import numpy as np
import pytest

from srlm.policies.linear import LinearSoftmaxPolicy
from srlm.update.erm import Pairs, exact_update
from srlm.update.gradient import gradient_update

from .conftest import random_round


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("noisy", [False, True])
def test_tabular_gradient_converges_to_exact(seed: int, noisy: bool) -> None:
    rng = np.random.default_rng(seed)
    pi_t, pairs = random_round(rng, num_prompts=4, num_responses=6, n=20)
    if noisy:
        pairs = Pairs(pairs.x, pairs.y, pairs.y_prime, pairs.reward_diff + rng.normal(size=20))
    exact = exact_update(pi_t, pi_t, pairs, 1.0, None if noisy else pi_t.log_probs())
    grad = gradient_update(pi_t, pi_t, pairs, 1.0, steps=20000, learning_rate=2.0)
    np.testing.assert_allclose(
        grad.policy.params["logits"], exact.policy.params["logits"], atol=1e-5
    )


def test_linear_gradient_converges_to_exact(rng: np.random.Generator) -> None:
    phi = rng.normal(size=(5, 4, 10)) / 3
    pi_t = LinearSoftmaxPolicy(phi, rng.normal(size=10))
    x, y, y_prime = rng.integers(5, size=6), rng.integers(4, size=6), rng.integers(4, size=6)
    log_pi = pi_t.log_probs()
    pairs = Pairs(x, y, y_prime, log_pi[x, y] - log_pi[x, y_prime] + 0.3 * rng.normal(size=6))
    exact = exact_update(pi_t, pi_t, pairs, 0.5)
    grad = gradient_update(pi_t, pi_t, pairs, 0.5, steps=50000, learning_rate=3.0)
    np.testing.assert_allclose(grad.policy.params["theta"], exact.policy.params["theta"], atol=1e-5)


def test_minibatch_gradient_descends(rng: np.random.Generator) -> None:
    pi_t, pairs = random_round(rng, n=64)
    pairs = Pairs(pairs.x, pairs.y, pairs.y_prime, pairs.reward_diff + 1.0)
    before = gradient_update(pi_t, pi_t, pairs, 1.0, steps=1, learning_rate=0.0)
    after = gradient_update(
        pi_t, pi_t, pairs, 1.0, steps=200, learning_rate=0.5, batch_size=8, rng=rng
    )
    assert after.erm_residual < 0.5 * before.erm_residual


def test_logistic_gradient_matches_finite_differences(rng: np.random.Generator) -> None:
    """The logistic DPO gradient against a numerical derivative of the loss."""
    pi_t, pairs = random_round(rng, n=15)
    beta = 0.7
    label = np.sign(pairs.reward_diff)

    def loss(logits: np.ndarray) -> float:
        z = beta * (
            logits[pairs.x, pairs.y]
            - logits[pairs.x, pairs.y_prime]
            - pi_t.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
        )
        keep = label != 0
        return float(np.mean(np.logaddexp(0.0, -label[keep] * z[keep])))

    moved = pi_t.with_params(logits=pi_t.logits + 0.3 * rng.normal(size=pi_t.logits.shape))
    step = gradient_update(moved, pi_t, pairs, beta, loss="logistic", steps=1, learning_rate=1e-3)
    grad_ours = (moved.logits - step.policy.params["logits"]) / 1e-3
    eps = 1e-6
    grad_fd = np.zeros_like(moved.logits)
    for idx in np.ndindex(moved.logits.shape):
        bump = np.zeros_like(moved.logits)
        bump[idx] = eps
        grad_fd[idx] = (loss(moved.logits + bump) - loss(moved.logits - bump)) / (2 * eps)
    np.testing.assert_allclose(grad_ours, grad_fd, atol=1e-7)
