"""Options and help texts shared by the ``clv`` commands (typer only: importing is light)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = [
    "DUPLICATES_HELP",
    "MISSING_CUSTOMER_HELP",
    "NEGATIVE_AMOUNTS_HELP",
    "TRACKING_HELP",
    "DateFormatOption",
    "TrackingUriOption",
]

TRACKING_HELP = "MLflow store. [default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db]"
MISSING_CUSTOMER_HELP = "Rows without a customer id: raise or drop (counted). [default: raise]"
NEGATIVE_AMOUNTS_HELP = (
    "Returns (negative amounts): raise, drop, or net against the purchases of their day "
    "(or --invoice). [default: raise]"
)
DUPLICATES_HELP = "Exact duplicate rows: keep, drop (counted) or raise. [default: keep]"

#: ``--date-format`` of ``clv score`` and ``clv train``.
DateFormatOption = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="Format of the timestamps, e.g. %d/%m/%Y. [default: ISO 8601 or one "
        "unambiguous format; mixed formats are refused]",
        show_default=False,
    ),
]


#: ``--tracking-uri`` of ``clv train``, ``promote`` and ``report``.
TrackingUriOption = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow URI. [default: sqlite:///mlflow.db]"),
]
