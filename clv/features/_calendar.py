"""Calendar months as a time unit.

A calendar month is not a fixed number of days, so durations in months are measured
on a month clock: the day number ``d`` (days since 1970-01-01, a fraction of a day
when same-day purchases are not merged) is at month time

    ``months since January 1970 of d's month + (day of month - 1 + fraction) / days in d's month``,

and a duration is the difference of two month times. Each day therefore counts as
1 / (the number of days of its own month), and a partial month counts by its days:
2024-01-31 to 2024-02-01 is 1/31 month (the day 31 January), 2024-02-28 to
2024-03-01 is 2/29 (28 and 29 February), 2024-01-15 to 2024-02-15 is 17/31 + 14/29 =
1.031, and from the same day of two months with equally long months, or from the first
of a month to the first of another, the duration is a whole number (1997-09-30 to
1998-06-30: 9). With ``time_unit="M"`` the models count 12 units per year, so annual
discount rates convert exactly (no 4.345-week months).
"""

from __future__ import annotations

import numpy as np

__all__ = ["day_at", "duration", "month_time", "unit_day", "unit_time"]

#: Units whose length is a fixed number of days.
_FIXED = {"D": 1.0, "W": 7.0}


def month_time(days: np.ndarray) -> np.ndarray:
    """Month-clock time of day numbers (see the module docstring)."""
    days = np.asarray(days, dtype=np.float64)
    whole = np.floor(days)
    month = whole.astype("int64").astype("datetime64[D]").astype("datetime64[M]")
    start = month.astype("datetime64[D]").astype(np.int64)
    length = (month + 1).astype("datetime64[D]").astype(np.int64) - start
    return month.astype(np.int64) + (days - start) / length


def day_at(months: np.ndarray | float) -> np.ndarray:
    """Day number at a month-clock time: the inverse of :func:`month_time`."""
    months = np.asarray(months, dtype=np.float64)
    whole = np.floor(months)
    month = whole.astype("int64").astype("datetime64[M]")
    start = month.astype("datetime64[D]").astype(np.int64)
    length = (month + 1).astype("datetime64[D]").astype(np.int64) - start
    return start + (months - whole) * length


def unit_time(days: np.ndarray | float, time_unit: str) -> np.ndarray:
    """Day numbers on the clock of ``time_unit`` ("D", "W", or the month clock "M").

    Differences of these times are :func:`duration`; :func:`unit_day` inverts them.
    """
    if time_unit == "M":
        return month_time(days)
    return np.asarray(days, dtype=np.float64) / _FIXED[time_unit]


def unit_day(times: np.ndarray | float, time_unit: str) -> np.ndarray:
    """Day numbers of times on the clock of ``time_unit`` (the inverse of :func:`unit_time`)."""
    if time_unit == "M":
        return day_at(times)
    return np.asarray(times, dtype=np.float64) * _FIXED[time_unit]


def duration(start: np.ndarray | float, end: np.ndarray | float, time_unit: str) -> np.ndarray:
    """``end - start`` (day numbers) in ``time_unit``: "D", "W" or calendar months "M"."""
    if time_unit == "M":
        return month_time(end) - month_time(start)
    return (np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)) / _FIXED[
        time_unit
    ]
