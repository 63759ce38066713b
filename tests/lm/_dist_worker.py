"""Worker of the data-parallel test: one round of training on fixed pairs, then sampling and
scoring split across the processes; results to files.

Run either in-process (``train_fixed``, ``sample_fixed``) or under
``accelerate launch --num_processes 2 --cpu``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import make_tiny
from srlm.lm.pairs import Pair
from srlm.lm.policy import LMPolicy, SamplingConfig
from srlm.lm.processes import end_processes, map_shards
from srlm.lm.train import TrainConfig, make_accelerator, train_round


def fixed_pairs(n: int = 16) -> list[Pair]:
    """Deterministic pairs of varied lengths with non-zero targets."""
    rng = np.random.default_rng(3)
    pairs = []
    for i in range(n):
        prompt = [int(t) for t in rng.integers(2, 12, size=6)]
        chosen = [int(t) for t in rng.integers(2, 12, size=int(rng.integers(1, 4)))] + [1]
        rejected = [int(t) for t in rng.integers(2, 12, size=int(rng.integers(1, 4)))] + [1]
        pairs.append(
            Pair(i, 0, 1, prompt, chosen, rejected, float(rng.uniform(0.1, 2.0)), -3.0, -4.0)
        )
    return pairs


def train_fixed(loss: str = "square") -> tuple[float, list[float], torch.Tensor]:
    """Train the tiny model for two steps of a global batch of 8 pairs."""
    model, _ = make_tiny(0)
    config = TrainConfig(loss=loss, beta=0.5, lr=1e-3, epochs=1, batch_size=8, seed=5)
    model, result = train_round(
        model, fixed_pairs(), config, pad_id=0, accelerator=make_accelerator()
    )
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return result.loss, result.step_losses, flat


def sample_fixed() -> tuple[list[list[list[int]]], np.ndarray]:
    """Three responses to each of five prompts (three generation batches), and their log-probs."""
    model, tokenizer = make_tiny(1)
    policy = LMPolicy(model, tokenizer, use_chat_template=False)
    prompts = policy.encode_prompts(["12+34=", "5+6=", "99+1=", "40+2=", "7+70="])
    sampling = SamplingConfig(num_samples=3, max_new_tokens=4)
    responses = policy.generate(prompts, sampling, greedy=False, seed=11, batch_size=2)
    flat_x = [x for x, row in zip(prompts, responses, strict=True) for _ in row]
    logps = policy.logps(flat_x, [y for row in responses for y in row], batch_size=4)
    return responses, logps


if __name__ == "__main__":
    torch.set_num_threads(1)
    loss, step_losses, flat = train_fixed(sys.argv[2] if len(sys.argv) > 2 else "square")
    from accelerate import PartialState

    if PartialState().is_main_process:
        torch.save({"loss": loss, "step_losses": step_losses, "params": flat}, sys.argv[1])
    computed: list[int] = []
    squares = map_shards(lambda k: computed.append(k) or k * k, 7)
    responses, logps = sample_fixed()
    torch.save(
        {"computed": computed, "squares": squares, "responses": responses, "logps": logps},
        f"{sys.argv[1]}.rank{PartialState().process_index}",
    )
    end_processes()
