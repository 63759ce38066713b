"""The ``srlm`` command: ``lab`` (exact theory lab), ``reproduce``/``report`` (the paper's
claims as experiments) and ``lm`` (self-rewarding on Hugging Face causal LMs).

Errors a user can fix (:class:`srlm.errors.SrlmError`) print one line and exit with code 2.
"""

from __future__ import annotations

import sys

import typer

from srlm.cli.lab import lab_app
from srlm.cli.lm import lm_app
from srlm.cli.reproduce import register as register_reproduce
from srlm.errors import SrlmError

app = typer.Typer(
    name="srlm",
    help="Self-rewarding language models: theory lab, claims as experiments, LM loop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(lab_app, name="lab")
app.add_typer(lm_app, name="lm")
register_reproduce(app)


def main() -> None:
    """Console entry point: run the app, turning user errors into one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except SrlmError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except (typer.Exit, SystemExit) as stop:
        code = getattr(stop, "exit_code", getattr(stop, "code", 0))
        sys.exit(code)
    except Exception as err:  # click usage errors (unknown option, missing file, ...)
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(2)
        if isinstance(err, click.exceptions.Abort):
            sys.exit(130)
        raise
