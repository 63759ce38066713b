"""Tabular softmax policy: one free logit per (prompt, response)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srlm.policies.base import FloatArray, IntArray, Policy, entries


@dataclass(frozen=True, eq=False)
class TabularPolicy(Policy):
    """``pi(y|x) = softmax_y(logits[x, y])``.

    Attributes:
        logits: (P, Y) free parameters.
    """

    logits: FloatArray

    def __post_init__(self) -> None:
        if self.logits.ndim != 2:
            raise ValueError(f"logits must be 2-D (P, Y), got shape {self.logits.shape}")

    def scores(self) -> FloatArray:
        return self.logits

    @property
    def params(self) -> dict[str, FloatArray]:
        return {"logits": self.logits}

    def with_params(self, **params: FloatArray) -> TabularPolicy:
        return TabularPolicy(logits=np.asarray(params["logits"], dtype=np.float64))

    def pair_score_diff(self, x: IntArray, y: IntArray, y_prime: IntArray) -> FloatArray:
        return entries(self.logits, x, y) - entries(self.logits, x, y_prime)

    def pair_score_diff_vjp(
        self, x: IntArray, y: IntArray, y_prime: IntArray, g: FloatArray
    ) -> dict[str, FloatArray]:
        num_prompts, num_responses = self.logits.shape
        size = num_prompts * num_responses
        grad = np.bincount(x * num_responses + y, weights=g, minlength=size).astype(np.float64)
        grad -= np.bincount(x * num_responses + y_prime, weights=g, minlength=size)
        return {"logits": grad.reshape(num_prompts, num_responses)}
