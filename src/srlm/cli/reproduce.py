"""``srlm reproduce`` and ``srlm report``: the paper's claims as experiments."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` and ``report`` commands to the main app."""
