"""``srlm lab``: run the exact self-rewarding loop once, or sweep it over a grid and seeds.

Any config field can be set from the command line after the config file, as
``--field-name VALUE`` (values are read as YAML: ``--theta-radius null``, ``--beta 0.25``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from srlm.cli.common import EXTRA_ARGS, fields_help, parse_overrides, rounds_table
from srlm.config import LabConfig, load_yaml, parse_config
from srlm.errors import ConfigError

lab_app = typer.Typer(
    help="The exact theory lab: tabular, linear-softmax and token-level policies.",
    no_args_is_help=True,
)
_FIELDS_HELP = fields_help(LabConfig)
SHOWN = (
    "round",
    "kappa",
    "failure_rate",
    "mode_prob_mean",
    "margin_min",
    "kl_step",
    "mode_changes",
    "erm_residual",
    "accuracy",
    "kappa_sampled",
)


def _load(config: Path | None, extra: list[str]) -> dict[str, Any]:
    if config is not None and str(config).startswith("--"):
        # No config file: the optional argument caught the first override flag.
        config, extra = None, [str(config), *extra]
    data = load_yaml(config) if config is not None else {}
    return {**data, **parse_overrides(extra, LabConfig)}


@lab_app.command(context_settings=EXTRA_ARGS, epilog=_FIELDS_HELP)
def run(
    ctx: typer.Context,
    config: Path | None = typer.Argument(None, help="YAML file of config fields."),
    out: Path | None = typer.Option(None, help="Run directory (default: runs/lab/<config name>)."),
) -> None:
    """Run T rounds of self-rewarding for one seed and print the table of rounds."""
    from srlm.loop import run_rounds

    cfg = parse_config(LabConfig, _load(config, ctx.args))
    has_file = config is not None and not str(config).startswith("--")
    out = out or Path("runs/lab") / (config.stem if config and has_file else "default")
    rows = run_rounds(cfg, run_dir=out)
    console = Console(width=160) if not Console().is_terminal else Console()
    console.print(rounds_table(rows, SHOWN, "rounds (row t describes pi_t)"))
    console.print(f"run directory: {out}")


def _parse_grid(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise ConfigError("--grid", item, "expected field=v1,v2,...")
        grid[name.replace("-", "_")] = [yaml.safe_load(v) for v in values.split(",")]
    return grid


def _parse_seeds(text: str) -> list[int]:
    try:
        if "-" in text:
            low, high = (int(v) for v in text.split("-"))
            return list(range(low, high + 1))
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(
            "--seeds", text, "expected a list like 0,1,2 or a range like 0-9"
        ) from None


@lab_app.command(context_settings=EXTRA_ARGS, epilog=_FIELDS_HELP)
def sweep(
    ctx: typer.Context,
    config: Path | None = typer.Argument(None, help="YAML file of base config fields."),
    grid: list[str] = typer.Option([], help="field=v1,v2,... (repeat for a product grid)."),
    seeds: str = typer.Option("0", help="Seeds: 0,1,2 or 0-9."),
    out: Path = typer.Option(Path("runs/sweep"), help="Sweep directory."),
    backend: str = typer.Option("local", help="local (a process per core) or ray."),
    jobs: int = typer.Option(
        0, help="Parallel workers (default: every core this process may use)."
    ),
) -> None:
    """Run a grid of configs and seeds; a rerun of the same command finishes only missing cells."""
    from srlm.sweep import run_sweep

    if backend not in ("local", "ray"):
        raise ConfigError("--backend", backend, "expected local or ray")
    base = _load(config, ctx.args)
    parsed_grid, parsed_seeds = _parse_grid(grid), _parse_seeds(seeds)
    columns = [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    progress = Progress("[progress.description]{task.description}", *columns)

    def on_cell_done(done: int, total: int) -> None:
        # First called once the grid is validated, so bad input shows no bar, only its error.
        if not progress.tasks:
            progress.start()
            progress.add_task("cells", total=total)
        progress.update(progress.tasks[0].id, completed=done, total=total)

    try:
        rows = run_sweep(
            base,
            parsed_grid,
            parsed_seeds,
            out,
            backend=backend,  # type: ignore[arg-type]
            jobs=jobs or None,
            on_cell_done=on_cell_done,
        )
    finally:
        progress.stop()
    cells = len({row["cell"] for row in rows})
    Console().print(f"{len(rows)} rows from {cells} cells: {out / 'results.csv'}")
