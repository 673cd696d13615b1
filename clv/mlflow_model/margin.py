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
    """Return ``margin`` as a float if it is a share of spend, else raise.

    Parameters
    ----------
    margin : float
        Share of spend that is profit, in ``[0, 1]``.

    Returns
    -------
    float

    Raises
    ------
    clv.errors.InvalidParameterError
        If ``margin`` is not a finite number in ``[0, 1]`` (booleans included).
    """
    note = " (the share of spend that is profit)"
    return check_number("margin", margin, high=1.0, note=note)


def value_basis(margin: float) -> str:
    """Say what a CLV computed with ``margin`` is: ``"revenue"`` (margin 1) or ``"profit"``.

    Parameters
    ----------
    margin : float
        A checked margin (:func:`check_margin`).

    Returns
    -------
    str
    """
    return "revenue" if margin == 1.0 else "profit"


def apply_margin(revenue_clv: object, margin: float) -> np.ndarray:
    """Turn revenue CLV (a candidate's ``clv`` at margin 1) into CLV at ``margin``.

    The one place the margin is applied for the served model, both at training
    time (the segment thresholds) and at scoring time, so both give the same bits.

    Parameters
    ----------
    revenue_clv : array-like of float
    margin : float
        A checked margin (:func:`check_margin`).

    Returns
    -------
    numpy.ndarray
    """
    return np.asarray(revenue_clv, dtype="float64") * margin


def scoring_margin(metadata: Mapping[str, Any], margin: object = None) -> float:
    """Return the margin a registered clv model scores at: ``margin``, else its default.

    Parameters
    ----------
    metadata : mapping
        The model's clv metadata (``metadata.json``); ``margin`` is its default.
    margin : float, optional
        The margin asked for (checked with :func:`check_margin`).

    Returns
    -------
    float

    Raises
    ------
    clv.errors.InvalidParameterError
        If ``margin`` is invalid, or is given for a model logged before clv had
        margins (it would ignore it and answer revenue).
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
    """Say in words what CLV figures at ``margin`` are, for terminal output and reports.

    Parameters
    ----------
    margin : float
        A checked margin.

    Returns
    -------
    str
        ``"clv is revenue (margin 1)"`` or ``"clv is profit (margin 0.3 of spend)"``.
    """
    if value_basis(margin) == "revenue":
        return "clv is revenue (margin 1)"
    return f"clv is profit (margin {margin:g} of spend)"
