"""The hard instance of Theorem 4.1 and the trap of Proposition 4.3 have their stated properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srlm.theory import constructions


@settings(deadline=None)  # timing varies on shared CPUs
@given(
    eps=st.floats(0.01, 1.0),
    d=st.integers(1, 40),
    A=st.integers(2, 30),
    gamma=st.floats(0.01, 5.0),
    p=st.floats(0.51, 0.999),
    seed=st.integers(0, 100),
)
def test_hard_instance_invariants(eps, d, A, gamma, p, seed):
    inst = constructions.hard_instance(eps, d, A, gamma, uninformative_mode_prob=p, rng=seed)
    probs = inst.probs()  # (P, A)
    assert inst.prompt_weights.shape == (d + 1,) and probs.shape == (d + 1, A)
    assert inst.prompt_weights.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(inst.prompt_weights[1:], eps / d, rtol=1e-12)
    assert inst.log_card_pi == pytest.approx(d * np.log(A), rel=1e-12)

    # The favoured response is the unique mode, (1 + gamma) times any other response.
    assert np.all(probs.argmax(axis=1) == inst.favoured)
    rows = np.arange(1, d + 1)
    others = probs[1:].copy()
    others[rows - 1, inst.favoured[1:]] = np.nan
    ratio = probs[rows, inst.favoured[1:]][:, None] / others
    np.testing.assert_allclose(ratio[~np.isnan(ratio)], 1.0 + gamma, rtol=1e-10)
    assert probs[0, 0] == pytest.approx(p, rel=1e-12)

    # kappa_0 two ways: Eq. (5) by direct summation, and the closed form.
    direct = sum(w / row.max() for w, row in zip(inst.prompt_weights, probs, strict=True))
    closed = (1 - eps) / p + eps * (A + gamma) / (1 + gamma)
    assert inst.kappa_0 == pytest.approx(direct, rel=1e-12)
    assert inst.kappa_0 == pytest.approx(closed, rel=1e-10)


def test_hard_instance_favoured_is_random_and_seeded():
    a = constructions.hard_instance(0.5, 200, 10, 0.2, rng=0)
    b = constructions.hard_instance(0.5, 200, 10, 0.2, rng=0)
    np.testing.assert_array_equal(a.favoured, b.favoured)
    assert len(np.unique(a.favoured[1:])) == 10


def test_hard_instance_rejects_bad_parameters():
    with pytest.raises(ValueError, match="eps"):
        constructions.hard_instance(0.0, 3, 4, 0.5)
    with pytest.raises(ValueError, match="uninformative_mode_prob"):
        constructions.hard_instance(0.1, 3, 4, 0.5, uninformative_mode_prob=0.4)


TRAP_CASES = [
    dict(vocab_size=2, seq_len=2, trap_ratio=1.5),
    dict(vocab_size=2, seq_len=3, trap_ratio=2.5),
    dict(vocab_size=3, seq_len=2, trap_ratio=1.1),
    dict(vocab_size=3, seq_len=3, trap_ratio=[1.2, 1.5, 2.0, 2.5], num_prompts=4, rng=7),
]


@pytest.mark.parametrize("kwargs", TRAP_CASES)
def test_trap_optimum_unique_at_most_half_and_missed_by_greedy(kwargs):
    conditionals = constructions.greedy_trap_conditionals(**kwargs)
    V, L = kwargs["vocab_size"], kwargs["seq_len"]
    for step, cond in enumerate(conditionals):
        assert cond.shape[1:] == (V**step, V)
        np.testing.assert_allclose(cond.sum(axis=2), 1.0, rtol=1e-12)
        assert np.all(cond > 0)

    probs = constructions.sequence_probs(conditionals)  # (P, V^L)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    best, best_prob = constructions.optimal_sequence(conditionals)
    greedy = constructions.greedy_sequence(conditionals)
    second = np.sort(probs, axis=1)[:, -2]
    assert np.all(best_prob - second > 1e-6)  # unique optimum, by a clear margin
    assert np.all(best_prob <= 0.5)
    assert np.all(greedy != best)
    # The trap: greedy's first token beats the optimum's, yet its sequence is less likely.
    tokens_best = constructions.sequence_tokens(best, V, L)
    tokens_greedy = constructions.sequence_tokens(greedy, V, L)
    rows = np.arange(probs.shape[0])
    first = conditionals[0][:, 0, :]  # (P, V)
    assert np.all(first[rows, tokens_greedy[:, 0]] > first[rows, tokens_best[:, 0]])
    continuations = probs.reshape(len(rows), V, -1)[rows, tokens_greedy[:, 0]]
    assert np.all(continuations.max(axis=1) < best_prob)


def test_trap_relabelling_changes_optimum_but_keeps_probabilities():
    plain = constructions.greedy_trap_conditionals(3, 3, num_prompts=6, trap_ratio=1.4)
    relabelled = constructions.greedy_trap_conditionals(3, 3, num_prompts=6, trap_ratio=1.4, rng=3)
    best, prob = constructions.optimal_sequence(relabelled)
    assert len(np.unique(best)) > 1
    np.testing.assert_allclose(prob, constructions.optimal_sequence(plain)[1], rtol=1e-12)
    np.testing.assert_allclose(
        np.sort(constructions.sequence_probs(relabelled), axis=1),
        np.sort(constructions.sequence_probs(plain), axis=1),
        rtol=1e-12,
    )


def test_trap_rejects_ratio_that_breaks_the_trap():
    with pytest.raises(ValueError, match="trap_ratio"):
        constructions.greedy_trap_conditionals(2, 2, trap_ratio=1.9)
    with pytest.raises(ValueError, match="trap_ratio"):
        constructions.greedy_trap_conditionals(2, 2, trap_ratio=0.9)


@pytest.mark.parametrize("kwargs", TRAP_CASES)
def test_trap_agrees_with_token_policy(kwargs):
    token = pytest.importorskip("srlm.policies.token")
    conditionals = constructions.greedy_trap_conditionals(**kwargs)
    policy = token.TokenPolicy.from_conditionals(conditionals)
    np.testing.assert_allclose(
        policy.probs(), constructions.sequence_probs(conditionals), rtol=1e-10
    )
    np.testing.assert_array_equal(policy.greedy(), constructions.greedy_sequence(conditionals))
    np.testing.assert_array_equal(policy.mode(), constructions.optimal_sequence(conditionals)[0])
    for step, cond in enumerate(conditionals):
        np.testing.assert_allclose(policy.conditionals(step), cond, rtol=1e-10)
