"""Shared fixtures for the theory-lab tests."""

from __future__ import annotations

import numpy as np
import pytest

from srlm.policies.tabular import TabularPolicy
from srlm.sampling import sample_pairs
from srlm.update.erm import Pairs


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def random_round(
    rng: np.random.Generator, num_prompts: int = 7, num_responses: int = 9, n: int = 25
) -> tuple[TabularPolicy, Pairs]:
    """A random tabular policy and pairs with the exact log-likelihood labels."""
    pi_t = TabularPolicy(logits=rng.normal(size=(num_prompts, num_responses)))
    weights = np.full(num_prompts, 1.0 / num_prompts)
    x, y, y_prime = sample_pairs(pi_t, weights, n, rng)
    log_pi = pi_t.log_probs()
    return pi_t, Pairs(x, y, y_prime, log_pi[x, y] - log_pi[x, y_prime])
