"""Pairs from candidates: the paper's sampled pairs, best-versus-worst, and ties."""

from __future__ import annotations

import numpy as np
import pytest

from srlm.lm.pairs import build_pairs

PROMPTS = [[3, 12, 4, 13], [5, 12, 6, 13]]
RESPONSES = [[[7, 1], [8, 1], [9, 1], [7, 1]], [[2, 1], [2, 1], [3, 1], [4, 1]]]
REWARDS = np.array([[-1.0, -3.0, -0.5, -1.0], [-2.0, -2.0, -4.0, -1.0]])


def test_sampled_pairs_are_consecutive_and_ordered() -> None:
    pairs = build_pairs(PROMPTS, RESPONSES, REWARDS, REWARDS, "sampled", "keep")
    got = [(p.prompt_index, p.chosen_index, p.rejected_index) for p in pairs]
    assert got == [(0, 0, 1), (0, 2, 3), (1, 0, 1), (1, 3, 2)]
    targets = [p.target for p in pairs]
    np.testing.assert_allclose(targets, [2.0, 0.5, 0.0, 3.0])
    assert all(p.ref_chosen_logps - p.ref_rejected_logps == p.target for p in pairs)


def test_ties_dropped_kept_or_masked() -> None:
    drop = build_pairs(PROMPTS, RESPONSES, REWARDS, REWARDS, "sampled", "drop")
    mask = build_pairs(PROMPTS, RESPONSES, REWARDS, REWARDS, "sampled", "mask")
    assert len(drop) == 3 and len(mask) == 4
    assert [p.weight for p in mask] == [1.0, 1.0, 0.0, 1.0]
    with pytest.raises(ValueError):
        build_pairs(PROMPTS, RESPONSES, REWARDS, REWARDS, "sampled", "ignore")


def test_best_worst() -> None:
    pairs = build_pairs(PROMPTS, RESPONSES, REWARDS, REWARDS, "best_worst")
    assert [(p.chosen_index, p.rejected_index) for p in pairs] == [(2, 1), (3, 2)]
    np.testing.assert_allclose([p.target for p in pairs], [2.5, 3.0])


def test_identical_responses_are_ties_even_if_rewards_differ() -> None:
    rewards = np.array([[-1.0, -1.5]])
    pairs = build_pairs([[3]], [[[5, 1], [5, 1]]], rewards, rewards, "sampled", "drop")
    assert pairs == []
