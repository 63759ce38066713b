"""The configuration of ``srlm lm run``: one validated object, checked before anything is written.

Descriptive names in the file, paper symbols in the code: ``num_rounds`` is ``T``,
``prompts_per_round`` is the number of prompts ``x ~ D`` per round, ``num_samples`` is ``N``,
``failure_threshold`` is ``delta``; ``beta`` is ``beta``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from srlm.errors import ConfigError

BUILTIN_MODELS = ("tiny", "smollm2")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
Sink = Literal["jsonl", "tensorboard", "wandb"]


def _default_sinks() -> list[Sink]:
    return ["jsonl"]


class LMRunConfig(BaseModel):
    """Every setting of an LM self-rewarding run (one field per line of the YAML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field("tiny", description="tiny, smollm2, a local model folder or a hub id.")
    use_chat_template: bool = Field(True, description="Wrap prompts in the chat template.")
    prompts_file: str | None = Field(None, description="Text (one per line) or JSONL prompts.")
    run_dir: str = Field("runs/lm_tiny", description="Where artefacts are written.")
    seed: int = Field(0, description="Seed of prompts, sampling and training order.")
    num_rounds: int = Field(3, ge=1, description="T, the number of self-rewarding rounds.")
    prompts_per_round: int = Field(256, ge=1, description="Prompts x ~ D sampled each round.")
    num_samples: int = Field(2, ge=2, description="N, candidates per prompt.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature (1 samples pi_t).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus mass (1 samples pi_t).")
    max_new_tokens: int = Field(8, ge=1, description="Longest response in tokens.")
    reward: Literal["self", "verifier"] = Field(
        "self", description="self: r_t = log pi_t (Eq. 1); verifier: external, not self-reward."
    )
    reward_average: bool = Field(False, description="Self-reward as mean, not sum, of token logps.")
    pairing: Literal["sampled", "best_worst"] = Field("sampled", description="How pairs form.")
    ties: Literal["drop", "keep", "mask"] = Field("drop", description="Pairs with equal rewards.")
    loss: Literal["square", "sigmoid", "ipo"] = Field("square", description="Eq. (3), DPO, IPO.")
    beta: float = Field(0.5, gt=0, description="beta, the KL weight of Eq. (2).")
    reference: Literal["current", "initial"] = Field("current", description="pi_t or pi_0.")
    lr: float = Field(3e-4, gt=0, description="AdamW learning rate.")
    epochs: int = Field(2, ge=1, description="Passes over a round's pairs.")
    batch_size: int = Field(32, ge=1, description="Pairs per optimiser step (global).")
    max_grad_norm: float | None = Field(1.0, gt=0, description="Gradient clipping (None: off).")
    lora: bool = Field(False, description="Train a LoRA adapter (peft) instead of all weights.")
    lora_r: int = Field(8, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(16, ge=1, description="LoRA scale numerator.")
    failure_threshold: float = Field(0.5, gt=0, lt=1, description="delta of the failure event.")
    eval_prompts: int = Field(200, ge=1, description="Fixed evaluation prompts per round.")
    eval_samples: int = Field(4, ge=1, description="Samples per evaluation prompt.")
    generation_batch_size: int = Field(64, ge=1, description="Prompts per generate call.")
    threads: int | None = Field(
        None, ge=1, description="CPU threads for torch (None: torch's default; 1 on shared CPUs)."
    )
    log_to: list[Sink] = Field(
        default_factory=_default_sinks, description="Metric sinks (wandb runs offline)."
    )


def parse_config(data: Any, source: str = "config") -> LMRunConfig:
    """Validate a mapping; the first problem becomes a one-line :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError(source, type(data).__name__, "expected a YAML mapping of settings")
    try:
        config = LMRunConfig(**data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or source
        raise ConfigError(field, first.get("input"), first["msg"]) from None
    check_model_source(config.model)
    if config.prompts_file is not None:
        load_prompts(config.prompts_file)
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> LMRunConfig:
    """Read and validate a YAML config file (``overrides`` replace fields before validation)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config", str(path), "file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError("config", str(path), f"not valid YAML ({_first_line(err)})") from None
    if isinstance(data, dict) and overrides:
        data = {**data, **overrides}
    return parse_config(data, source="config")


def check_model_source(model: str) -> None:
    """A built-in name, an existing folder, or something shaped like a hub id ``org/name``."""
    if model in BUILTIN_MODELS or Path(model).expanduser().is_dir():
        return
    if _HUB_ID.match(model) and not Path(model.split("/")[0]).exists():
        return
    raise ConfigError("model", model, "no such model folder (and not tiny, smollm2 or a hub id)")


def load_prompts(path: str | Path) -> list[str]:
    """Prompts from a text file (one per line) or JSONL (objects with a ``prompt`` field)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("prompts_file", str(path), "file not found")
    lines = [ln for ln in path.read_text(errors="strict").splitlines() if ln.strip()]
    if not lines:
        raise ConfigError("prompts_file", str(path), "no prompts in file")
    if path.suffix != ".jsonl":
        return lines
    prompts = []
    for n, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError("prompts_file", f"{path}:{n}", "line is not JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
            raise ConfigError("prompts_file", f"{path}:{n}", 'expected {"prompt": "..."}')
        prompts.append(record["prompt"])
    return prompts


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
