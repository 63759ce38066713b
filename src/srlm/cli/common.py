"""What the ``srlm lab`` and ``srlm lm`` commands share: config flags and the rounds table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel
from rich.table import Table

from srlm.errors import ConfigError

# Let unknown ``--field-name VALUE`` flags through to the command, which checks them.
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def fields_help(model: type[BaseModel], where: str = "") -> str:
    """A ``--help`` epilog listing every config field with its description."""
    head = f"Config fields (set any as --field-name VALUE{where}):\n\n"
    return head + "\n\n".join(
        f"{name.replace('_', '-')}: {info.description}" for name, info in model.model_fields.items()
    )


def parse_overrides(args: Sequence[str], model: type[BaseModel]) -> dict[str, Any]:
    """``["--beta", "0.5", "--num-rounds=3"]`` -> ``{"beta": 0.5, "num_rounds": 3}``.

    Values are read as YAML (``null``, numbers, lists); names must be fields of ``model``.
    """
    overrides: dict[str, Any] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if not flag.startswith("--"):
            raise ConfigError("argument", flag, "expected --field-name VALUE")
        name, _, value = flag[2:].partition("=")
        if not value:
            if i + 1 >= len(args):
                raise ConfigError(name, None, "flag needs a value")
            value, i = args[i + 1], i + 1
        field = name.replace("-", "_")
        if field not in model.model_fields:
            raise ConfigError(f"--{name}", value, "unknown config field")
        overrides[field] = yaml.safe_load(value)
        i += 1
    return overrides


def format_value(value: Any) -> str:
    """Three significant digits; NaN (a column with no value this round) as ``-``."""
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def rounds_table(rows: list[dict[str, Any]], shown: Sequence[str], title: str) -> Table:
    """A rich table of the ``shown`` columns present in the rows (row t describes pi_t)."""
    table = Table(title=title)
    columns = [c for c in shown if c in rows[0]] if rows else list(shown)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(format_value(row.get(c, float("nan"))) for c in columns))
    return table
