"""Linear softmax policy (Definition 6.1) and feature construction from a covariance spectrum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from srlm.policies.base import FloatArray, IntArray, Policy

Spectrum = Literal["flat", "exp", "poly", "spiked"]


@dataclass(frozen=True, eq=False)
class LinearSoftmaxPolicy(Policy):
    """``pi_theta(y|x) proportional to exp(<theta, phi(x, y)>)`` (Definition 6.1).

    Attributes:
        phi: (P, Y, d) features, each of Euclidean norm at most 1.
        theta: (d,) parameter.
        radius: ``B``, the bound ``||theta||_2 <= B`` enforced by the exact update, or None.
    """

    phi: FloatArray
    theta: FloatArray
    radius: float | None = None

    def __post_init__(self) -> None:
        if self.phi.ndim != 3:
            raise ValueError(f"phi must be 3-D (P, Y, d), got shape {self.phi.shape}")
        if self.theta.shape != (self.phi.shape[2],):
            raise ValueError(
                f"theta has shape {self.theta.shape} but the features have d={self.phi.shape[2]}"
            )

    @property
    def dim(self) -> int:
        """``d``, the feature dimension."""
        return int(self.phi.shape[2])

    def scores(self) -> FloatArray:
        return self.phi @ self.theta

    @property
    def params(self) -> dict[str, FloatArray]:
        return {"theta": self.theta}

    def with_params(self, **params: FloatArray) -> LinearSoftmaxPolicy:
        theta = np.asarray(params["theta"], dtype=np.float64)
        return LinearSoftmaxPolicy(phi=self.phi, theta=theta, radius=self.radius)

    def feature_covariance(self, weights: FloatArray) -> FloatArray:
        """``Sigma = E_{x ~ D} mean_y phi(x, y) phi(x, y)^T``, shape (d, d).

        The feature covariance of Corollary 6.4, taken as the second moment of the features
        under the prompt distribution ``D`` (``weights``, shape (P,)) with responses weighted
        equally. Since ``||phi|| <= 1``, its trace is at most 1.
        """
        num_responses = self.phi.shape[1]
        weighted = self.phi * np.sqrt(weights / num_responses)[:, None, None]
        flat = weighted.reshape(-1, self.dim)
        return flat.T @ flat

    def pair_features(self, x: IntArray, y: IntArray, y_prime: IntArray) -> FloatArray:
        """``phi(x, y) - phi(x, y')`` for each pair, shape (n, d)."""
        return self.phi[x, y] - self.phi[x, y_prime]

    def pair_score_diff(self, x: IntArray, y: IntArray, y_prime: IntArray) -> FloatArray:
        return self.pair_features(x, y, y_prime) @ self.theta

    def pair_score_diff_vjp(
        self, x: IntArray, y: IntArray, y_prime: IntArray, g: FloatArray
    ) -> dict[str, FloatArray]:
        return {"theta": self.pair_features(x, y, y_prime).T @ g}


def spectrum_eigenvalues(
    kind: Spectrum | str, dim: int, rate: float = 0.5, spikes: int = 2, floor: float = 1e-3
) -> FloatArray:
    """Covariance eigenvalues ``lambda_j``, j = 1..d, normalised so that ``lambda_1 = 1``.

    - ``flat``: ``lambda_j = 1``;
    - ``exp``: ``lambda_j = exp(-rate * (j - 1))`` (the decay of Corollary 6.4);
    - ``poly``: ``lambda_j = j^(-rate)``;
    - ``spiked``: ``spikes`` eigenvalues equal to 1, the rest equal to ``floor``.
    """
    j = np.arange(1, dim + 1, dtype=np.float64)
    if kind == "flat":
        return np.ones(dim)
    if kind == "exp":
        return np.exp(-rate * (j - 1))
    if kind == "poly":
        return j ** (-rate)
    if kind == "spiked":
        return np.where(j <= spikes, 1.0, floor)
    raise ValueError(f"unknown spectrum {kind!r}; expected flat, exp, poly or spiked")


def make_features(
    num_prompts: int,
    num_responses: int,
    eigenvalues: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """Gaussian features with covariance ``diag(eigenvalues)``, rescaled to norm at most 1.

    All features are divided by the same constant (the largest norm drawn), so the covariance
    keeps its spectrum up to one overall scale and ``||phi(x, y)||_2 <= 1`` holds exactly.

    Returns:
        (P, Y, d) features.
    """
    dim = eigenvalues.size
    z = rng.standard_normal((num_prompts, num_responses, dim)) * np.sqrt(eigenvalues)
    return z / np.linalg.norm(z, axis=2).max()
