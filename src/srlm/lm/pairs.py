"""From candidates to pairs ``(x, y, y')`` with a target, for Eq. (3) or DPO/IPO.

Two ways to pair the ``N`` candidates of a prompt:

- ``sampled`` (the paper): consecutive candidates ``(y_0, y_1), (y_2, y_3), ...`` are
  independent draws from ``pi_t``; with ``N = 2`` this is exactly the paper's data of round t.
- ``best_worst`` (Yuan et al. 2024): the highest- against the lowest-reward candidate.

Within a pair the higher-reward response is called ``chosen`` (``y_w``) and the target is
``r_t(x, y_w) - r_t(x, y_l) >= 0``. Eq. (3) is symmetric under swapping ``y`` and ``y'`` with
the sign of the target, so this ordering loses nothing. Ties (equal rewards, e.g. the same
response drawn twice) are dropped by default, or kept, or kept with weight 0 (``mask``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

PAIRINGS = ("sampled", "best_worst")
TIE_POLICIES = ("drop", "keep", "mask")


@dataclass(frozen=True)
class Pair:
    """One training pair; log-probabilities are under ``pi_t`` (the collection pass)."""

    prompt_index: int
    chosen_index: int
    rejected_index: int
    prompt_ids: list[int]
    chosen_ids: list[int]
    rejected_ids: list[int]
    target: float
    ref_chosen_logps: float
    ref_rejected_logps: float
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return asdict(self)


def _candidate_pairs(rewards: np.ndarray, pairing: str) -> list[tuple[int, int]]:
    """Index pairs of one prompt's candidates (unordered), given their rewards, shape (N,)."""
    if pairing == "sampled":
        return [(j, j + 1) for j in range(0, len(rewards) - 1, 2)]
    if pairing == "best_worst":
        order = np.argsort(rewards, kind="stable")
        return [(int(order[-1]), int(order[0]))]
    raise ValueError(f"unknown pairing {pairing!r}; expected one of {PAIRINGS}")


def build_pairs(
    prompt_ids: list[list[int]],
    responses: list[list[list[int]]],
    rewards: np.ndarray,
    ref_logps: np.ndarray,
    pairing: str = "sampled",
    ties: str = "drop",
    tie_tol: float = 1e-6,
) -> list[Pair]:
    """Pairs of every prompt, chosen first, with target ``r(x, y_w) - r(x, y_l)``.

    Args:
        prompt_ids: Token ids of each prompt ``x``, length P.
        responses: ``responses[i][j]``, the j-th candidate of prompt i (N per prompt).
        rewards: ``r_t(x_i, y_ij)``, shape (P, N).
        ref_logps: ``log pi_ref(y_ij|x_i)`` from the collection pass, shape (P, N).
        pairing: ``sampled`` or ``best_worst``.
        ties: What to do with a pair whose rewards differ by at most ``tie_tol``, or whose
            responses are identical: ``drop``, ``keep`` or ``mask`` (weight 0).
        tie_tol: Tolerance of a tie.
    """
    if ties not in TIE_POLICIES:
        raise ValueError(f"unknown tie policy {ties!r}; expected one of {TIE_POLICIES}")
    pairs = []
    for i, x in enumerate(prompt_ids):
        for a, b in _candidate_pairs(rewards[i], pairing):
            w, lo = (a, b) if rewards[i, a] >= rewards[i, b] else (b, a)
            tie = rewards[i, w] - rewards[i, lo] <= tie_tol or responses[i][w] == responses[i][lo]
            if tie and ties == "drop":
                continue
            pairs.append(
                Pair(
                    prompt_index=i,
                    chosen_index=w,
                    rejected_index=lo,
                    prompt_ids=x,
                    chosen_ids=responses[i][w],
                    rejected_ids=responses[i][lo],
                    target=float(rewards[i, w] - rewards[i, lo]),
                    ref_chosen_logps=float(ref_logps[i, w]),
                    ref_rejected_logps=float(ref_logps[i, lo]),
                    weight=0.0 if tie and ties == "mask" else 1.0,
                )
            )
    return pairs
