"""The ``clv`` command line.

User errors (bad data, bad arguments, missing files) print one line and exit with
code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from clv.errors import CLVError

app = typer.Typer(
    name="clv",
    help="Customer lifetime value: features, models, training, scoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _STATE["debug"] = debug


@app.command()
def demo() -> None:
    """Run the main job on the bundled CDNOW data."""
    from clv.datasets import load_cdnow
    from clv.features import calibration_holdout_split

    transactions = load_cdnow()
    table = calibration_holdout_split(
        transactions, calibration_end="1997-09-30", holdout_end="1998-06-30", time_unit="W"
    )
    typer.echo(
        f"CDNOW sample: {len(transactions):,} transactions, {len(table):,} customers "
        "(calibration to 1997-09-30, holdout to 1998-06-30, weeks)"
    )
    summary = table[["frequency", "recency", "T", "monetary_value", "holdout_frequency"]]
    typer.echo(summary.describe().round(2).to_string())
    typer.echo(
        f"repeat purchases: calibration {int(table['frequency'].sum()):,}, "
        f"holdout {int(table['holdout_frequency'].sum()):,}; "
        f"customers without a repeat purchase: {int((table['frequency'] == 0).sum()):,}"
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``clv`` console script.

    Usage errors are click's (exit code 2); clv's own errors and missing files
    print one line and exit with code 2 unless ``--debug`` is given.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="clv")
    except (CLVError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        if "--debug" in args:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"error: {message}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
