"""The built-in addition task, its verifier, tokenizer, and the cached tiny-model pretraining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srlm.lm.tiny import AdditionTask, PretrainConfig, tiny_model_dir, verify
from srlm.lm.tokenizer import build_tokenizer


def test_task_split_is_disjoint_and_fixed_width() -> None:
    task = AdditionTask(digits=2)
    train, heldout = task.split()
    assert len(train) + len(heldout) == 10_000 and len(heldout) == 1000
    assert not {tuple(p) for p in train} & {tuple(p) for p in heldout}
    prompts = task.heldout_prompts()
    assert prompts == AdditionTask(digits=2).heldout_prompts()  # the same every time
    assert {len(p) for p in prompts} == {6} and task.prompt(7, 35) == "07+35="


def test_verifier() -> None:
    assert verify("07+35=", "42") == 1.0
    assert verify("07+35=", " 42 ") == 1.0
    assert verify("07+35=", "43") == 0.0
    assert verify("07+35=", "") == 0.0
    assert verify("Name a colour.", "red") is None


def test_tokenizer_round_trip() -> None:
    tokenizer = build_tokenizer()
    ids = tokenizer("12+34=")["input_ids"]
    assert len(ids) == 6 and tokenizer.decode(ids) == "12+34="
    assert tokenizer.decode([*tokenizer("46")["input_ids"], 1], skip_special_tokens=True) == "46"
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1)


def test_pretrain_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from srlm.lm.policy import load_policy

    monkeypatch.setenv("SRLM_CACHE", str(tmp_path))
    config = PretrainConfig(n_embd=16, n_layer=1, n_head=2, steps=150, batch_size=32)
    folder = tiny_model_dir(config)
    summary = json.loads((folder / "pretrain.json").read_text())
    assert folder.parent == tmp_path and summary["steps"] == 150
    assert summary["loss"] < 2.2  # it learned: a uniform guess scores log(14) = 2.64
    stamp = (folder / "pretrain.json").stat().st_mtime_ns
    assert tiny_model_dir(config) == folder
    assert (folder / "pretrain.json").stat().st_mtime_ns == stamp  # not trained again
    policy = load_policy(str(folder))
    assert not policy.use_chat_template and policy.encode_prompts(["1+1="])[0] == [3, 12, 3, 13]
