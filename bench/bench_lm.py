"""Benchmark of the LM path: one round of training against TRL's DPOTrainer, and generation.

Each measurement runs in its own subprocess (so peak memory is per method), side by side in
one invocation. Both trainers see the same model, the same pairs (tokenised the same way) and
the same batch size, with the sigmoid DPO loss:

- ``srlm``: :func:`srlm.lm.train.train_round`; reference log-probabilities come with the pairs
  from the collection pass, so no reference model is run or held;
- ``trl``: ``DPOTrainer`` with a reference model (its forward pass each step is part of the
  time, as is whatever TRL needs to set up a round: tokenising the pairs); ``train()`` alone
  is also shown.

Peak memory is the resident set of each subprocess (imports included: TRL imports more).

Run: ``.venv/bin/python bench/bench_lm.py`` (prints a table of seconds, ratios, peak memory).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

N_PAIRS, BATCH, WIDTH, LAYERS = 128, 16, 256, 4


def _texts() -> list[dict[str, str]]:
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(N_PAIRS):
        a, b = (int(v) for v in rng.integers(0, 100, size=2))
        wrong = int(rng.integers(0, 199))
        rows.append({"prompt": f"{a:02d}+{b:02d}=", "chosen": str(a + b), "rejected": str(wrong)})
    return rows


def _model(seed: int = 0) -> Any:
    from srlm.lm.tiny import PretrainConfig, build_model
    from srlm.lm.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    config = PretrainConfig(n_embd=WIDTH, n_layer=LAYERS, n_head=4)
    return build_model(config, len(tokenizer), seed), tokenizer


def _peak_mb() -> float:
    """Peak resident memory of this process's own address space, in MB.

    ``VmHWM`` starts afresh at ``exec``; ``getrusage``'s ``ru_maxrss`` would carry over the
    peak of the parent that forked this worker (``make bench`` runs the lab benchmark first).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_srlm() -> dict[str, float]:
    """One round of srlm training (reference log-probs given, as the collection pass gives)."""
    from srlm.lm.pairs import Pair
    from srlm.lm.train import TrainConfig, train_round

    model, tokenizer = _model()
    rows = _texts()
    ids = [tokenizer(r["prompt"])["input_ids"] for r in rows]
    eos = tokenizer.eos_token_id
    chosen = [[*tokenizer(r["chosen"])["input_ids"], eos] for r in rows]  # TRL appends eos too
    rejected = [[*tokenizer(r["rejected"])["input_ids"], eos] for r in rows]
    pairs = [
        Pair(i, 0, 1, x, c, r, 0.0, -5.0, -5.0)
        for i, (x, c, r) in enumerate(zip(ids, chosen, rejected, strict=True))
    ]
    start = time.perf_counter()
    config = TrainConfig(loss="sigmoid", beta=0.1, lr=1e-4, epochs=1, batch_size=BATCH)
    train_round(model, pairs, config, pad_id=tokenizer.pad_token_id)
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}


def worker_trl() -> dict[str, float]:
    """One round of TRL DPOTrainer training with a reference model, same pairs and batch."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = _model()
    ref, _ = _model()
    args = DPOConfig(
        output_dir="/tmp/srlm_bench_trl",
        beta=0.1,
        loss_type=["sigmoid"],
        learning_rate=1e-4,
        per_device_train_batch_size=BATCH,
        num_train_epochs=1,
        bf16=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=10_000,
        max_length=None,
        disable_tqdm=True,
    )
    start = time.perf_counter()
    trainer = DPOTrainer(
        model=model,
        ref_model=ref,
        args=args,
        train_dataset=Dataset.from_list(_texts()),
        processing_class=tokenizer,
    )
    train_start = time.perf_counter()
    trainer.train()
    end = time.perf_counter()
    return {"seconds": end - start, "train_only": end - train_start, "peak_mb": _peak_mb()}


def worker_gen() -> dict[str, float]:
    """Generation throughput: 64 prompts x 4 samples, up to 8 new tokens, KV cache."""
    from srlm.lm.policy import LMPolicy, SamplingConfig

    model, tokenizer = _model()
    policy = LMPolicy(model, tokenizer)
    prompts = policy.encode_prompts([r["prompt"] for r in _texts()[:64]])
    policy.generate(prompts[:4], SamplingConfig(2, max_new_tokens=2), False, 0, 4)  # warm-up
    start = time.perf_counter()
    out = policy.generate(prompts, SamplingConfig(4, max_new_tokens=8), False, 0, 64)
    seconds = time.perf_counter() - start
    tokens = sum(len(y) for row in out for y in row)
    return {"seconds": seconds, "tokens_per_s": tokens / seconds, "peak_mb": _peak_mb()}


def _run(name: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", name], capture_output=True, text=True, check=True
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the smallest time and the largest throughput/memory over repeats."""
    keys = runs[0].keys()
    return {k: (max if k in ("tokens_per_s", "peak_mb") else min)(r[k] for r in runs) for k in keys}


def main(repeats: int = 3) -> dict[str, float]:
    """Run every worker ``repeats`` times (alternating), print a table, return the ratios.

    The machine may be shared, so each method keeps its best of ``repeats`` runs.
    """
    runs: dict[str, list[dict[str, float]]] = {"srlm": [], "trl": [], "gen": []}
    for _ in range(repeats):
        for name in runs:
            runs[name].append(_run(name))
    srlm, trl, gen = (_best(runs[name]) for name in ("srlm", "trl", "gen"))
    ratios = {
        "train_time_srlm_over_trl": srlm["seconds"] / trl["seconds"],
        "train_time_srlm_over_trl_train_only": srlm["seconds"] / trl["train_only"],
        "peak_mem_srlm_over_trl": srlm["peak_mb"] / trl["peak_mb"],
    }
    print(
        f"LM path: {N_PAIRS} pairs, batch {BATCH}, GPT-2 width {WIDTH} x {LAYERS} layers, CPU, "
        f"1 thread, best of {repeats}"
    )
    print(f"{'measure':<34}{'srlm':>12}{'TRL DPOTrainer':>16}{'ratio':>10}")
    print(
        f"{'one round of training (s)':<34}{srlm['seconds']:>12.2f}{trl['seconds']:>16.2f}"
        f"{ratios['train_time_srlm_over_trl']:>10.2f}"
    )
    print(
        f"{'  TRL: trainer.train() alone (s)':<34}{'':>12}{trl['train_only']:>16.2f}"
        f"{srlm['seconds'] / trl['train_only']:>10.2f}"
    )
    print(
        f"{'peak resident memory (MB)':<34}{srlm['peak_mb']:>12.0f}{trl['peak_mb']:>16.0f}"
        f"{ratios['peak_mem_srlm_over_trl']:>10.2f}"
    )
    print(f"{'generation (tokens/s)':<34}{gen['tokens_per_s']:>12.0f}{'':>16}{'':>10}")
    return {**ratios, "generation_tokens_per_s": gen["tokens_per_s"]}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        import torch

        torch.set_num_threads(1)  # 2 threads on a shared 2-core CPU is ~10x slower
        result = {"srlm": worker_srlm, "trl": worker_trl, "gen": worker_gen}[sys.argv[2]]()
        print(json.dumps(result))
    else:
        main()
