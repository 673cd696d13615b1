"""Options shared by the ``clv`` commands (typer only: importing is light)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = [
    "DateFormatOption",
    "DuplicatesOption",
    "InvoiceOption",
    "MissingCustomerIdOption",
    "NegativeAmountsOption",
    "StoreOption",
    "TrackingUriOption",
]


def _text(flag: str, text: str) -> Any:
    """Return an optional text option (its help says the default)."""
    return Annotated[str | None, typer.Option(flag, help=text, show_default=False)]


#: ``--date-format`` of ``clv score`` and ``clv train``.
DateFormatOption = _text(
    "--date-format",
    "Format of the timestamps, e.g. %d/%m/%Y. [default: ISO 8601 or one unambiguous "
    "format; mixed formats are refused]",
)
#: The data policies of ``clv score`` and ``clv train``.
InvoiceOption = _text("--invoice", "Invoice column: returns net within their invoice.")
MissingCustomerIdOption = _text(
    "--missing-customer-id",
    "Rows without a customer id: raise or drop (counted). [default: raise]",
)
NegativeAmountsOption = _text(
    "--negative-amounts",
    "Returns (negative amounts): raise, drop, or net against the purchases of their day "
    "(or --invoice). [default: raise]",
)
DuplicatesOption = _text(
    "--duplicates", "Exact duplicate rows: keep, drop (counted) or raise. [default: keep]"
)
#: ``--tracking-uri`` of ``clv score`` and ``clv serve``.
StoreOption = _text(
    "--tracking-uri", "MLflow store. [default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db]"
)
#: ``--tracking-uri`` of ``clv train``, ``promote`` and ``report``.
TrackingUriOption = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow URI. [default: sqlite:///mlflow.db]"),
]
