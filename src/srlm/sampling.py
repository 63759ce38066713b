"""Data of round t: ``n`` triples ``x ~ D``, ``y, y' ~ pi_t(.|x)`` drawn independently."""

from __future__ import annotations

import numpy as np

from srlm.policies.base import FloatArray, IntArray, Policy


def sample_prompts(weights: FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` prompts ``x ~ D``, returned sorted (counts per prompt, then repeated).

    The order of the triples does not matter to the update, and sorted prompts make the
    response sampling read each prompt's probabilities once, in memory order.
    """
    counts = rng.multinomial(n, weights)
    return np.repeat(np.arange(weights.size, dtype=np.int64), counts)


def sample_pairs(
    pi_t: Policy, weights: FloatArray, n: int, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """The prompts and both responses of one round, each of shape (n,).

    ``y`` comes back sorted within each prompt (see :func:`srlm.policies.base.sample_rows`);
    ``y'`` is drawn the same way and then shuffled within each prompt, which pairs the two
    independently: sorting i.i.d. pairs by ``y`` leaves the ``y'`` beside them i.i.d. and
    independent of ``y``, the same law as a random matching.
    """
    x = sample_prompts(weights, n, rng)
    y, y_prime = pi_t.sample(x, rng, draws=2)
    shuffle = np.argsort(x + rng.random(n), kind="stable")  # a permutation within each prompt
    return x, y, y_prime[shuffle]
