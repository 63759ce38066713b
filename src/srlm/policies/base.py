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

from srlm.parallel import BLOCK_SIZE, block_bounds, default_workers, run_blocks

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def entries(table: FloatArray, x: IntArray, y: IntArray) -> FloatArray:
    """``table[x, y]`` for index arrays ``x, y``, read as flat ``take`` calls (the same values;
    numpy's two-index fancy indexing takes about twice as long on large tables). Long index
    arrays are read in blocks on all cores: each read waits on memory, not on arithmetic."""
    flat, num_cols = table.reshape(-1), table.shape[1]
    workers = default_workers(x.size, min_size=BLOCK_SIZE)
    if workers == 1 or x.ndim != 1:
        return np.take(flat, x * num_cols + y)
    out = np.empty(x.shape, dtype=table.dtype)
    bounds = block_bounds(x.size, BLOCK_SIZE)

    def block(k: int) -> None:
        part = slice(bounds[k], bounds[k + 1])
        np.take(flat, x[part] * num_cols + y[part], out=out[part])

    run_blocks(block, bounds.size - 1, workers)
    return out


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
        from srlm.sampling import sample_rows

        return sample_rows(self.scores(), x, rng, draws)
