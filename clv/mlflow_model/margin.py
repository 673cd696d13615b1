"""The profit margin: which share of spend is profit, and what a CLV figure is.

CLV is profit, not revenue: ``clv = margin x discounted expected spend``. clv keeps
one rule everywhere (``clv train``, ``clv score``, the served model's ``params``,
the report): ``margin`` is the share of spend that is profit, a number in
``[0, 1]``, default ``1.0``. With the default the figure is revenue; with any
smaller margin it is profit. A margin above 1 would say a customer's profit
exceeds what they pay, which is a mistake (a percentage such as ``30`` typed for
``0.30``, or a mark-up typed for a margin), so it is refused rather than scaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from clv._validation import check_number
from clv.errors import InvalidParameterError

__all__ = [
    "DEFAULT_MARGIN",
    "apply_margin",
    "check_margin",
    "describe_margin",
    "scoring_margin",
    "value_basis",
]

#: Share of spend that is profit when none is given: the CLV is revenue.
DEFAULT_MARGIN = 1.0


def check_margin(margin: object) -> float:
    """Return ``margin`` as a float if it is a share of spend in ``[0, 1]``, else raise.

    Raises :class:`~clv.errors.InvalidParameterError` for anything else (booleans too).
    """
    note = " (the share of spend that is profit)"
    return check_number("margin", margin, high=1.0, note=note)


def value_basis(margin: float) -> str:
    """Say what a CLV computed with ``margin`` is: ``"revenue"`` (margin 1) or ``"profit"``."""
    return "revenue" if margin == 1.0 else "profit"


def apply_margin(revenue_clv: object, margin: float) -> np.ndarray:
    """Turn revenue CLV (a candidate's ``clv`` at margin 1) into CLV at ``margin``.

    The one place the margin is applied for the served model, both at training
    time (the segment thresholds) and at scoring time, so both give the same bits.
    """
    return np.asarray(revenue_clv, dtype="float64") * margin


def scoring_margin(metadata: Mapping[str, Any], margin: object = None) -> float:
    """Return the margin a clv model scores at: ``margin``, else its ``metadata``'s default.

    A margin other than 1 for a model logged before clv had margins (it would ignore
    it and answer revenue) is refused like an invalid one.
    """
    if "margin" not in metadata:
        if margin is not None and check_margin(margin) != DEFAULT_MARGIN:
            raise InvalidParameterError(
                "This model was logged before clv knew margins and scores revenue only; "
                "retrain it (clv train --margin) or score without --margin."
            )
        return DEFAULT_MARGIN
    return check_margin(metadata["margin"] if margin is None else margin)


def describe_margin(margin: float) -> str:
    """Say what CLV figures at ``margin`` are: ``"clv is profit (margin 0.3 of spend)"``."""
    if value_basis(margin) == "revenue":
        return "clv is revenue (margin 1)"
    return f"clv is profit (margin {margin:g} of spend)"
