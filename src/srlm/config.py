"""Configuration of a theory-lab run: every field has a descriptive name, the paper's symbol
in its description, and is validated before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from srlm.errors import ConfigError


class LabConfig(BaseModel):
    """One run of the exact self-rewarding loop (the paper's setup, Eqs. 1-5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Policy class and size.
    policy: Literal["tabular", "linear", "token"] = Field(
        "tabular", description="Policy class: tabular softmax, linear softmax or token-level."
    )
    num_prompts: int = Field(64, gt=0, description="P, the number of prompts (x ~ uniform).")
    num_responses: int = Field(
        16, ge=2, description="Y, responses per prompt (tabular, linear); token uses V^L."
    )
    feature_dim: int = Field(8, gt=0, description="d, feature dimension (linear).")
    spectrum: Literal["flat", "exp", "poly", "spiked"] = Field(
        "flat", description="Feature covariance spectrum lambda_j (linear)."
    )
    spectrum_rate: float = Field(0.5, gt=0, description="Decay rate alpha (exp) or power (poly).")
    spectrum_spikes: int = Field(2, gt=0, description="Number of spikes k (spiked spectrum).")
    theta_radius: float | None = Field(None, gt=0, description="B, bound on ||theta||_2 (linear).")
    theta_init: list[float] | None = Field(
        None, description="theta_0 given explicitly (linear); length must equal feature_dim."
    )
    vocab_size: int = Field(3, ge=2, description="V, vocabulary size (token).")
    seq_len: int = Field(3, gt=0, description="L, response length in tokens (token).")

    # Initial policy pi_0.
    init: Literal["random", "planted", "capped"] = Field(
        "planted", description="pi_0 family: random scores, planted mode, or capped top token."
    )
    init_scale: float = Field(1.0, gt=0, description="Inverse temperature of random pi_0.")
    margin: float = Field(0.3, gt=0, description="Planted mode's log-probability margin.")
    alpha: float = Field(0.5, gt=0, lt=1, description="Top-token probability (capped token).")
    target_kappa: float | None = Field(
        None, gt=1, description="kappa_0 to calibrate pi_0 to (sets init_scale or margin)."
    )
    wrong_fraction: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of prompts whose planted correct answer is not the mode.",
    )

    # The algorithm.
    pairs_per_round: int = Field(256, gt=0, description="n, pairs sampled per round.")
    num_rounds: int = Field(10, ge=0, description="T, the number of rounds.")
    beta: float = Field(0.5, gt=0, description="beta, the KL coefficient of Eq. (2).")
    failure_threshold: float = Field(
        0.5, gt=0, lt=1, description="delta: failure is pi_T(mode|x) <= 1 - delta."
    )
    reward: Literal["loglik", "noisy", "quantised", "sign"] = Field(
        "loglik", description="Self-reward channel r_t (Eq. 1 and variants)."
    )
    noise_std: float = Field(0.1, ge=0, description="Noise std of one reward evaluation (noisy).")
    judge_levels: int = Field(5, ge=2, description="k, score levels of the quantised judge.")
    solver: Literal["exact", "gradient", "population"] = Field(
        "exact", description="ERM solver of Eq. (4), or the population map (n infinite)."
    )
    loss: Literal["square", "logistic"] = Field(
        "square", description="Loss for the gradient solver: Eq. (3) or logistic DPO."
    )
    grad_steps: int = Field(200, gt=0, description="k, gradient steps per round (gradient).")
    learning_rate: float = Field(0.5, gt=0, description="Step size (gradient).")
    batch_size: int | None = Field(None, gt=0, description="Minibatch pairs; none = full batch.")
    reference: Literal["current", "initial"] = Field(
        "current", description="Reference of the KL term: pi_t (the paper) or pi_0."
    )
    seed: int = Field(0, ge=0, description="Seed of the instance and the data.")
    save_rounds: bool = Field(True, description="Save each round's pairs and parameters.")

    @model_validator(mode="after")
    def _check_consistency(self) -> LabConfig:
        if self.theta_init is not None and len(self.theta_init) != self.feature_dim:
            raise ValueError(
                f"theta_init has {len(self.theta_init)} entries but feature_dim={self.feature_dim}"
            )
        if self.init == "capped" and self.policy != "token":
            raise ValueError("init='capped' needs policy='token'")
        if self.policy == "token" and self.init == "capped" and self.alpha <= 1 / self.vocab_size:
            raise ValueError(f"alpha={self.alpha} must exceed 1/vocab_size")
        if self.loss == "logistic" and self.solver != "gradient":
            raise ValueError("loss='logistic' needs solver='gradient'")
        if self.solver == "population" and self.reward in ("noisy", "sign"):
            raise ValueError("solver='population' needs reward 'loglik' or 'quantised'")
        return self


def parse_config(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate ``data`` against ``model``, raising a one-line :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        value = first.get("input")
        if first["type"] == "extra_forbidden":
            raise ConfigError(field, value, "unknown field") from None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "value_error" and not first["loc"]:
            raise ConfigError.across_fields(message) from None
        raise ConfigError(field, value, message) from None


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, raising a one-line :class:`ConfigError` if it is not one."""
    if not path.is_file():
        raise ConfigError("config", str(path), "file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError("config", str(path), f"malformed YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config", str(path), "must be a YAML mapping of field: value")
    return data
