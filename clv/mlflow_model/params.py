"""The served model's request params, checked by :func:`clv._validation.check_number`.

A param reaches the model as a number, or as text holding one (a JSON string, a
command-line value): :func:`check_param` reads the text, and the range and message
are :func:`clv._validation.check_number`'s.
"""

from __future__ import annotations

from typing import Any

from clv._validation import check_number, units_per_year

__all__ = ["MAX_HORIZON_YEARS", "check_horizon", "check_param"]

#: The longest prediction horizon a request may ask for, in years (converted to the
#: model's time unit: 3652.5 days, 521.8 weeks). Scoring costs time in proportion to
#: the horizon's number of periods: 10,000 rows at 10 years of days take ~8 s.
MAX_HORIZON_YEARS = 10.0


def check_param(name: str, value: Any, **bounds: Any) -> float:
    """Return a request param (a number, or text holding one) as a float if in the range.

    ``bounds`` are :func:`clv._validation.check_number`'s (default ``[0, inf)``).
    """
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return check_number(name, value, **bounds)


def check_horizon(value: Any, time_unit: str) -> float:
    """Return the ``horizon`` param: in (0, :data:`MAX_HORIZON_YEARS`] years, in ``time_unit``."""
    return check_param(
        "horizon",
        value,
        low_open=True,
        high=MAX_HORIZON_YEARS * units_per_year(time_unit),
        note=f" (at most {MAX_HORIZON_YEARS:g} years, in the model's time unit '{time_unit}')",
    )
