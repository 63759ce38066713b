"""``srlm reproduce`` and ``srlm report``: the paper's claims as experiments.

``srlm reproduce --profile quick`` runs every experiment of :data:`srlm.experiments.EXPERIMENTS`
into a run directory (reusing the ones a previous run finished) and writes the report;
``srlm report RUN_DIR`` rebuilds the report from the saved data without running anything.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from srlm.errors import ConfigError

STATUS_STYLE = {"confirmed": "green", "contradicted": "red", "inconclusive": "yellow"}


def _console() -> Console:
    """A console; wide when writing to a file or pipe, so the claims table stays readable."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def claims_table(run_dir: Path) -> Table:
    """The claims table of a built report, read back from ``claims.csv``."""
    from srlm.io import read_csv

    table = Table(title=f"claims ({run_dir})", show_lines=False)
    for column in ("#", "claim", "verdict", "why"):
        table.add_column(column, overflow="fold")
    for row in read_csv(run_dir / "claims.csv"):
        style = STATUS_STYLE.get(str(row["verdict"]), "")
        verdict = f"[{style}]{row['verdict']}[/]" if style else str(row["verdict"])
        table.add_row(str(row["claim"]), str(row["title"]), verdict, str(row["reason"]))
    return table


def reproduce(
    profile: str = typer.Option(
        "quick",
        help="quick (a laptop, minutes), full (a workstation or Ray cluster), or smoke (tests).",
    ),
    out: Path | None = typer.Option(None, help="Run directory (default: runs/reproduce-PROFILE)."),
    backend: str = typer.Option("local", help="local (a process per core) or ray."),
    only: list[str] = typer.Option([], help="Claims to run, by number or name (repeat or 1,2,5)."),
) -> None:
    """Run the claims as experiments (resuming finished ones) and write the report."""
    from srlm.experiments import PROFILES, select_experiments
    from srlm.experiments.runner import run_all
    from srlm.report.html import build_report

    if profile not in PROFILES:
        raise ConfigError("--profile", profile, f"expected one of {', '.join(PROFILES)}")
    if backend not in ("local", "ray"):
        raise ConfigError("--backend", backend, "expected local or ray")
    experiments = select_experiments(only)
    run_dir = out or Path("runs") / f"reproduce-{profile}"
    console = _console()
    start = time.perf_counter()
    columns = [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress("[progress.description]{task.description}", *columns, console=console) as bar:
        task = bar.add_task("experiments", total=len(experiments))

        def done(exp: object, reused: bool) -> None:
            name = getattr(exp, "name", "?")
            bar.console.print(f"{name}: {'reused' if reused else 'ran'}")
            bar.advance(task)

        run_all(experiments, profile, run_dir, backend=backend, on_done=done)  # type: ignore[arg-type]
    report = build_report(run_dir)
    console.print(claims_table(run_dir))
    console.print(f"{len(experiments)} experiments in {time.perf_counter() - start:.1f} s")
    console.print(f"report: {report}")


def report(
    run_dir: Path = typer.Argument(..., help="A run directory written by srlm reproduce."),
) -> None:
    """Rebuild report.html, figures and claims.csv from saved data (runs nothing)."""
    from srlm.report.html import build_report

    if not run_dir.is_dir():
        raise ConfigError("RUN_DIR", str(run_dir), "not a directory")
    try:
        path = build_report(run_dir)
    except FileNotFoundError as err:
        raise ConfigError("RUN_DIR", str(run_dir), str(err)) from None
    console = _console()
    console.print(claims_table(run_dir))
    console.print(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` and ``report`` commands to the main app."""
    app.command("reproduce")(reproduce)
    app.command("report")(report)
