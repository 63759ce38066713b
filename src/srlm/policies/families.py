"""Initial-policy families ``pi_0`` with a knob that sets ``kappa_0``, and planted answers.

- ``random``: scores drawn i.i.d. standard normal, times an inverse temperature ``scale``;
- ``planted``: near-uniform scores (small jitter) with one planted mode per prompt whose
  log-probability exceeds every other response's by exactly ``margin``;
- ``capped`` (token policies): the top token has probability ``alpha`` at every step.

:func:`calibrate` finds the knob value that gives a requested ``kappa_0``. :func:`plant_correct`
chooses a "correct" response per prompt, equal to the mode except on a chosen fraction of
prompts, so correctness can be measured apart from self-consistency.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from srlm.policies.base import FloatArray, IntArray, Policy


def planted_family(
    num_prompts: int,
    num_responses: int,
    rng: np.random.Generator,
    jitter: float = 0.05,
) -> Callable[[float], FloatArray]:
    """Near-uniform logits with a planted mode, as a function of the mode's margin.

    The jitter and the planted positions are drawn once; the returned function maps a
    margin ``m`` to (P, Y) logits whose mode exceeds the runner-up by exactly ``m``. With
    ``jitter = 0``, ``kappa_0 = (e^m + Y - 1) / e^m`` (Eq. 5).
    """
    noise = jitter * rng.standard_normal((num_prompts, num_responses))
    planted = np.zeros((num_prompts, num_responses), dtype=np.bool_)
    planted[np.arange(num_prompts), rng.integers(num_responses, size=num_prompts)] = True
    runner_up = np.where(planted, -np.inf, noise).max(axis=1, keepdims=True)  # (P, 1)

    def logits(margin: float) -> FloatArray:
        return np.where(planted, runner_up + margin, noise)

    return logits


def kappa(policy: Policy, weights: FloatArray) -> float:
    """Eq. (5): ``kappa(pi) = E_x[1 / pi(y_pi(x)|x)]`` with ``x`` distributed as ``weights``."""
    mode_prob = np.exp(policy.log_probs().max(axis=1))
    return float(np.dot(weights, 1.0 / mode_prob))


def calibrate(
    make: Callable[[float], Policy],
    weights: FloatArray,
    target_kappa: float,
    low: float = 0.0,
    high: float = 1.0,
) -> float:
    """The knob value ``a`` for which ``kappa(make(a)) = target_kappa``.

    ``make`` must give a policy whose ``kappa`` falls as ``a`` grows (an inverse temperature
    or a planted margin). The bracket ``[low, high]`` is widened upwards until it holds the
    target.

    Raises:
        ValueError: If no value in the family reaches the target.
    """

    def gap(a: float) -> float:
        return np.log(kappa(make(a), weights)) - np.log(target_kappa)

    if gap(low) < 0:
        raise ValueError(
            f"target_kappa={target_kappa} exceeds the family's largest kappa_0 "
            f"{kappa(make(low), weights):.4g}"
        )
    while gap(high) > 0:
        high *= 2.0
        if high > 1e6:
            raise ValueError(f"target_kappa={target_kappa} is below what the family reaches")
    return float(brentq(gap, low, high, xtol=1e-12))


def plant_correct(
    policy: Policy, wrong_fraction: float, rng: np.random.Generator
) -> tuple[IntArray, FloatArray]:
    """A planted correct response per prompt: the mode, except on ``wrong_fraction`` of prompts.

    On the "wrong" prompts the correct response is the runner-up, so the initial model
    prefers a wrong answer by its margin there.

    Returns:
        ``correct`` (P,) response indices and ``is_wrong`` (P,) 0/1 flags.
    """
    scores = policy.scores()
    num_prompts = scores.shape[0]
    order = np.argsort(-scores, axis=1, kind="stable")
    num_wrong = round(wrong_fraction * num_prompts)
    is_wrong = np.zeros(num_prompts)
    is_wrong[rng.choice(num_prompts, size=num_wrong, replace=False)] = 1.0
    correct = np.where(is_wrong > 0, order[:, 1], order[:, 0])
    return correct.astype(np.int64), is_wrong
