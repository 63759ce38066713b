"""Policies: normalisation, sampling frequencies, token-level structure, initial families."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from srlm import parallel
from srlm.policies.base import entries
from srlm.policies.families import calibrate, kappa, plant_correct, planted_family
from srlm.policies.linear import LinearSoftmaxPolicy, make_features, spectrum_eigenvalues
from srlm.policies.tabular import TabularPolicy
from srlm.policies.token import TokenPolicy, capped_top_token
from srlm.sampling import sample_pairs, sample_prompts, sample_rows, sorted_uniforms


def test_entries_match_two_index_fancy_indexing(rng: np.random.Generator) -> None:
    table = rng.normal(size=(7, 5))
    x, y = rng.integers(0, 7, 40), rng.integers(0, 5, 40)
    np.testing.assert_array_equal(entries(table, x, y), table[x, y])
    strided = rng.normal(size=(5, 7)).T  # not C-contiguous
    np.testing.assert_array_equal(entries(strided, x, y), strided[x, y])


def test_available_cores_follow_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler that grants 3 of 64 cores gets 3 threads, not 64."""
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {4, 9, 17}, raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 64)
    assert parallel.available_cores() == 3
    assert parallel.default_workers(parallel.THREADED_MIN_SIZE) == 3
    assert parallel.default_workers(parallel.THREADED_MIN_SIZE - 1) == 1


def test_entries_read_in_threaded_blocks_match_fancy_indexing(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long index arrays are read in blocks on several threads, with the same values."""
    monkeypatch.setattr(parallel, "available_cores", lambda: 3)
    table = rng.normal(size=(300, 40))
    size = 2 * parallel.BLOCK_SIZE + 17  # three blocks, the last one short
    assert parallel.default_workers(size, min_size=parallel.BLOCK_SIZE) == 3
    x, y = rng.integers(0, 300, size), rng.integers(0, 40, size)
    np.testing.assert_array_equal(entries(table, x, y), table[x, y])


def test_sampling_frequencies_match_probabilities(rng: np.random.Generator) -> None:
    """Chi-square goodness of fit of 200k draws per row, for rows drawn in any order."""
    scores = rng.normal(size=(3, 6)) * 2
    probs = TabularPolicy(scores).probs()
    x = rng.permutation(np.repeat(np.arange(3), 200_000))
    (y,) = sample_rows(scores, x, rng)
    for row in range(3):
        counts = np.bincount(y[x == row], minlength=6)
        assert stats.chisquare(counts, probs[row] * counts.sum()).pvalue > 1e-4


@pytest.mark.parametrize("scale", [590.0, 5000.0])
def test_sampling_rows_of_very_different_scale_in_one_block(
    rng: np.random.Generator, scale: float
) -> None:
    """Rows whose scores sit far apart share one running CDF; each must keep its own
    distribution (590: exp without a shift; 5000: the shifted path)."""
    shape = rng.normal(size=(4, 5))
    scores = shape + np.array([[scale], [-scale], [0.0], [scale]])
    probs = TabularPolicy(scores).probs()
    x = np.repeat(np.arange(4), 100_000)
    (y,) = sample_rows(scores, x, rng)
    for row in range(4):
        counts = np.bincount(y[x == row], minlength=5)
        assert stats.chisquare(counts, probs[row] * counts.sum()).pvalue > 1e-4


def test_sampling_a_subset_of_rows(rng: np.random.Generator) -> None:
    scores = np.full((50, 4), -np.inf)
    scores[np.arange(50), np.arange(50) % 4] = 0.0  # deterministic rows
    x = np.array([3, 3, 17, 42])
    np.testing.assert_array_equal(sample_rows(scores, x, rng, draws=3), np.tile(x % 4, (3, 1)))


def test_threads_do_not_change_the_draws(rng: np.random.Generator) -> None:
    scores = rng.normal(size=(40, 7))
    x = rng.integers(40, size=500)
    one = sample_rows(scores, x, np.random.default_rng(3), draws=2, workers=1)
    three = sample_rows(scores, x, np.random.default_rng(3), draws=2, workers=3)
    np.testing.assert_array_equal(one, three)


def test_sorted_uniforms_are_uniform_and_sorted(rng: np.random.Generator) -> None:
    counts = np.array([3, 0, 50_000, 1])
    u = sorted_uniforms(counts, rng)
    assert u.size == counts.sum() and np.all((u > 0) & (u < 1))
    assert np.all(np.diff(u[3 : 3 + 50_000]) >= 0)
    assert stats.kstest(u[3 : 3 + 50_000], "uniform").pvalue > 1e-4


def test_pairs_are_independent(rng: np.random.Generator) -> None:
    """y and y' of a pair are independent draws: their joint law is the product law."""
    pi = TabularPolicy(np.log(np.array([[0.5, 0.3, 0.2]])))
    x, y, y_prime = sample_pairs(pi, np.array([1.0]), 300_000, rng)
    joint = np.bincount(y * 3 + y_prime, minlength=9)
    expected = np.outer(pi.probs()[0], pi.probs()[0]).ravel() * x.size
    assert stats.chisquare(joint, expected).pvalue > 1e-4


def test_prompts_follow_weights(rng: np.random.Generator) -> None:
    weights = np.array([0.7, 0.1, 0.2])
    x = sample_prompts(weights, 100_000, rng)
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_allclose(np.bincount(x) / x.size, weights, atol=0.01)


def test_token_policy_factorises(rng: np.random.Generator) -> None:
    vocab, length = 3, 3
    conds = [rng.dirichlet(np.ones(vocab), size=(2, vocab**step)) for step in range(length)]
    pi = TokenPolicy.from_conditionals(conds)
    for seq in itertools.product(range(vocab), repeat=length):
        index = int(np.ravel_multi_index(seq, (vocab,) * length))
        expected = np.prod(
            [
                conds[s][:, np.ravel_multi_index(seq[:s], (vocab,) * s) if s else 0, seq[s]]
                for s in range(length)
            ],
            axis=0,
        )
        np.testing.assert_allclose(pi.probs()[:, index], expected, rtol=1e-12)
        np.testing.assert_array_equal(pi.tokens(np.array(index)), seq)
    for step in range(length):
        np.testing.assert_allclose(pi.conditionals(step), conds[step], rtol=1e-10)


def test_greedy_follows_argmax_tokens(rng: np.random.Generator) -> None:
    pi = TokenPolicy.from_conditionals(
        [rng.dirichlet(np.ones(2), size=(5, 2**step)) for step in range(4)]
    )
    greedy = pi.greedy()
    for p in range(5):
        prefix = 0
        for step in range(4):
            prefix = prefix * 2 + int(np.argmax(pi.conditionals(step)[p, prefix]))
        assert greedy[p] == prefix


def test_capped_family_kappa_lower_bound(rng: np.random.Generator) -> None:
    """Eq. (5): kappa >= alpha^-L when the top token has probability alpha."""
    for alpha in (0.4, 0.6, 0.9):
        pi = capped_top_token(10, 3, 3, alpha, rng)
        assert kappa(pi, np.full(10, 0.1)) >= alpha**-3 * (1 - 1e-12)
        np.testing.assert_allclose(pi.probs().max(axis=1), alpha**3)


def test_planted_margin_and_kappa_formula(rng: np.random.Generator) -> None:
    logits_of = planted_family(20, 8, rng, jitter=0.0)
    margin = 1.3
    pi = TabularPolicy(logits_of(margin))
    sorted_log = np.sort(pi.log_probs(), axis=1)
    np.testing.assert_allclose(sorted_log[:, -1] - sorted_log[:, -2], margin)
    expected = (np.exp(margin) + 7) / np.exp(margin)
    assert kappa(pi, np.full(20, 0.05)) == pytest.approx(expected)


def test_calibrate_reaches_target_kappa(rng: np.random.Generator) -> None:
    logits_of = planted_family(30, 12, rng)
    weights = np.full(30, 1 / 30)
    margin = calibrate(lambda m: TabularPolicy(logits_of(m)), weights, 4.5)
    assert kappa(TabularPolicy(logits_of(margin)), weights) == pytest.approx(4.5, rel=1e-9)


def test_plant_correct_marks_runner_up(rng: np.random.Generator) -> None:
    pi = TabularPolicy(rng.normal(size=(40, 5)))
    correct, wrong = plant_correct(pi, 0.25, rng)
    assert wrong.sum() == 10
    order = np.argsort(-pi.logits, axis=1)
    np.testing.assert_array_equal(correct[wrong == 0], order[wrong == 0, 0])
    np.testing.assert_array_equal(correct[wrong == 1], order[wrong == 1, 1])


@pytest.mark.parametrize("kind", ["flat", "exp", "poly", "spiked"])
def test_features_norm_and_spectrum(kind: str, rng: np.random.Generator) -> None:
    eig = spectrum_eigenvalues(kind, 6, rate=0.8, spikes=2)  # type: ignore[arg-type]
    phi = make_features(400, 50, eig, rng)
    assert np.linalg.norm(phi, axis=2).max() <= 1 + 1e-12
    cov = np.cov(phi.reshape(-1, 6).T)
    np.testing.assert_allclose(np.diag(cov) / cov[0, 0], eig, rtol=0.1, atol=0.01)


def test_linear_rejects_mismatched_theta() -> None:
    with pytest.raises(ValueError, match="d=3"):
        LinearSoftmaxPolicy(np.zeros((2, 2, 3)), np.zeros(4))
