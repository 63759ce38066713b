"""A character-level tokenizer for the built-in addition task, built without any download.

Every character of ``"0123456789+="`` is one token; ``<pad>`` and ``<eos>`` are special. The
result is an ordinary :class:`transformers.PreTrainedTokenizerFast`, so the tiny model goes
through exactly the same code path (save, load, generate) as any Hugging Face model.
"""

from __future__ import annotations

from typing import Any

ALPHABET = "0123456789+="
PAD, EOS = "<pad>", "<eos>"


def build_tokenizer() -> Any:
    """The addition task's tokenizer (a ``PreTrainedTokenizerFast``; ids: pad 0, eos 1)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {PAD: 0, EOS: 1} | {ch: i + 2 for i, ch in enumerate(ALPHABET)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=PAD))
    # One token per character; decoding concatenates without spaces.
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=PAD,
        padding_side="left",
        model_input_names=["input_ids", "attention_mask"],
    )
