"""The paper's claims as experiments, numbered 1-10 as in the report.

Each entry of :data:`EXPERIMENTS` is an :class:`~srlm.experiments.base.Experiment`: a claim,
a criterion fixed in code before anything runs, a run that writes a data table, and a verdict
computed from that table. :func:`select_experiments` picks a subset by number or name.
"""

from __future__ import annotations

from collections.abc import Sequence

from srlm.errors import ConfigError
from srlm.experiments import (
    contraction,
    correctness,
    fade,
    linear,
    onestep,
    rates,
    rounds_needed,
    trap,
)
from srlm.experiments.base import PROFILES, Experiment, Verdict

EXPERIMENTS: tuple[Experiment, ...] = (
    contraction.EXPERIMENT,
    rates.RATE,
    fade.EXPERIMENT,
    rounds_needed.EXPERIMENT,
    onestep.HARD,
    trap.EXPERIMENT,
    linear.EXPERIMENT,
    onestep.BUDGET,
    correctness.LOCK,
    correctness.REFERENCE,
)

__all__ = ["EXPERIMENTS", "PROFILES", "Experiment", "Verdict", "select_experiments"]


def select_experiments(only: Sequence[str] | None) -> list[Experiment]:
    """Experiments named by number (``"2"``) or name (``"02-failure-vs-n"``); all if None.

    Raises:
        ConfigError: If an entry names no experiment.
    """
    if not only:
        return list(EXPERIMENTS)
    chosen: list[Experiment] = []
    for item in only:
        for token in item.split(","):
            token = token.strip()
            found = [e for e in EXPERIMENTS if token in (str(e.number), e.name)]
            if not found:
                names = ", ".join(f"{e.number} ({e.name})" for e in EXPERIMENTS)
                raise ConfigError("--only", token, f"no such experiment; choose from {names}")
            chosen.extend(e for e in found if e not in chosen)
    return sorted(chosen, key=lambda e: e.number)
