"""Gradient ERM: a fixed number of (minibatch) gradient steps on Eq. (3) or the DPO loss.

Practical self-rewarding runs a few optimiser steps, not the exact minimiser. Starting from
``theta_t`` and writing ``z_i = beta * (s_theta(pair_i) - s_ref(pair_i))``:

- square loss (Eq. 3):   ``l_i = (z_i - t_i)^2``;
- logistic DPO loss:     ``l_i = -log sigmoid(sign(t_i) * z_i)``, ties (``t_i = 0``) dropped.

Gradient descent on the square loss from ``theta_t`` stays in ``theta_t`` plus the row space of
the design, so run to convergence it reaches the same minimum-norm change as
:func:`srlm.update.erm.exact_update`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from srlm.policies.base import FloatArray, Policy
from srlm.update.erm import Pairs, UpdateResult, square_loss

Loss = Literal["square", "logistic"]


def loss_grad_z(loss: Loss, z: FloatArray, t: FloatArray) -> FloatArray:
    """``d l_i / d z_i`` for each pair (before averaging)."""
    if loss == "square":
        return 2.0 * (z - t)
    label = np.sign(t)
    # d/dz [-log sigmoid(label * z)] = -label * sigmoid(-label * z)
    return -label / (1.0 + np.exp(label * z))


def gradient_update(
    pi_t: Policy,
    pi_ref: Policy,
    pairs: Pairs,
    beta: float,
    loss: Loss = "square",
    steps: int = 100,
    learning_rate: float = 0.1,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
) -> UpdateResult:
    """Run ``steps`` gradient steps on the mean loss over pairs, starting at ``pi_t``.

    Args:
        pi_t: Current policy (the starting point).
        pi_ref: Reference policy of the loss.
        pairs: The round's data; for the logistic loss pairs with ``t_i = 0`` are dropped.
        beta: KL coefficient.
        loss: ``"square"`` (Eq. 3) or ``"logistic"`` (sigmoid DPO).
        steps: Number of gradient steps ``k``.
        learning_rate: Step size.
        batch_size: Pairs per step; None for full-batch gradient descent. Minibatches are
            consecutive slices of a fresh permutation each epoch.
        rng: Randomness for minibatch order (needed when ``batch_size`` is set).

    Returns:
        The new policy and its Eq. (3) loss per pair (the ERM residual).
    """
    if loss == "logistic":
        keep = pairs.reward_diff != 0
        pairs = Pairs(pairs.x[keep], pairs.y[keep], pairs.y_prime[keep], pairs.reward_diff[keep])
    n = pairs.x.size
    s_ref = pi_ref.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    rng = rng if rng is not None else np.random.default_rng(0)
    policy = pi_t
    order = np.arange(n)
    cursor = n

    for _ in range(steps if n else 0):
        # Choose this step's pairs: all of them, or the next slice of the shuffled order.
        if batch_size is None or batch_size >= n:
            idx = order
        else:
            if cursor + batch_size > n:
                order, cursor = rng.permutation(n), 0
            idx = order[cursor : cursor + batch_size]
            cursor += batch_size

        # Chain rule: dl/dz, times dz/ds = beta, pulled back to the parameters.
        x, y, y_prime = pairs.x[idx], pairs.y[idx], pairs.y_prime[idx]
        z = beta * (policy.pair_score_diff(x, y, y_prime) - s_ref[idx])
        g = loss_grad_z(loss, z, pairs.reward_diff[idx]) * beta / idx.size
        grads = policy.pair_score_diff_vjp(x, y, y_prime, g)
        policy = policy.with_params(
            **{name: value - learning_rate * grads[name] for name, value in policy.params.items()}
        )

    return UpdateResult(policy, square_loss(policy, pi_ref, pairs, beta))
