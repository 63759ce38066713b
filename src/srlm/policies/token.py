"""Token-level (autoregressive) policy over sequences in ``V^L``, computed by enumeration.

A response is a sequence ``y = (y_1, ..., y_L)`` of tokens from a vocabulary of size ``V``,
indexed lexicographically: ``index(y) = sum_l y_l * V^(L - l)``. The model factorises as

    pi(y|x) = prod_l pi(y_l | x, y_<l).

With one free conditional table per prefix, this class holds every distribution over
``V^L``, so it is parameterised by its sequence log-probabilities (the same parameters as a
tabular policy over ``Y = V^L``); the conditionals and greedy decoding are derived from
them. This keeps the least-squares update of Eq. (3) exact, which a per-prefix logit
parameterisation would not (its log-ratios involve each prefix's normaliser).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srlm.policies.base import FloatArray, IntArray
from srlm.policies.tabular import TabularPolicy


@dataclass(frozen=True, eq=False)
class TokenPolicy(TabularPolicy):
    """Autoregressive policy; ``logits`` are sequence scores of shape (P, V^L).

    Attributes:
        vocab_size: ``V``.
        seq_len: ``L``.
    """

    vocab_size: int = 2
    seq_len: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.logits.shape[1] != self.vocab_size**self.seq_len:
            raise ValueError(
                f"logits have {self.logits.shape[1]} columns, expected "
                f"V^L = {self.vocab_size}^{self.seq_len} = {self.vocab_size**self.seq_len}"
            )

    def with_params(self, **params: FloatArray) -> TokenPolicy:
        logits = np.asarray(params["logits"], dtype=np.float64)
        return TokenPolicy(logits=logits, vocab_size=self.vocab_size, seq_len=self.seq_len)

    def conditionals(self, step: int) -> FloatArray:
        """``pi(y_step | x, y_<step)`` for every prefix, shape (P, V^step, V); step is 0-based."""
        num_prompts = self.logits.shape[0]
        shape = (num_prompts, self.vocab_size**step, self.vocab_size, -1)
        joint = self.probs().reshape(shape).sum(axis=3)  # (P, V^step, V)
        return joint / joint.sum(axis=2, keepdims=True)

    def greedy(self) -> IntArray:
        """Greedy decoding: the argmax token at each step, as sequence indices, shape (P,)."""
        num_prompts = self.logits.shape[0]
        prefix = np.zeros(num_prompts, dtype=np.int64)
        rows = np.arange(num_prompts)
        for step in range(self.seq_len):
            cond = self.conditionals(step)[rows, prefix]  # (P, V)
            prefix = prefix * self.vocab_size + np.argmax(cond, axis=1)
        return prefix

    def tokens(self, index: IntArray) -> IntArray:
        """Sequence indices to token arrays, shape (..., L)."""
        powers = self.vocab_size ** np.arange(self.seq_len - 1, -1, -1)
        return (np.asarray(index)[..., None] // powers) % self.vocab_size

    @classmethod
    def from_conditionals(cls, conditionals: list[FloatArray]) -> TokenPolicy:
        """Build the policy from per-step conditionals ``conditionals[l]`` of shape (P, V^l, V).

        Each row of each table must be a probability vector; zeros are allowed (their
        sequences get log-probability ``-inf``).
        """
        num_prompts, _, vocab_size = conditionals[0].shape
        log_p = np.zeros((num_prompts, 1))
        with np.errstate(divide="ignore"):
            for step, cond in enumerate(conditionals):
                if cond.shape != (num_prompts, vocab_size**step, vocab_size):
                    raise ValueError(f"conditionals[{step}] has shape {cond.shape}")
                log_p = (log_p[:, :, None] + np.log(cond)).reshape(num_prompts, -1)
        return cls(logits=log_p, vocab_size=vocab_size, seq_len=len(conditionals))


def capped_top_token(
    num_prompts: int, vocab_size: int, seq_len: int, alpha: float, rng: np.random.Generator
) -> TokenPolicy:
    """A token model whose top token has probability exactly ``alpha`` at every step.

    At each prefix one token (drawn at random) gets probability ``alpha``; the others share
    ``1 - alpha`` equally. Then ``kappa >= alpha^-L`` (the paper's remark after Eq. 5). Requires
    ``1/V < alpha < 1`` so that the top token is unique.
    """
    if not 1.0 / vocab_size < alpha < 1.0:
        raise ValueError(f"alpha={alpha} must lie in (1/V, 1) = ({1.0 / vocab_size:.3g}, 1)")
    conditionals = []
    for step in range(seq_len):
        shape = (num_prompts, vocab_size**step, vocab_size)
        cond = np.full(shape, (1.0 - alpha) / (vocab_size - 1))
        top = rng.integers(vocab_size, size=shape[:2])
        np.put_along_axis(cond, top[..., None], alpha, axis=2)
        conditionals.append(cond)
    return TokenPolicy.from_conditionals(conditionals)
