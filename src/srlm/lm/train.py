"""One round's update: minimise the pair loss over ``pi`` starting from ``pi_t`` (Eq. 4).

Runs under ``accelerate``: one process by default; ``accelerate launch`` with the user's config
makes it data-parallel. ``batch_size`` is the *global* batch, split evenly across processes, and
each process normalises by the global weight, so gradients and parameters match a single
process on the same global batch.

The reference log-probabilities come with the pairs (from the collection pass), so no second
copy of the model is held in memory during training.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from srlm.errors import SrlmError
from srlm.lm.losses import pair_loss
from srlm.lm.pairs import Pair
from srlm.lm.policy import pack
from srlm.lm.processes import use_cpu

logger = logging.getLogger(__name__)


class NonFiniteLoss(SrlmError):
    """The training loss became NaN or infinite; the round is stopped."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation of one round (see ``srlm.lm.config.LMRunConfig`` for field meanings)."""

    loss: str = "square"
    beta: float = 0.5
    lr: float = 1e-4
    epochs: int = 1
    batch_size: int = 16
    max_grad_norm: float | None = 1.0
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    seed: int = 0


@dataclass
class TrainResult:
    """What a round of training reports."""

    loss: float
    margin: float
    steps: int
    seconds: float
    step_losses: list[float] = field(default_factory=list)


def collate(pairs: list[Pair], pad_id: int) -> dict[str, Any]:
    """Tensors of a batch, pair-major so that any split along dim 0 keeps pairs whole.

    ``input_ids``, ``attention_mask`` and ``response_mask`` have shape (batch, 2, seq): row 0 of
    each pair is ``x + y_w`` (chosen), row 1 is ``x + y_l`` (rejected).
    """
    import torch

    prompts = [p.prompt_ids for p in pairs]
    responses = [y for p in pairs for y in (p.chosen_ids, p.rejected_ids)]
    rows = pack([x for x in prompts for _ in range(2)], responses, pad_id)  # each (2 batch, seq)
    ids, attention, response = (r.view(len(pairs), 2, -1) for r in rows)
    as_t = torch.tensor
    return {
        "input_ids": ids,
        "attention_mask": attention,
        "response_mask": response,
        "ref_chosen_logps": as_t([p.ref_chosen_logps for p in pairs], dtype=torch.float32),
        "ref_rejected_logps": as_t([p.ref_rejected_logps for p in pairs], dtype=torch.float32),
        "target": as_t([p.target for p in pairs], dtype=torch.float32),
        "weight": as_t([p.weight for p in pairs], dtype=torch.float32),
    }


def batch_loss(model: Any, batch: dict[str, Any], loss_type: str, beta: float) -> tuple[Any, Any]:
    """Per-pair losses and margins ``beta (chosen_logratios - rejected_logratios)``, (batch,)."""
    from srlm.lm.policy import sequence_logps

    # (batch, 2, seq) -> (2 batch, seq) with all chosen rows first, then all rejected rows.
    ids, attention, response = (
        batch[k].transpose(0, 1).reshape(-1, batch[k].size(-1))
        for k in ("input_ids", "attention_mask", "response_mask")
    )
    chosen_logps, rejected_logps = sequence_logps(model, ids, attention, response).chunk(2)
    lengths = response.sum(-1).to(chosen_logps.dtype).chunk(2)
    ref = (batch["ref_chosen_logps"], batch["ref_rejected_logps"])
    losses = pair_loss(
        loss_type, (chosen_logps, rejected_logps), ref, lengths, batch["target"], beta
    )
    margins = beta * ((chosen_logps - ref[0]) - (rejected_logps - ref[1]))
    return losses, margins.detach()


def make_accelerator() -> Any:
    """An ``Accelerator`` whose dataloaders split each global batch across processes."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    return Accelerator(cpu=use_cpu(), dataloader_config=DataLoaderConfiguration(split_batches=True))


def _ordered_pairs(pairs: list[Pair], epochs: int, seed: int) -> list[Pair]:
    """The pairs of every epoch in a seeded shuffled order (the same on every process)."""
    rng = np.random.default_rng(seed)
    return [pairs[i] for _ in range(epochs) for i in rng.permutation(len(pairs))]


def _wrap_lora(model: Any, config: TrainConfig) -> Any:
    """A fresh LoRA adapter on every linear layer (``peft``).

    GPT-2-style models store their projections as ``Conv1D`` (weights transposed), which LoRA
    must be told about.
    """
    from peft import LoraConfig, get_peft_model
    from transformers.pytorch_utils import Conv1D

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        target_modules="all-linear",
        lora_dropout=0.0,
        fan_in_fan_out=any(isinstance(m, Conv1D) for m in model.modules()),
    )
    return get_peft_model(model, lora)


def train_round(
    model: Any, pairs: list[Pair], config: TrainConfig, pad_id: int, accelerator: Any = None
) -> tuple[Any, TrainResult]:
    """Eq. (4): take ``pi_t`` (``model``) to ``pi_{t+1}`` by AdamW on the pair loss.

    Returns the trained model (unwrapped; LoRA merged into the weights) and a summary. Raises
    :class:`NonFiniteLoss` if a step's loss is NaN or infinite (the caller keeps ``pi_t``).
    """
    import torch

    accelerator = accelerator or make_accelerator()
    torch.manual_seed(config.seed)
    if config.lora:
        model = _wrap_lora(model, config)
    data = _ordered_pairs(pairs, config.epochs, config.seed)
    loader: Any = torch.utils.data.DataLoader(
        cast(Any, data),
        batch_size=config.batch_size,
        shuffle=False,
        collate_fn=lambda b: collate(b, pad_id),
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    # Eval mode: the update minimises a fixed empirical loss (Eq. 4), so dropout stays off (as
    # in TRL's DPOTrainer); with it on, every process would drop different units.
    model.eval()
    start, step_losses, margins = time.perf_counter(), [], []
    for batch in loader:
        loss, margin = _step(model, optimizer, batch, config, accelerator)
        step_losses.append(loss)
        margins.append(margin)
    model = accelerator.unwrap_model(model)
    model.eval()
    if config.lora:
        model = model.merge_and_unload()
    seconds = time.perf_counter() - start
    return model, TrainResult(
        loss=float(np.mean(step_losses)) if step_losses else float("nan"),
        margin=float(np.mean(margins)) if margins else float("nan"),
        steps=len(step_losses),
        seconds=seconds,
        step_losses=step_losses,
    )


def _step(
    model: Any, optimizer: Any, batch: dict[str, Any], config: TrainConfig, accelerator: Any
) -> tuple[float, float]:
    """One optimiser step on the weighted mean loss of a global batch; returns (loss, margin)."""
    losses, margins = batch_loss(model, batch, config.loss, config.beta)
    weight = batch["weight"]

    # Normalise by the global weight so the data-parallel gradient average is the global mean.
    global_weight = accelerator.reduce(weight.sum().detach(), reduction="sum").clamp(min=1e-12)
    loss = (weight * losses).sum() * accelerator.num_processes / global_weight
    reported = float(accelerator.reduce(loss.detach(), reduction="mean"))
    if not math.isfinite(reported):
        raise NonFiniteLoss(f"training loss is {reported} (NaN or infinite); round stopped")

    optimizer.zero_grad()
    accelerator.backward(loss)
    if config.max_grad_norm is not None:
        accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
    optimizer.step()
    margin = float(accelerator.reduce(margins.mean(), reduction="mean"))
    return reported, margin
