"""The collection pass of round t and the evaluation of ``pi_t``.

Collection draws ``N`` responses per prompt from ``pi_t`` and scores each once with the exact
sequence log-probability. Under the paper's reward that one number is both the self-reward
``r_t(x, y) = log pi_t(y|x)`` (Eq. 1) and the reference log-probability of Eq. (3), which is
why training needs no second copy of the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from srlm.lm.config import LMRunConfig
from srlm.lm.metrics import Verifier, mode_metrics, sample_metrics, verifier_accuracy
from srlm.lm.policy import Ids, LMPolicy, SamplingConfig


@dataclass
class Candidates:
    """One round's candidates: ``N`` responses for each of ``P`` prompts and their scores."""

    prompts: list[str]
    prompt_ids: list[Ids]
    responses: list[list[Ids]]  # responses[i][j]
    texts: list[list[str]]
    logps: np.ndarray  # (P, N): log pi_t(y|x)
    ref_logps: np.ndarray  # (P, N): log pi_ref(y|x)
    rewards: np.ndarray  # (P, N): r_t(x, y)
    verifier: np.ndarray  # (P, N): verifier score, NaN where it does not apply
    seconds: float = 0.0

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON record per prompt (the ``candidates.jsonl`` artefact)."""
        return [
            {
                "prompt": self.prompts[i],
                "prompt_ids": self.prompt_ids[i],
                "responses": [
                    {
                        "text": self.texts[i][j],
                        "token_ids": self.responses[i][j],
                        "logp": float(self.logps[i, j]),
                        "ref_logp": float(self.ref_logps[i, j]),
                        "reward": float(self.rewards[i, j]),
                        "verifier": float(self.verifier[i, j]),
                    }
                    for j in range(len(self.responses[i]))
                ],
            }
            for i in range(len(self.prompts))
        ]

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Candidates:
        """Inverse of :meth:`to_records`."""

        def field(name: str) -> np.ndarray:
            return np.array([[r[name] for r in rec["responses"]] for rec in records], dtype=float)

        return cls(
            prompts=[rec["prompt"] for rec in records],
            prompt_ids=[rec["prompt_ids"] for rec in records],
            responses=[[r["token_ids"] for r in rec["responses"]] for rec in records],
            texts=[[r["text"] for r in rec["responses"]] for rec in records],
            logps=field("logp"),
            ref_logps=field("ref_logp"),
            rewards=field("reward"),
            verifier=field("verifier"),
        )


def sampling_of(config: LMRunConfig, num_samples: int) -> SamplingConfig:
    """The sampling settings of a run with ``num_samples`` responses per prompt."""
    return SamplingConfig(num_samples, config.temperature, config.top_p, config.max_new_tokens)


def _verifier_scores(prompts: list[str], texts: list[list[str]], verifier: Verifier) -> np.ndarray:
    scores = [[verifier(p, y) for y in row] for p, row in zip(prompts, texts, strict=True)]
    return np.array([[np.nan if s is None else s for s in row] for row in scores], dtype=float)


def collect(
    policy: LMPolicy,
    prompts: list[str],
    config: LMRunConfig,
    seed: int,
    verifier: Verifier,
    reference: LMPolicy | None = None,
) -> Candidates:
    """Sample ``N`` responses per prompt from ``pi_t``, score them, and attach rewards.

    ``reference`` is the initial model when ``config.reference == "initial"`` (it scores the
    candidates once, here, and is then released); otherwise the reference is ``pi_t`` itself.
    """
    start = time.perf_counter()
    prompt_ids = policy.encode_prompts(prompts)
    n = config.num_samples
    responses = policy.generate(
        prompt_ids, sampling_of(config, n), False, seed, config.generation_batch_size
    )
    flat_x = [x for x, row in zip(prompt_ids, responses, strict=True) for _ in row]
    flat_y = [y for row in responses for y in row]
    bs = config.generation_batch_size
    logps = policy.logps(flat_x, flat_y, bs).reshape(len(prompts), n)  # (P, N)
    texts = [[policy.decode(y) for y in row] for row in responses]
    scores = _verifier_scores(prompts, texts, verifier)
    if config.reward == "self":
        rewards = logps
        if config.reward_average:
            rewards = policy.logps(flat_x, flat_y, bs, average=True).reshape(len(prompts), n)
    else:
        rewards = np.nan_to_num(scores, nan=0.0)
    ref_logps = logps if reference is None else reference.logps(flat_x, flat_y, bs)
    return Candidates(
        prompts=prompts,
        prompt_ids=prompt_ids,
        responses=responses,
        texts=texts,
        logps=logps,
        ref_logps=np.asarray(ref_logps).reshape(len(prompts), n),
        rewards=rewards,
        verifier=scores,
        seconds=time.perf_counter() - start,
    )


def evaluate(
    policy: LMPolicy, prompts: list[str], config: LMRunConfig, seed: int, verifier: Verifier
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Metrics of ``pi_t`` on the fixed evaluation prompts (greedy and sampled).

    Returns the metrics and, per prompt, the greedy response ``g(x)``, ``log pi_t(g(x)|x)``
    and its verifier score (to follow prompts whose initial greedy answer was wrong).
    """
    start = time.perf_counter()
    prompt_ids = policy.encode_prompts(prompts)
    bs = config.generation_batch_size
    greedy = [row[0] for row in policy.generate(prompt_ids, sampling_of(config, 1), True, 0, bs)]
    sampled = policy.generate(prompt_ids, sampling_of(config, config.eval_samples), False, seed, bs)
    gen_seconds = time.perf_counter() - start
    greedy_logps = policy.logps(prompt_ids, greedy, bs)
    flat_x = [x for x, row in zip(prompt_ids, sampled, strict=True) for _ in row]
    flat_y = [y for row in sampled for y in row]
    sample_logps = policy.logps(flat_x, flat_y, bs).reshape(len(prompts), -1)
    lengths = np.array([[len(y) for y in row] for row in sampled], dtype=float)
    tokens = sum(len(y) for y in greedy) + int(lengths.sum())
    texts = [[policy.decode(y) for y in row] for row in sampled]
    greedy_texts = [policy.decode(g) for g in greedy]
    metrics = {
        **mode_metrics(greedy_logps, config.failure_threshold),
        **sample_metrics(sample_logps, lengths),
        "accuracy": verifier_accuracy(prompts, [[g] for g in greedy_texts], verifier),
        "sampled_accuracy": verifier_accuracy(prompts, texts, verifier),
        "generation_tokens_per_s": tokens / max(gen_seconds, 1e-9),
    }
    details = [
        {"prompt": p, "greedy": g, "logp": float(lp), "verifier": verifier(p, g)}
        for p, g, lp in zip(prompts, greedy_texts, greedy_logps, strict=True)
    ]
    return metrics, details
