"""The policy interface shared by every exactly-computable policy class.

A policy ``pi(y|x)`` over ``P`` prompts and ``Y`` responses is represented by its scores
``s(x, y)`` (unnormalised log-probabilities), so that

    pi(y|x) = exp(s(x, y)) / sum_y' exp(s(x, y')).

Everything else (log-probabilities, the mode, sampling) is derived from the scores. Each
concrete class adds its parameters (``params``) and how a pair's score difference depends
on them, which is all the update of Eqs. (3)-(4) needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def log_softmax(scores: FloatArray) -> FloatArray:
    """Row-wise log-softmax of a (P, Y) array, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class Policy(ABC):
    """An exactly-computable conditional distribution ``pi(y|x)``.

    Subclasses are immutable: an update returns a new policy via :meth:`with_params`.
    """

    @abstractmethod
    def scores(self) -> FloatArray:
        """Unnormalised log-probabilities ``s(x, y)``, shape (P, Y)."""

    @property
    @abstractmethod
    def params(self) -> dict[str, FloatArray]:
        """The trainable parameters as named arrays (saved each round)."""

    @abstractmethod
    def with_params(self, **params: FloatArray) -> Policy:
        """A copy of this policy with new parameter values."""

    @abstractmethod
    def pair_score_diff(self, x: IntArray, y: IntArray, y_prime: IntArray) -> FloatArray:
        """``s(x, y) - s(x, y')`` for each pair, shape (n,)."""

    @abstractmethod
    def pair_score_diff_vjp(
        self, x: IntArray, y: IntArray, y_prime: IntArray, g: FloatArray
    ) -> dict[str, FloatArray]:
        """Gradient of ``sum_i g_i * (s(x_i, y_i) - s(x_i, y'_i))`` in each parameter."""

    @property
    def num_prompts(self) -> int:
        """``P``, the number of prompts."""
        return int(self.scores().shape[0])

    @property
    def num_responses(self) -> int:
        """``Y``, the number of responses per prompt."""
        return int(self.scores().shape[1])

    @cached_property
    def _log_probs(self) -> FloatArray:
        return log_softmax(self.scores())

    def log_probs(self) -> FloatArray:
        """``log pi(y|x)``, shape (P, Y); computed once per policy."""
        return self._log_probs

    def probs(self) -> FloatArray:
        """``pi(y|x)``, shape (P, Y); each row sums to 1."""
        return np.exp(self._log_probs)

    def mode(self) -> IntArray:
        """``y_pi(x) = argmax_y pi(y|x)`` per prompt, shape (P,); ties go to the lower index."""
        return np.argmax(self.scores(), axis=1)

    def sample(self, x: IntArray, rng: np.random.Generator, draws: int = 1) -> IntArray:
        """Responses ``y ~ pi(.|x_i)``, ``draws`` per prompt index, shape (draws, n)."""
        return sample_rows(self.scores(), x, rng, draws)


def sample_rows(
    scores: FloatArray, x: IntArray, rng: np.random.Generator, draws: int = 1
) -> IntArray:
    """Independent draws from each requested row of a categorical given by unnormalised log-probs.

    Inverse-CDF sampling on the concatenated row CDFs: row ``r`` of the needed rows occupies
    ``(r, r + 1]`` of a single increasing array, so one ``searchsorted`` serves every draw.
    The uniforms of each row are generated already sorted (normalised exponential spacings),
    so the search reads memory once, in order. Draws come back grouped as ``x`` is and, within
    a row, in increasing response order; as a multiset they are i.i.d. from each row.

    Args:
        scores: (P, Y) unnormalised log-probabilities.
        x: (n,) row indices.
        rng: Source of randomness.
        draws: Independent draws per entry of ``x`` (the CDF is built once for all).

    Returns:
        (draws, n) column indices, aligned with ``x``.
    """
    num_rows, num_cols = scores.shape
    is_sorted = bool(np.all(x[1:] >= x[:-1]))
    order = np.arange(x.size) if is_sorted else np.argsort(x, kind="stable")
    rows, counts = np.unique(x, return_counts=True)

    # CDF of each needed row, normalised exactly, offset by its position: (R, Y).
    sub = scores if rows.size == num_rows else scores[rows]
    cdf = sub - sub.max(axis=1, keepdims=True)
    np.exp(cdf, out=cdf)
    np.cumsum(cdf, axis=1, out=cdf)
    cdf /= cdf[:, -1:]
    cdf += np.arange(rows.size, dtype=np.float64)[:, None]

    # Per draw: sorted queries, then one in-order search.
    pos = np.repeat(np.arange(rows.size), counts)  # (n,) position among needed rows, sorted
    y = np.empty((draws, x.size), dtype=np.int64)
    for d in range(draws):
        flat = np.searchsorted(cdf.ravel(), pos + sorted_uniforms(counts, rng), side="right")
        flat -= pos * num_cols
        y[d, order] = np.clip(flat, 0, num_cols - 1, out=flat)
    return y


def sorted_uniforms(counts: IntArray, rng: np.random.Generator) -> FloatArray:
    """``counts[g]`` i.i.d. U(0, 1) draws per group, each group's draws in increasing order.

    Uses the order statistics of the uniform: with ``E_1 .. E_{m+1}`` i.i.d. exponential,
    ``(E_1 + .. + E_k) / (E_1 + .. + E_{m+1})``, k = 1..m, are m sorted uniforms.
    """
    gaps = rng.exponential(size=int(counts.sum()) + counts.size)
    total = np.cumsum(gaps)
    ends = np.cumsum(counts + 1) - 1  # index of each group's extra (m+1)-th gap
    start = np.concatenate([[0.0], total[ends[:-1]]])  # cumulative sum before each group
    group = np.repeat(np.arange(counts.size), counts)
    keep = np.ones(total.size, dtype=np.bool_)
    keep[ends] = False
    return (total[keep] - start[group]) / (total[ends] - start)[group]
