"""The ``clv`` command line: :func:`main` and the commands' registration.

The commands live beside this module: :mod:`clv.cli.train` (demo, train, promote,
report), :mod:`clv.cli.score`, :mod:`clv.cli.serve`; shared options in
:mod:`clv.cli.options`.

User errors (bad data, bad arguments, missing files) print one line and exit with
code 2; ``--debug`` shows the traceback instead. SIGTERM is handled like Ctrl-C:
the command stops, removes what it was writing, marks its MLflow runs failed, and
exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM). MLflow's
HTTP client is given bounded retries (:data:`clv.training.stores.HTTP_DEFAULTS`)
unless its variables are set.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Annotated

import typer

from clv._cli_output import quiet_command, set_verbose
from clv._interrupts import interrupts_as_keyboard_interrupt
from clv.cli import score as _score
from clv.cli import serve as _serve
from clv.cli import train as _train
from clv.errors import CLVError

app = typer.Typer(
    name="clv",
    help="Customer lifetime value: features, models, training, scoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from clv._version import __version__

        typer.echo(f"clv {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="Show MLflow's log lines and the libraries' warnings."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    _STATE["debug"] = debug
    set_verbose(verbose)


app.command()(quiet_command(_train.demo))
app.command("train")(quiet_command(_train.train_command))
for _command in (_train.promote, _serve.serve, _score.score, _train.report):
    app.command()(quiet_command(_command))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``clv`` console script.

    Usage errors are click's (exit code 2); clv's own errors and missing files
    print one line and exit with code 2 unless ``--debug`` is given.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default. Without
        it (the console script, ``python -m clv.cli``) the process ends after the
        command, so ``main`` ends with :func:`gc.freeze`: the interpreter's exit then
        skips collecting what the command left.
    """
    from clv.training.stores import HTTP_DEFAULTS

    args = sys.argv[1:] if argv is None else argv
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    try:
        _run(args)
    finally:
        if argv is None:  # the command line of this process, which ends next
            # Outputs are committed and atexit handlers still run; the interpreter's
            # last collections would only walk every object MLflow, SQLAlchemy and
            # pandas made: 1.1-1.4 s of each `clv score` (DESIGN.md, batch scoring).
            gc.freeze()


def _run(args: list[str]) -> None:
    with interrupts_as_keyboard_interrupt() as received:
        try:
            app(args=args, prog_name="clv")
        except (SystemExit, KeyboardInterrupt) as stop:
            if received or isinstance(stop, KeyboardInterrupt):
                number = received[0] if received else signal.SIGINT
                typer.echo(f"clv: interrupted by {signal.Signals(number).name}", err=True)
                raise SystemExit(128 + number) from None
            raise
        except (CLVError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            if "--debug" in args:
                raise
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            typer.echo(f"error: {message}", err=True)
            raise SystemExit(2) from None
