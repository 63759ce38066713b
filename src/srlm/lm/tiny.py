"""The built-in task and tiny model: multi-digit addition, answers checkable by a verifier.

A prompt is ``"07+35="`` (operands zero-padded to ``digits`` so every prompt has the same
length) and the correct response is ``"42"`` followed by end of sequence. A GPT-2-style model
of under a million parameters is trained from scratch on most of the prompts, then cached.

Training is deliberately stopped short and uses label smoothing, so the model is
*unconfident*: greedy decoding is mostly right while temperature-1 samples are diffuse
(a large ``kappa``), the regime the paper's theory is about.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdditionTask:
    """Addition of two ``digits``-digit numbers; a held-out split serves as the loop's prompts.

    Attributes:
        digits: Number of digits per operand.
        heldout_fraction: Fraction of all operand pairs never seen in pretraining.
    """

    digits: int = 2

    heldout_fraction: float = 0.1

    def prompt(self, a: int, b: int) -> str:
        """The prompt text for ``a + b``."""
        return f"{a:0{self.digits}d}+{b:0{self.digits}d}="

    def all_pairs(self) -> np.ndarray:
        """Every operand pair in a fixed shuffled order, shape (10^(2 digits), 2)."""
        m = 10**self.digits
        grid = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2)
        return grid[np.random.default_rng(12345).permutation(len(grid))]

    def split(self) -> tuple[np.ndarray, np.ndarray]:
        """(pretraining pairs, held-out pairs)."""
        pairs = self.all_pairs()
        n_heldout = max(1, round(self.heldout_fraction * len(pairs)))
        return pairs[n_heldout:], pairs[:n_heldout]

    def heldout_prompts(self) -> list[str]:
        """Prompts never used in pretraining (the default prompt set of ``srlm lm run``)."""
        return [self.prompt(int(a), int(b)) for a, b in self.split()[1]]


def verify(prompt: str, response: str) -> float | None:
    """External verifier: 1.0 if ``response`` is the sum asked by ``prompt``, else 0.0.

    Returns None when ``prompt`` is not an addition prompt (the verifier does not apply).
    This is *not* self-reward; outputs that use it are labelled ``verifier``.
    """
    body = prompt.strip()
    if not body.endswith("=") or body.count("+") != 1:
        return None
    left, right = body[:-1].split("+")
    if not (left.isdigit() and right.isdigit()):
        return None
    return float(response.strip() == str(int(left) + int(right)))


@dataclass(frozen=True)
class PretrainConfig:
    """How the tiny model is built and trained (the cache key is a hash of these fields).

    Attributes:
        digits: Operand digits of the task.
        n_embd: Width of the GPT-2 model.
        n_layer: Number of transformer blocks.
        n_head: Attention heads.
        steps: Maximum optimiser steps.
        batch_size: Sequences per step.
        lr: AdamW learning rate (cosine-free, constant after warm-up).
        label_smoothing: Smoothing of the token targets; keeps samples diffuse.
        max_seconds: Wall-clock budget; training stops early when it is spent.
        seed: Seed of initialisation and batch order.
    """

    digits: int = 2
    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    steps: int = 700
    batch_size: int = 128
    lr: float = 2e-3
    label_smoothing: float = 0.2
    max_seconds: float = 600.0
    seed: int = 0

    def key(self) -> str:
        """A short hash naming this configuration's cache folder."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def cache_root() -> Path:
    """Where srlm caches models: ``$SRLM_CACHE``, else ``~/.cache/srlm``."""
    return Path(os.environ.get("SRLM_CACHE", Path.home() / ".cache" / "srlm")).expanduser()


def build_model(config: PretrainConfig, vocab_size: int, seed: int) -> Any:
    """A randomly initialised GPT-2 causal LM sized by ``config``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    max_len = 2 * config.digits + 2 + config.digits + 2
    gpt = GPT2Config(
        vocab_size=vocab_size,
        n_positions=max(32, max_len),
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    return GPT2LMHeadModel(gpt)


def encode_examples(task: AdditionTask, pairs: np.ndarray, tokenizer: Any) -> tuple[Any, Any]:
    """Token ids and answer mask of ``prompt + answer + eos``, right-padded, shape (batch, L)."""
    import torch

    rows, masks = [], []
    for a, b in pairs:
        prompt_ids = tokenizer(task.prompt(int(a), int(b)))["input_ids"]
        answer_ids = [*tokenizer(str(int(a + b)))["input_ids"], tokenizer.eos_token_id]
        rows.append(prompt_ids + answer_ids)
        masks.append([0] * len(prompt_ids) + [1] * len(answer_ids))
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, m) in enumerate(zip(rows, masks, strict=True)):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(m)] = torch.tensor(m)
    return ids, mask


def pretrain(config: PretrainConfig, out_dir: Path) -> dict[str, Any]:
    """Train the tiny model from scratch and save it (model + tokenizer) to ``out_dir``.

    The loss is token cross-entropy with label smoothing on the answer tokens only. Returns a
    summary (steps run, seconds, final loss) that is also saved as ``pretrain.json``.
    """
    import torch
    import torch.nn.functional as F

    from srlm.lm.tokenizer import build_tokenizer

    task = AdditionTask(config.digits)
    tokenizer = build_tokenizer()
    model = build_model(config, len(tokenizer), config.seed)
    ids, mask = encode_examples(task, task.split()[0], tokenizer)  # (batch, L)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(config.seed)
    start, step, loss_value = time.perf_counter(), 0, float("nan")
    model.train()
    for step in range(1, config.steps + 1):
        # Linear warm-up over the first 100 steps, then a constant rate.
        for group in opt.param_groups:
            group["lr"] = config.lr * min(1.0, step / 100)
        batch = torch.randint(0, len(ids), (config.batch_size,), generator=gen)
        # Right padding needs no attention mask in a causal model (and is much faster without).
        logits = model(input_ids=ids[batch]).logits
        targets = ids[batch][:, 1:].masked_fill(mask[batch][:, 1:] == 0, -100)
        loss = F.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)),
            targets.reshape(-1),
            ignore_index=-100,
            label_smoothing=config.label_smoothing,
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_value = loss.item()
        if step % 100 == 0:
            logger.info("pretrain step %d loss %.4f", step, loss_value)
        if time.perf_counter() - start > config.max_seconds:
            logger.warning("pretraining stopped at step %d: max_seconds spent", step)
            break
    summary = {"steps": step, "seconds": time.perf_counter() - start, "loss": loss_value}
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "pretrain.json").write_text(json.dumps({"config": asdict(config), **summary}))
    return summary


def tiny_model_dir(config: PretrainConfig | None = None, force: bool = False) -> Path:
    """The cached tiny model's folder, pretraining it first if it is not cached yet."""
    config = config or PretrainConfig()
    out = cache_root() / f"tiny-add{config.digits}-{config.key()}"
    if force or not (out / "pretrain.json").exists():
        tmp = out.with_name(out.name + ".partial")
        tmp.mkdir(parents=True, exist_ok=True)
        pretrain(config, tmp)
        if out.exists():
            import shutil

            shutil.rmtree(out)
        tmp.rename(out)
    return out
