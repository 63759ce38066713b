"""Log-probabilities and generation of the HF policy wrapper."""

from __future__ import annotations

import numpy as np
import torch

from srlm.lm.policy import SamplingConfig, pack, sequence_logps


def _unpadded_logp(model, x: list[int], y: list[int]) -> float:
    """Reference: one sequence, no padding, log-softmax over the full vocabulary."""
    ids = torch.tensor([x + y])
    with torch.no_grad():
        logp = model(input_ids=ids).logits[0].log_softmax(-1)  # (L, V)
    return float(sum(logp[len(x) + k - 1, tok] for k, tok in enumerate(y)))


def test_batched_logps_match_unpadded_forward(tiny_policy) -> None:
    rng = np.random.default_rng(0)
    prompts = [list(rng.integers(2, 14, size=int(rng.integers(3, 8)))) for _ in range(6)]
    responses = [list(rng.integers(1, 14, size=int(rng.integers(1, 6)))) for _ in range(6)]
    prompts = [[int(t) for t in x] for x in prompts]
    responses = [[int(t) for t in y] for y in responses]

    batched = tiny_policy.logps(prompts, responses, batch_size=4)
    single = [
        _unpadded_logp(tiny_policy.model, x, y) for x, y in zip(prompts, responses, strict=True)
    ]
    np.testing.assert_allclose(batched, single, atol=1e-5, rtol=0)

    average = tiny_policy.logps(prompts, responses, batch_size=6, average=True)
    np.testing.assert_allclose(average, batched / [len(y) for y in responses], atol=1e-6)


def test_pack_masks_only_response_tokens() -> None:
    ids, attention, response = pack([[5, 6], [7]], [[8], [9, 1]], pad_id=0)
    assert ids.tolist() == [[5, 6, 8], [7, 9, 1]]
    assert response.tolist() == [[0, 0, 1], [0, 1, 1]]
    assert attention.tolist() == [[1, 1, 1], [1, 1, 1]]


def test_logps_carry_gradients(tiny_policy) -> None:
    batch = pack([[3, 4, 12]], [[5, 1]], pad_id=0)
    logps = sequence_logps(tiny_policy.model, *batch)
    logps.sum().backward()
    grads = [p.grad for p in tiny_policy.model.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)


def test_generation_shapes_eos_and_determinism(tiny_policy) -> None:
    prompts = tiny_policy.encode_prompts(["12+34=", "01+02=", "99+99="])
    sampling = SamplingConfig(num_samples=3, max_new_tokens=4)
    first = tiny_policy.generate(prompts, sampling, greedy=False, seed=7, batch_size=2)
    again = tiny_policy.generate(prompts, sampling, greedy=False, seed=7, batch_size=2)
    assert first == again
    assert [len(row) for row in first] == [3, 3, 3]
    eos = tiny_policy.eos_id
    for row in first:
        for y in row:
            assert 1 <= len(y) <= 4
            assert eos not in y[:-1]  # cut right after the first end of sequence

    greedy = tiny_policy.generate(prompts, sampling, greedy=True, seed=0, batch_size=3)
    # Greedy: each token is the argmax of the next-token distribution given the prefix.
    for x, (y,) in zip(prompts, greedy, strict=True):
        with torch.no_grad():
            logits = tiny_policy.model(input_ids=torch.tensor([x + y])).logits[0]
        argmax = logits[len(x) - 1 : len(x) - 1 + len(y)].argmax(-1).tolist()
        assert argmax == y


def test_sampling_follows_pi_t(tiny_policy) -> None:
    # One-token responses: sampled frequencies match pi_t(y|x) (temperature 1, top-p 1).
    prompt = tiny_policy.encode_prompts(["12+34="])
    sampling = SamplingConfig(num_samples=4000, max_new_tokens=1)
    (row,) = tiny_policy.generate(prompt, sampling, greedy=False, seed=1, batch_size=1)
    counts = np.bincount([y[0] for y in row], minlength=14) / len(row)
    with torch.no_grad():
        probs = tiny_policy.model(input_ids=torch.tensor(prompt)).logits[0, -1].softmax(-1)
    np.testing.assert_allclose(counts, probs.numpy(), atol=0.03)
