"""Shared fixtures of the LM tests: tiny randomly initialised GPT-2 models (no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # The machine is shared: one thread (two threads on a busy 2-core CPU are ~10x slower).
    torch.set_num_threads(1)


def make_tiny(seed: int = 0, n_embd: int = 32, n_layer: int = 2):
    """A random GPT-2 (about 30k parameters) and the addition tokenizer."""
    from srlm.lm.tiny import PretrainConfig, build_model
    from srlm.lm.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    config = PretrainConfig(n_embd=n_embd, n_layer=n_layer, n_head=2)
    model = build_model(config, len(tokenizer), seed)
    model.eval()
    return model, tokenizer


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved random tiny model folder, as a user's local model would be."""
    model, tokenizer = make_tiny()
    folder = tmp_path_factory.mktemp("tiny_model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_policy():
    """An in-memory random tiny model as an LMPolicy."""
    from srlm.lm.policy import LMPolicy

    model, tokenizer = make_tiny()
    return LMPolicy(model, tokenizer)
