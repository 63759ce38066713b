"""A lab instance: the initial policy ``pi_0``, prompt distribution ``D`` and planted answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from srlm.config import LabConfig
from srlm.policies.base import FloatArray, IntArray, Policy
from srlm.policies.families import calibrate, plant_correct, planted_family
from srlm.policies.linear import LinearSoftmaxPolicy, make_features, spectrum_eigenvalues
from srlm.policies.tabular import TabularPolicy
from srlm.policies.token import TokenPolicy, capped_top_token


@dataclass(frozen=True)
class Instance:
    """What a run starts from.

    Attributes:
        pi_0: The initial policy.
        weights: (P,) prompt distribution ``D``.
        correct: (P,) planted correct response per prompt, or None.
    """

    pi_0: Policy
    weights: FloatArray
    correct: IntArray | None = None


def seed_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The two independent random streams of a run: one draws the instance, one the data."""
    instance_seed, data_seed = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(instance_seed), np.random.default_rng(data_seed)


def instance_of(cfg: LabConfig) -> Instance:
    """The instance a run with ``cfg`` starts from (its seed's instance stream)."""
    return build_instance(cfg, seed_streams(cfg.seed)[0])


def build_instance(cfg: LabConfig, rng: np.random.Generator) -> Instance:
    """Draw ``pi_0`` from the configured family (calibrated to ``target_kappa`` if given)."""
    weights = np.full(cfg.num_prompts, 1.0 / cfg.num_prompts)
    make = _family(cfg, rng)
    if cfg.target_kappa is not None:
        knob = calibrate(make, weights, cfg.target_kappa)
    else:
        knob = cfg.margin if _uses_margin(cfg) else cfg.init_scale
    pi_0 = make(knob)
    correct = None
    if cfg.wrong_fraction > 0 or _uses_margin(cfg):
        correct, _ = plant_correct(pi_0, cfg.wrong_fraction, rng)
    return Instance(pi_0=pi_0, weights=weights, correct=correct)


def _uses_margin(cfg: LabConfig) -> bool:
    return cfg.init == "planted" and cfg.policy != "linear"


def _family(cfg: LabConfig, rng: np.random.Generator) -> Callable[[float], Policy]:
    """A function ``knob -> pi_0``, where the knob is a margin or an inverse temperature.

    Every random draw happens here, once, so calibration only rescales fixed draws.
    """
    if cfg.policy == "linear":
        return _linear_family(cfg, rng)
    if cfg.policy == "token" and cfg.init == "capped":
        base = capped_top_token(cfg.num_prompts, cfg.vocab_size, cfg.seq_len, cfg.alpha, rng)
        return lambda a: base.with_params(logits=base.logits * a)

    num_responses = cfg.vocab_size**cfg.seq_len if cfg.policy == "token" else cfg.num_responses
    if cfg.init == "planted":
        scores_of = planted_family(cfg.num_prompts, num_responses, rng)
    else:
        raw = rng.standard_normal((cfg.num_prompts, num_responses))

        def scores_of(a: float) -> FloatArray:
            return raw * a

    if cfg.policy == "token":
        return lambda a: TokenPolicy(
            logits=scores_of(a), vocab_size=cfg.vocab_size, seq_len=cfg.seq_len
        )
    return lambda a: TabularPolicy(logits=scores_of(a))


def _linear_family(cfg: LabConfig, rng: np.random.Generator) -> Callable[[float], Policy]:
    """Linear softmax: features from the spectrum, ``theta_0 = a * direction``."""
    eigenvalues = spectrum_eigenvalues(
        cfg.spectrum, cfg.feature_dim, cfg.spectrum_rate, cfg.spectrum_spikes
    )
    phi = make_features(cfg.num_prompts, cfg.num_responses, eigenvalues, rng)
    if cfg.theta_init is not None:
        direction = np.asarray(cfg.theta_init, dtype=np.float64)
    else:
        direction = rng.standard_normal(cfg.feature_dim)
        direction /= np.linalg.norm(direction)
    return lambda a: LinearSoftmaxPolicy(phi=phi, theta=direction * a, radius=cfg.theta_radius)
