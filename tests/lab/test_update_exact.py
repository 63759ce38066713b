"""The exact ERM of Eqs. (3)-(4) against generic least-squares solvers (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import lsqr

from srlm.policies.linear import LinearSoftmaxPolicy
from srlm.policies.tabular import TabularPolicy
from srlm.update import erm
from srlm.update.erm import Pairs, ball_least_squares, exact_update, square_loss
from srlm.update.population import population_update

from .conftest import random_round


def scipy_min_norm_change(pi_t, pi_ref, pairs: Pairs, beta: float) -> np.ndarray:
    """Eq. (4) by scipy's dense least squares on the full (n, P*Y) design: minimum-norm
    change of all logits (unsampled ones come out as 0 by minimality)."""
    num_prompts, num_responses = pi_t.logits.shape
    n = pairs.x.size
    design = np.zeros((n, num_prompts * num_responses))
    rows = np.arange(n)
    np.add.at(design, (rows, pairs.x * num_responses + pairs.y), beta)
    np.add.at(design, (rows, pairs.x * num_responses + pairs.y_prime), -beta)
    s_t = pi_t.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    s_ref = pi_ref.pair_score_diff(pairs.x, pairs.y, pairs.y_prime)
    target = pairs.reward_diff - beta * (s_t - s_ref)
    delta, *_ = scipy.linalg.lstsq(design, target, cond=1e-12)
    return pi_t.logits + delta.reshape(num_prompts, num_responses)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("reference", ["current", "initial"])
@pytest.mark.parametrize("noisy", [False, True])
def test_tabular_exact_matches_scipy(seed: int, reference: str, noisy: bool) -> None:
    rng = np.random.default_rng(seed)
    pi_t, pairs = random_round(rng, num_prompts=5, num_responses=8, n=30)
    pi_ref = pi_t if reference == "current" else TabularPolicy(rng.normal(size=(5, 8)))
    node_reward = pi_t.log_probs()
    if noisy:  # a label that is no longer a difference of node values
        pairs = Pairs(pairs.x, pairs.y, pairs.y_prime, pairs.reward_diff + rng.normal(size=30))
        node_reward = None
    beta = float(rng.uniform(0.2, 2.0))

    ours = exact_update(pi_t, pi_ref, pairs, beta, node_reward)
    expected = scipy_min_norm_change(pi_t, pi_ref, pairs, beta)
    np.testing.assert_allclose(ours.policy.params["logits"], expected, atol=1e-8, rtol=0)
    assert ours.erm_residual == pytest.approx(square_loss(ours.policy, pi_ref, pairs, beta))
    if not noisy:
        assert ours.erm_residual < 1e-20  # realizable: zero loss


def test_closed_form_and_graph_solver_agree(rng: np.random.Generator) -> None:
    """Two formulations inside srlm: the closed form (potential) and the sparse LU solve."""
    pi_t, pairs = random_round(rng, num_prompts=20, num_responses=30, n=200)
    closed = exact_update(pi_t, pi_t, pairs, 0.7, pi_t.log_probs())
    general = exact_update(pi_t, pi_t, pairs, 0.7, None)
    np.testing.assert_allclose(
        closed.policy.params["logits"], general.policy.params["logits"], atol=1e-10
    )


@pytest.mark.parametrize("reference", ["current", "initial"])
def test_closed_form_by_blocks_of_prompts_matches_one_block(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    """Grouped pairs are solved by blocks of prompts on several threads; pairs in any other
    order by one block over the whole table. Both give the same logits, bit for bit."""
    monkeypatch.setattr(erm, "_UPDATE_BLOCK_SIZE", 3 * 30)  # blocks of 3 prompts
    pi_t, pairs = random_round(rng, num_prompts=40, num_responses=30, n=500)
    pi_ref = pi_t if reference == "current" else TabularPolicy(rng.normal(size=(40, 30)))
    assert np.all(np.diff(pairs.x) >= 0)  # sampled pairs come grouped by prompt
    order = rng.permutation(pairs.x.size)
    shuffled = Pairs(pairs.x[order], pairs.y[order], pairs.y_prime[order], pairs.reward_diff[order])

    by_blocks, log_ratio = erm._potential_update(
        pi_t, pi_ref, pairs, 0.6, pi_t.log_probs(), workers=3
    )
    whole, shuffled_ratio = erm._potential_update(
        pi_t, pi_ref, shuffled, 0.6, pi_t.log_probs(), workers=3
    )
    np.testing.assert_array_equal(by_blocks, whole)
    np.testing.assert_array_equal(log_ratio[order], shuffled_ratio)
    expected = scipy_min_norm_change(pi_t, pi_ref, pairs, 0.6)
    np.testing.assert_allclose(by_blocks, expected, atol=1e-8, rtol=0)


def test_closed_form_scales_components_about_their_mean() -> None:
    """The closed form: one pair (0, 1) on prompt 0 scales those two logits by 1 + 1/beta
    about their mean; the untouched logits and prompts stay put."""
    logits = np.array([[1.0, 3.0, 0.5], [0.2, 0.1, 0.0]])
    pi_t = TabularPolicy(logits)
    pairs = Pairs(np.array([0]), np.array([0]), np.array([1]), np.array([-2.0]))
    new = exact_update(pi_t, pi_t, pairs, 0.5, pi_t.log_probs()).policy.params["logits"]
    np.testing.assert_allclose(new[0, :2], 2.0 + 3.0 * (np.array([1.0, 3.0]) - 2.0))
    np.testing.assert_array_equal(new[0, 2], 0.5)
    np.testing.assert_array_equal(new[1], logits[1])


def test_tabular_exact_matches_sparse_lsqr(rng: np.random.Generator) -> None:
    pi_t, pairs = random_round(rng, num_prompts=50, num_responses=40, n=600)
    beta = 0.5
    ours = exact_update(pi_t, pi_t, pairs, beta, pi_t.log_probs()).policy.params["logits"]
    n, size = pairs.x.size, pi_t.logits.size
    cols = np.concatenate([pairs.x * 40 + pairs.y, pairs.x * 40 + pairs.y_prime])
    vals = np.concatenate([np.full(n, beta), np.full(n, -beta)])
    design = coo_matrix((vals, (np.tile(np.arange(n), 2), cols)), shape=(n, size)).tocsr()
    delta = lsqr(design, pairs.reward_diff, atol=1e-14, btol=1e-14, iter_lim=100000)[0]
    np.testing.assert_allclose(ours, pi_t.logits + delta.reshape(50, 40), atol=1e-8)


@pytest.mark.parametrize("seed", range(5))
def test_linear_exact_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    num_prompts, num_responses, d, n = 6, 5, 12, 8  # n < d: many solutions, min-norm change
    phi = rng.normal(size=(num_prompts, num_responses, d)) / 4
    pi_t = LinearSoftmaxPolicy(phi, rng.normal(size=d))
    x = rng.integers(num_prompts, size=n)
    y, y_prime = rng.integers(num_responses, size=(2, n))
    log_pi = pi_t.log_probs()
    pairs = Pairs(x, y, y_prime, log_pi[x, y] - log_pi[x, y_prime] + 0.1 * rng.normal(size=n))
    ours = exact_update(pi_t, pi_t, pairs, 0.3).policy.params["theta"]
    delta, *_ = scipy.linalg.lstsq(0.3 * (phi[x, y] - phi[x, y_prime]), pairs.reward_diff)
    np.testing.assert_allclose(ours, pi_t.theta + delta, atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_ball_constrained_matches_scipy_minimize(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, c = rng.normal(size=(20, 6)), 3.0 * rng.normal(size=20)
    radius = 0.5
    ours = ball_least_squares(a, c, radius)
    constraint = {"type": "ineq", "fun": lambda t: radius**2 - t @ t}
    ref = scipy.optimize.minimize(
        lambda t: np.sum((a @ t - c) ** 2),
        np.zeros(6),
        constraints=[constraint],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert np.linalg.norm(ours) == pytest.approx(radius, abs=1e-9)
    np.testing.assert_allclose(ours, ref.x, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_ball_keeps_least_squares_fit_nearest_to_start(seed: int) -> None:
    """Wide ``a`` (a null space): least-squares fits reach the ball; take the one nearest
    ``theta_t``, as a constrained minimisation of the distance agrees."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, 7))
    theta_0 = 0.3 * rng.normal(size=7)
    theta_0 = a.T @ np.linalg.lstsq(a.T, theta_0, rcond=None)[0]  # in the row space of a
    c = a @ theta_0
    radius = float(np.linalg.norm(theta_0)) + 0.5
    start = 3.0 * rng.normal(size=7)  # far outside the ball
    ours = ball_least_squares(a, c, radius, start=start)
    ref = scipy.optimize.minimize(
        lambda t: np.sum((t - start) ** 2),
        theta_0,
        constraints=[
            {"type": "eq", "fun": lambda t: a @ t - c},
            {"type": "ineq", "fun": lambda t: radius**2 - t @ t},
        ],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    np.testing.assert_allclose(a @ ref.x, c, atol=1e-6)  # the peer's answer is feasible
    assert ref.x @ ref.x <= radius**2 + 1e-6
    np.testing.assert_allclose(a @ ours, c, atol=1e-9)  # ours is a zero-residual fit
    assert np.linalg.norm(ours) == pytest.approx(radius, abs=1e-9)
    np.testing.assert_allclose(ours, ref.x, atol=1e-4)
    assert np.linalg.norm(ours - start) <= np.linalg.norm(ref.x - start) + 1e-6
    # Nearer theta_t than the minimum-norm fit the earlier rule returned.
    assert np.linalg.norm(ours - start) < np.linalg.norm(theta_0 - start) - 1e-3


def test_population_map_is_sharpening(rng: np.random.Generator) -> None:
    """Eq. (2) with reference pi_t: pi_t^(1 + 1/beta), renormalised."""
    pi_t = TabularPolicy(rng.normal(size=(4, 6)))
    beta = 0.4
    new = population_update(pi_t, pi_t, beta, pi_t.log_probs())
    powered = pi_t.probs() ** (1 + 1 / beta)
    np.testing.assert_allclose(new.probs(), powered / powered.sum(1, keepdims=True), atol=1e-12)


def test_exact_erm_on_complete_data_equals_population_map(rng: np.random.Generator) -> None:
    """With every pair of every prompt observed, the ERM solution is the Gibbs policy."""
    pi_t = TabularPolicy(rng.normal(size=(3, 5)))
    x, y, y_prime = (a.ravel() for a in np.meshgrid(range(3), range(5), range(5), indexing="ij"))
    log_pi = pi_t.log_probs()
    pairs = Pairs(x, y, y_prime, log_pi[x, y] - log_pi[x, y_prime])
    erm = exact_update(pi_t, pi_t, pairs, 0.8, log_pi).policy
    np.testing.assert_allclose(
        erm.probs(), population_update(pi_t, pi_t, 0.8, log_pi).probs(), atol=1e-12
    )
