"""Exact ERM for Eqs. (3)-(4): the minimum-norm change from the current parameters.

Eq. (3), with reference policy ``pi_ref`` (the paper: ``pi_ref = pi_t``),

    L_t(pi) = sum_i ( beta * log(pi(y_i|x_i) / pi_ref(y_i|x_i))
                      - beta * log(pi(y'_i|x_i) / pi_ref(y'_i|x_i)) - t_i )^2,

where ``t_i = r_t(x_i, y_i) - r_t(x_i, y'_i)`` is the reward difference. For tabular and
linear softmax the log-ratio of a pair is linear in the parameters (the partition function
cancels), so with ``s`` the score difference of a pair and ``Delta`` the parameter change
from ``pi_t``, every pair asks for

    s_Delta(pair) = t_i / beta - (s_t(pair) - s_ref(pair)) =: b_i,

an ordinary least-squares problem. Its solutions form an affine set; the update returns the
one closest to the current parameters (what gradient descent started at ``theta_t`` reaches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from srlm.parallel import block_bounds, default_workers, run_blocks
from srlm.policies.base import FloatArray, IntArray, Policy
from srlm.policies.linear import LinearSoftmaxPolicy
from srlm.policies.tabular import TabularPolicy
from srlm.update.graph import build_pair_graph, general_solution, potential_solution

# Logits per block of the closed form. Larger than the sampler's blocks: each block pays a
# fixed cost (its graph, scipy's checks), and 2^20 was the fastest at 10^7 logits on 2 cores.
_UPDATE_BLOCK_SIZE = 2**20


@dataclass(frozen=True)
class Pairs:
    """One round's data ``D_t``: prompts, two responses each, and the reward difference.

    Attributes:
        x: (n,) prompt indices.
        y: (n,) first responses.
        y_prime: (n,) second responses.
        reward_diff: (n,) ``t_i = r_t(x, y) - r_t(x, y')``.
    """

    x: IntArray
    y: IntArray
    y_prime: IntArray
    reward_diff: FloatArray


Potential = Callable[[IntArray, IntArray], FloatArray]


@dataclass(frozen=True)
class UpdateResult:
    """The new policy and the mean ERM loss per pair it attains (0 when realizable)."""

    policy: Policy
    erm_residual: float


def square_loss(policy: Policy, pi_ref: Policy, pairs: Pairs, beta: float) -> float:
    """Eq. (3) averaged over pairs: ``mean_i (beta * (s(pair) - s_ref(pair)) - t_i)^2``.

    Notes:
        The exact display of Eq. (3) is reconstructed from the paper's description (a
        REBEL-style square loss with the reward difference as target); see
        docs/deviations.md.
    """
    s = policy.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    s_ref = pi_ref.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    return float(np.mean((beta * (s - s_ref) - pairs.reward_diff) ** 2)) if s.size else 0.0


def exact_update(
    pi_t: Policy,
    pi_ref: Policy,
    pairs: Pairs,
    beta: float,
    node_reward: FloatArray | Potential | None = None,
) -> UpdateResult:
    """Solve Eq. (4) exactly: the minimum-norm change from ``pi_t`` that minimises Eq. (3).

    Args:
        pi_t: Current policy (the starting point of the minimum-norm change).
        pi_ref: Reference policy of the KL term (``pi_t`` in the paper).
        pairs: The round's data.
        beta: KL coefficient ``beta > 0``.
        node_reward: When the reward is a function of the response, ``r_t(x, y)`` as a
            (P, Y) table or as a function of ``(x, y)`` index arrays (a per-prompt constant
            may be dropped); the tabular update then uses its closed form. Else None.

    Notes:
        Eq. (4) does not say which minimiser to take when there are many; srlm takes the
        minimum-norm change from ``pi_t`` (listed in docs/deviations.md).
    """
    if isinstance(pi_t, TabularPolicy):
        return _tabular_update(pi_t, pi_ref, pairs, beta, node_reward)
    if isinstance(pi_t, LinearSoftmaxPolicy):
        new = _linear_update(pi_t, pi_ref, pairs, beta)
        return UpdateResult(new, square_loss(new, pi_ref, pairs, beta))
    raise TypeError(f"no exact update for {type(pi_t).__name__}")


def _tabular_update(
    pi_t: TabularPolicy,
    pi_ref: Policy,
    pairs: Pairs,
    beta: float,
    node_reward: FloatArray | Potential | None,
) -> UpdateResult:
    """Tabular ERM: closed form for a potential reward, graph least squares otherwise.

    The residual is computed on the graph: a pair's new log-ratio against the reference is
    its old one plus ``Delta[u] - Delta[v]``.
    """
    same_reference = pi_ref is pi_t
    if not same_reference:  # each pair's score difference under pi_t and under pi_ref
        s_t = pi_t.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
        s_ref = pi_ref.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    if node_reward is not None:
        new_logits, log_ratio = _potential_update(pi_t, pi_ref, pairs, beta, node_reward)
    else:
        b = pairs.reward_diff / beta
        if not same_reference:
            b = b - (s_t - s_ref)
        new_logits, log_ratio = _general_update(pi_t, pairs, b)
    if not same_reference:
        log_ratio += s_t
        log_ratio -= s_ref
    residual = (
        float(np.mean((beta * log_ratio - pairs.reward_diff) ** 2)) if log_ratio.size else 0.0
    )
    return UpdateResult(pi_t.with_params(logits=new_logits), residual)


def _potential_update(
    pi_t: TabularPolicy,
    pi_ref: Policy,
    pairs: Pairs,
    beta: float,
    node_reward: FloatArray | Potential,
    workers: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The closed form, by blocks of prompts: the new logits and ``Delta[u] - Delta[v]``.

    Every pair compares two responses to one prompt, so the pair graph splits by prompt and
    each block of prompts is solved on its own: its graph, its potential
    ``h = r / beta - (s_t - s_ref)`` on the touched logits, and ``Delta = h - mean_C(h)``
    (:func:`potential_solution`). Blocks run on all cores when pairs come grouped by prompt
    (sampled pairs do); otherwise the whole table is one block. The numbers are the same
    either way: each component is summed in the same order.
    """
    logits = pi_t.logits
    num_prompts, num_responses = logits.shape
    ref_scores = None if pi_ref is pi_t else pi_ref.scores()
    x = pairs.x
    if x.size and np.all(x[1:] >= x[:-1]):
        rows_per_block = max(1, _UPDATE_BLOCK_SIZE // num_responses)
        prompt_bounds = block_bounds(num_prompts, rows_per_block)
        pair_bounds = np.searchsorted(x, prompt_bounds)
    else:
        prompt_bounds, pair_bounds = np.array([0, num_prompts]), np.array([0, x.size])
    new_logits = np.empty_like(logits)
    log_ratio = np.empty(x.size)

    def block(k: int) -> None:
        p0, p1 = prompt_bounds[k], prompt_bounds[k + 1]
        i0, i1 = pair_bounds[k], pair_bounds[k + 1]
        rows = new_logits[p0:p1]  # a contiguous view: its ravel() writes through
        rows[...] = logits[p0:p1]
        if i0 == i1:
            return
        offset = (x[i0:i1] - p0) * num_responses
        graph = build_pair_graph(rows.size, offset + pairs.y[i0:i1], offset + pairs.y_prime[i0:i1])
        px, py = np.divmod(graph.touched, num_responses)
        px += p0
        r = node_reward(px, py) if callable(node_reward) else node_reward[px, py]
        h = r / beta
        if ref_scores is not None:
            h -= logits[p0:p1].ravel()[graph.touched] - ref_scores[p0:p1].ravel()[graph.touched]
        delta = potential_solution(graph, h)
        rows.ravel()[graph.touched] += delta
        log_ratio[i0:i1] = delta[graph.u] - delta[graph.v]

    run_blocks(
        block,
        prompt_bounds.size - 1,
        default_workers(logits.size) if workers is None else workers,
    )
    return new_logits, log_ratio


def _general_update(
    pi_t: TabularPolicy, pairs: Pairs, b: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Graph least squares on the whole table for pair targets ``b``: the new logits and
    ``Delta[u] - Delta[v]``."""
    logits = pi_t.logits
    num_responses = logits.shape[1]
    first = pairs.x * num_responses + pairs.y
    second = pairs.x * num_responses + pairs.y_prime
    graph = build_pair_graph(logits.size, first, second)
    delta = general_solution(graph, b)
    new_logits = logits.copy()
    new_logits.ravel()[graph.touched] += delta
    return new_logits, delta[graph.u] - delta[graph.v]


def _linear_update(
    pi_t: LinearSoftmaxPolicy, pi_ref: Policy, pairs: Pairs, beta: float
) -> LinearSoftmaxPolicy:
    """Linear-softmax ERM: the minimum-norm change, or, when that leaves the ball
    ``||theta|| <= B``, the constrained minimiser nearest to ``theta_t``."""
    features = pi_t.pair_features(pairs.x, pairs.y, pairs.y_prime)  # (n, d)
    b = pairs.reward_diff / beta
    if pi_ref is not pi_t:
        b = b - features @ (pi_t.theta - pi_ref.params["theta"])
    delta, *_ = np.linalg.lstsq(features, b, rcond=None)
    theta = pi_t.theta + delta
    if pi_t.radius is not None and np.linalg.norm(theta) > pi_t.radius:
        theta = ball_least_squares(
            features, b + features @ pi_t.theta, pi_t.radius, start=pi_t.theta
        )
    return pi_t.with_params(theta=theta)


def ball_least_squares(
    a: FloatArray, c: FloatArray, radius: float, start: FloatArray | None = None
) -> FloatArray:
    """``argmin ||a theta - c||^2`` subject to ``||theta|| <= radius``, nearest to ``start``.

    Through the SVD ``a = U S V^T``: the least-squares solutions are ``theta_0 + z`` with
    ``theta_0 = V diag(1/s) U^T c`` (the one of minimum norm) and ``z`` in the null space of
    ``a``. When ``||theta_0|| <= radius`` some of them lie in the ball; the one nearest to
    ``start`` (``theta_t``) takes ``z`` as the null-space part of ``start``, shrunk onto the
    ball ``||z||^2 <= radius^2 - ||theta_0||^2``. Otherwise the constrained optimum is unique:
    ``theta(lam) = V diag(s / (s^2 + lam)) U^T c``, whose norm falls as ``lam`` grows, at the
    ``lam > 0`` where it equals ``radius``.
    """
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    keep = s > s.max(initial=0.0) * max(a.shape) * np.finfo(float).eps
    u, s, vt = u[:, keep], s[keep], vt[keep]
    coef = u.T @ c

    def norm_at(lam: float) -> float:
        return float(np.linalg.norm(s * coef / (s**2 + lam)))

    if norm_at(0.0) <= radius:
        theta_0 = vt.T @ (coef / s)
        if start is None:
            return theta_0
        z = start - vt.T @ (vt @ start)  # the null-space part of start
        room = np.sqrt(max(radius**2 - float(theta_0 @ theta_0), 0.0))
        z_norm = float(np.linalg.norm(z))
        return theta_0 + (z if z_norm <= room else z * (room / z_norm))
    upper = 1.0
    while norm_at(upper) > radius:
        upper *= 10.0
    lam = brentq(lambda v: norm_at(v) - radius, 0.0, upper, xtol=1e-14, rtol=1e-12)
    return vt.T @ (s * coef / (s**2 + lam))
