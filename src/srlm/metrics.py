"""The paper's quantities (docs/notation.md), measured exactly on a policy each round.

All expectations over prompts use the prompt distribution ``D`` (``weights``). Row ``t`` of a
run describes ``pi_t``; the step-dependent columns (``kl_step``, ``mode_changes``,
``erm_residual``) describe the update that produced it and are empty (NaN, 0) at ``t = 0``.
"""

from __future__ import annotations

import numpy as np

from srlm.policies.base import FloatArray, IntArray, Policy
from srlm.policies.token import TokenPolicy
from srlm.update.erm import Pairs

COLUMNS = (
    "round",
    "kappa",
    "failure_rate",
    "mode_prob_mean",
    "margin_min",
    "min_confidence_all",
    "min_confidence_mode",
    "entropy",
    "kl_step",
    "mode_changes",
    "erm_residual",
    "accuracy",
    "kappa_sampled",
)


def policy_metrics(pi: Policy, weights: FloatArray, delta: float) -> dict[str, float]:
    """Metrics of one policy that need nothing else.

    - ``kappa``: Eq. (5), ``E_x[1 / pi(y_pi(x)|x)]``;
    - ``failure_rate``: ``P_x[pi(y_pi(x)|x) <= 1 - delta]`` (section 2);
    - ``mode_prob_mean``: ``E_x[pi(y_pi(x)|x)]``;
    - ``margin_min``: ``gamma`` measured, ``min_x`` of the log-probability gap mode - runner-up;
    - ``min_confidence_all``: ``c`` over all actions, ``min_{x,y} pi(y|x)``;
    - ``min_confidence_mode``: ``c`` over modes only, ``min_x pi(y_pi(x)|x)``;
    - ``entropy``: ``E_x[H(pi(.|x))]`` in nats.

    Notes:
        The exact failure event and the reading of ``c`` are reconstructed (the paper does
        not say whether ``c`` bounds every action or only the mode), so both readings of
        ``c`` are reported; see docs/deviations.md.
    """
    log_pi = pi.log_probs()  # (P, Y)
    top2 = -np.partition(-log_pi, 1, axis=1)[:, :2]  # (P, 2): mode, runner-up
    mode_prob = np.exp(top2[:, 0])
    pi_probs = np.exp(log_pi)
    entropy = -np.sum(np.where(pi_probs > 0, pi_probs * log_pi, 0.0), axis=1)
    return {
        "kappa": float(weights @ (1.0 / mode_prob)),
        "failure_rate": float(weights @ (mode_prob <= 1.0 - delta)),
        "mode_prob_mean": float(weights @ mode_prob),
        "margin_min": float(np.min(top2[:, 0] - top2[:, 1])),
        "min_confidence_all": float(pi_probs.min()),
        "min_confidence_mode": float(mode_prob.min()),
        "entropy": float(weights @ entropy),
    }


def step_metrics(pi_new: Policy, pi_old: Policy, weights: FloatArray) -> dict[str, float]:
    """``kl_step = E_x KL(pi_{t+1} || pi_t)`` and ``mode_changes`` (a count of prompts)."""
    log_new, log_old = pi_new.log_probs(), pi_old.log_probs()
    p_new = np.exp(log_new)
    kl = np.sum(np.where(p_new > 0, p_new * (log_new - log_old), 0.0), axis=1)
    return {
        "kl_step": float(weights @ kl),
        "mode_changes": float(np.sum(pi_new.mode() != pi_old.mode())),
    }


def sampled_kappa(pi: Policy, pairs: Pairs) -> float:
    """``kappa`` as a user of a real model would estimate it from one round's samples.

    For each sampled prompt, the most likely response among those sampled for it stands in
    for the mode (a real model can score any response but cannot enumerate them); the
    estimate averages ``1 / pi(best sampled|x)`` over the pairs' prompts, so prompts count as
    often as ``D`` draws them. It overestimates ``kappa`` when the mode goes unsampled.
    """
    if pairs.x.size == 0:
        return float("nan")
    log_pi = pi.log_probs()
    x = np.concatenate([pairs.x, pairs.x])
    y = np.concatenate([pairs.y, pairs.y_prime])
    best = np.full(log_pi.shape[0], -np.inf)
    np.maximum.at(best, x, log_pi[x, y])
    return float(np.mean(np.exp(-best[pairs.x])))


def accuracy(pi: Policy, weights: FloatArray, correct: IntArray | None) -> float:
    """``P_x[y_pi(x) = correct(x)]``, or NaN without planted answers."""
    if correct is None:
        return float("nan")
    return float(weights @ (pi.mode() == correct))


def token_metrics(pi: Policy, weights: FloatArray) -> dict[str, float]:
    """For token policies: how often greedy decoding finds the mode (Proposition 4.3)."""
    if not isinstance(pi, TokenPolicy):
        return {}
    return {"greedy_matches_mode": float(weights @ (pi.greedy() == pi.mode()))}
