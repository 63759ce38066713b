"""The population update (``n`` infinite): the exact maximiser of Eq. (2).

Eq. (2) maximises ``E_{y~pi}[r_t(x, y)] - beta * KL(pi(.|x) || pi_ref(.|x))``; its optimum is
the Gibbs policy ``pi_ref(y|x) exp(r_t(x, y) / beta) / Z(x)``. With ``pi_ref = pi_t`` and
``r_t = log pi_t`` that is ``pi_t^(1 + 1/beta)``, renormalised: scores scale by ``1 + 1/beta``.
"""

from __future__ import annotations

import numpy as np

from srlm.policies.base import FloatArray, Policy
from srlm.policies.linear import LinearSoftmaxPolicy
from srlm.policies.tabular import TabularPolicy


def population_update(pi_t: Policy, pi_ref: Policy, beta: float, node_reward: FloatArray) -> Policy:
    """Gibbs policy of Eq. (2): new scores ``s_ref + r_t / beta``.

    Args:
        pi_t: Current policy.
        pi_ref: Reference policy.
        beta: KL coefficient.
        node_reward: (P, Y) table of ``r_t(x, y)``.

    Notes:
        The power form ``pi_t^(1 + 1/beta)`` is reconstructed from the Gibbs form the paper
        states (docs/deviations.md). For linear softmax the Gibbs policy lies in the class
        only when ``r_t`` is linear in the features; with ``r_t = log pi_t`` it is
        ``theta_ref + theta_t / beta``. The ball ``||theta|| <= B`` is not applied here, since
        the population map is the unconstrained optimum (the paper's realizability
        assumption).
    """
    if isinstance(pi_t, TabularPolicy):
        return pi_t.with_params(logits=pi_ref.scores() + node_reward / beta)
    if isinstance(pi_t, LinearSoftmaxPolicy):
        # r_t = log pi_t = <theta_t, phi> - log Z_t: the Gibbs scores are linear in phi.
        log_pi_t = pi_t.log_probs()
        if not np.allclose(node_reward, log_pi_t):
            raise ValueError("population update for linear softmax needs reward=loglik")
        return pi_t.with_params(theta=pi_ref.params["theta"] + pi_t.theta / beta)
    raise TypeError(f"no population update for {type(pi_t).__name__}")
