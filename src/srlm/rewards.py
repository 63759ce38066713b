"""Self-reward channels: how round t labels a pair ``(x, y, y')`` (Eq. 1 and variants).

Every channel returns the *reward difference* ``r_t(x, y) - r_t(x, y')`` that the square
loss of Eq. (3) regresses on. Channels whose reward is a function of the response alone
(a *potential*: the exact log-likelihood and the quantised judge) also expose that function,
which lets the tabular update use its closed form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from srlm.policies.base import FloatArray, IntArray, Policy, entries


class SelfReward(ABC):
    """A way for the current model ``pi_t`` to score its own responses."""

    name: str = ""
    is_potential: bool = False  # r_t is a function of (x, y): pair labels are differences

    def node_reward(self, pi_t: Policy) -> FloatArray | None:
        """``r_t(x, y)`` for every response, shape (P, Y), or None if not a function of y."""
        return None

    def potential_at(self, pi_t: Policy, x: IntArray, y: IntArray) -> FloatArray | None:
        """``r_t(x, y)`` up to a constant per prompt at the given responses, or None.

        Every pair compares two responses to one prompt, so a per-prompt constant cancels;
        the tabular closed form needs only these values at the touched responses.
        """
        table = self.node_reward(pi_t)
        return None if table is None else entries(table, x, y)

    def potential(self, pi_t: Policy) -> Callable[[IntArray, IntArray], FloatArray] | None:
        """``(x, y) -> r_t(x, y)`` up to a per-prompt constant, or None if not a potential."""
        if not self.is_potential:
            return None

        def at(x: IntArray, y: IntArray) -> FloatArray:
            values = self.potential_at(pi_t, x, y)
            assert values is not None
            return values

        return at

    @abstractmethod
    def pair_target(
        self,
        pi_t: Policy,
        x: IntArray,
        y: IntArray,
        y_prime: IntArray,
        rng: np.random.Generator,
    ) -> FloatArray:
        """The label of each pair, ``r_t(x, y) - r_t(x, y')``, shape (n,)."""


class _PotentialReward(SelfReward):
    """A reward that is a fixed function of (x, y): its pair label is a difference of values."""

    is_potential = True

    def pair_target(
        self,
        pi_t: Policy,
        x: IntArray,
        y: IntArray,
        y_prime: IntArray,
        rng: np.random.Generator,
    ) -> FloatArray:
        r_y, r_y_prime = self.potential_at(pi_t, x, y), self.potential_at(pi_t, x, y_prime)
        assert r_y is not None and r_y_prime is not None
        return r_y - r_y_prime


@dataclass(frozen=True)
class LogLikelihood(_PotentialReward):
    """Eq. (1): ``r_t(x, y) = log pi_t(y|x)``, the model's own log-likelihood."""

    name: str = "loglik"

    def node_reward(self, pi_t: Policy) -> FloatArray:
        return pi_t.log_probs()

    def potential_at(self, pi_t: Policy, x: IntArray, y: IntArray) -> FloatArray:
        # log pi_t(y|x) = s(x, y) - log Z(x): the scores, without computing any Z(x).
        return entries(pi_t.scores(), x, y)


@dataclass(frozen=True)
class NoisyLogLikelihood(SelfReward):
    """Eq. (1) observed with noise: each evaluation is ``log pi_t(y|x) + eps``, ``eps ~ N(0, s^2)``.

    The two responses of a pair are evaluated independently, so the label carries noise of
    variance ``2 s^2``, drawn afresh for every pair (a response seen twice is judged twice).

    Attributes:
        noise_std: ``s``, the standard deviation of one evaluation.
    """

    noise_std: float = 0.1
    name: str = "noisy"

    def pair_target(
        self,
        pi_t: Policy,
        x: IntArray,
        y: IntArray,
        y_prime: IntArray,
        rng: np.random.Generator,
    ) -> FloatArray:
        eps = rng.normal(0.0, self.noise_std, size=(2, x.size))
        return pi_t.pair_score_diff(x, y, y_prime) + (eps[0] - eps[1])


@dataclass(frozen=True)
class QuantisedJudge(_PotentialReward):
    """A coarse judge: ``log pi_t(y|x)`` rounded to one of ``k`` levels per prompt.

    The range ``[min_y log pi_t(y|x), max_y log pi_t(y|x)]`` of each prompt is cut into ``k``
    equal bins and each response gets its bin's midpoint, so responses in one bin tie. This
    stands in for an LLM judge's 1-to-k scores, which keep the order only coarsely.

    Attributes:
        levels: ``k >= 2``.
    """

    levels: int = 5
    name: str = "quantised"

    def node_reward(self, pi_t: Policy) -> FloatArray:
        log_pi_t = pi_t.log_probs()
        low = log_pi_t.min(axis=1, keepdims=True)
        width = np.maximum(log_pi_t.max(axis=1, keepdims=True) - low, 1e-12) / self.levels
        level = np.minimum(np.floor((log_pi_t - low) / width), self.levels - 1)
        return low + (level + 0.5) * width


@dataclass(frozen=True)
class SignLabel(SelfReward):
    """The preference label of logistic DPO: ``sign(log pi_t(y|x) - log pi_t(y'|x))``.

    Ties give 0; the logistic loss drops them.
    """

    name: str = "sign"

    def pair_target(
        self,
        pi_t: Policy,
        x: IntArray,
        y: IntArray,
        y_prime: IntArray,
        rng: np.random.Generator,
    ) -> FloatArray:
        return np.sign(pi_t.pair_score_diff(x, y, y_prime))


def make_reward(name: str, noise_std: float = 0.1, judge_levels: int = 5) -> SelfReward:
    """Build a reward channel from its config name."""
    if name == "loglik":
        return LogLikelihood()
    if name == "noisy":
        return NoisyLogLikelihood(noise_std=noise_std)
    if name == "quantised":
        return QuantisedJudge(levels=judge_levels)
    if name == "sign":
        return SignLabel()
    raise ValueError(f"unknown reward {name!r}; expected loglik, noisy, quantised or sign")
