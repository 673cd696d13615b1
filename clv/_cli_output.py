"""What the ``clv`` command prints: its own lines, not its libraries' chatter.

By default a command runs inside :func:`library_output`: MLflow's event log (its
INFO lines, warnings and ``eprint`` messages such as "Successfully registered
model") is switched off, Python warnings from libraries (MLflow's UserWarning about
integer columns, pandas and pyspark deprecations, ...) are ignored, and clv's own
warnings (:class:`clv.errors.CLVWarning`) print as one ``warning: ...`` line each.
:class:`~clv.errors.DataPolicyWarning` is left out there because the commands print
those counts themselves. ``clv --verbose COMMAND`` changes nothing: every library
speaks as it normally does.

Everything is set on entry and restored on exit, only around a command's body:
importing clv (or ``clv.cli``) changes no logging or warning state.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["library_output", "quiet_command", "segment_rules_line", "set_verbose", "table_text"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Whether commands show the libraries' logs and warnings (``clv --verbose``).
_VERBOSE = {"on": False}


def set_verbose(verbose: bool) -> None:
    """Record ``--verbose`` for the commands of this invocation."""
    _VERBOSE["on"] = bool(verbose)


def _show_clv_warning(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
    text = str(message).strip().splitlines()
    print(f"warning: {text[0] if text else category.__name__}", file=sys.stderr)


@contextmanager
def library_output(verbose: bool = False) -> Iterator[None]:
    """Silence MLflow's event log and library warnings for a block (unless ``verbose``)."""
    if verbose:
        yield
        return
    from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

    from clv.errors import CLVWarning, DataPolicyWarning

    # Every MLflow log handler and ``eprint`` writes to this one stream. Its own
    # ``enabled`` switch is not enough: MLflow turns it back on when some of its
    # internal blocks end, so the stream's writes are dropped for the block instead.
    stream = MLFLOW_LOGGING_STREAM
    stream.write = _discard  # type: ignore[method-assign]
    # Also say so through the level, which code can ask (isEnabledFor): MLflow's
    # checks that only log a warning are then skipped (clv.serving._models.load_pyfunc).
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.filterwarnings("default", category=CLVWarning)
            warnings.filterwarnings("ignore", category=DataPolicyWarning)
            warnings.showwarning = _show_clv_warning
            yield
    finally:
        logger.setLevel(level)
        del stream.write


def _discard(text: str) -> None:
    """Drop a write (MLflow's event stream inside :func:`library_output`)."""


def quiet_command(command: _F) -> _F:
    """Run a typer command inside :func:`library_output` (its signature is kept)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with library_output(_VERBOSE["on"]):
            return command(*args, **kwargs)

    return run  # type: ignore[return-value]


def segment_rules_line(rules: dict[str, Any]) -> str:
    """Describe stored segment rules (``SegmentRules.to_dict()``) in one line."""
    params, thresholds = rules["params"], rules["thresholds"]
    high, medium = float(params["high_share"]), float(params["medium_share"])
    return (
        f"segments: high value = clv > {thresholds['high']:,.2f} (top {high:.0%} at "
        f"training), medium value = clv > {thresholds['medium']:,.2f} (next {medium:.0%}), "
        f"at risk = churn probability >= {float(params['churn_threshold']):.2f}"
    )


def table_text(frame: Any, formats: dict[str, str] | None = None) -> str:
    """Render a small DataFrame as a Markdown table with rich (plain ASCII, no colour).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to show; its index is the first column.
    formats : dict, optional
        ``str.format`` patterns by column name, e.g. ``{"share": "{:.1%}"}``.

    Returns
    -------
    str
        The table, one line per row after the header and its rule.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    formats = formats or {}
    table = Table(box=box.MARKDOWN)
    table.add_column(str(frame.index.name or ""))
    for name in frame.columns:
        table.add_column(str(name), justify="right")
    for label, *values in frame.itertuples(name=None):
        cells = (
            formats.get(str(k), "{}").format(v) for k, v in zip(frame.columns, values, strict=True)
        )
        table.add_row(str(label), *cells)
    console = Console(width=200, color_system=None, highlight=False, emoji=False, markup=False)
    with console.capture() as captured:
        console.print(table)
    return "\n".join(line.rstrip() for line in captured.get().strip().splitlines())
