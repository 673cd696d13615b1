"""Acquisition cohorts: activity, repeat rate and revenue by cohort and age.

A customer's **cohort** is the calendar period (month, or week starting on Monday)
of their first purchase; the **age** of a period is how many periods after the
cohort's it comes (0 is the acquisition period itself). Purchases on one calendar day
count as one purchase (as everywhere in clv, unless ``merge_same_day=False``).

A cell (cohort, age) is **observed** only if its whole period ends on or before
``observation_end``; the cells of later or partly observed periods are missing
(NaN), never zero, so that a young cohort's unobserved future is not read as
inactivity. Its columns:

``customers``
    Cohort size (customers whose first purchase fell in the cohort's period).
``active_customers``, ``active_rate``
    Customers with at least one purchase in the period, and their share of the
    cohort (1 at age 0 by construction).
``repeat_customers``, ``repeat_rate``
    Customers who have made at least one repeat purchase by the end of the period
    (cumulative), and their share.
``purchases``, ``repeat_purchases``
    Purchases in the period, and those that are not a customer's first.
``revenue``
    Total amount of the period's purchases (NaN without amounts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv._validation import check_choice
from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    TIMESTAMP,
    check_observed_by,
    inclusive_end,
)
from clv.features._definitions import purchase_events
from clv.features._options import LogOptions

__all__ = ["cohort_purchases", "cohort_table", "period_bounds", "purchases_cohort_table"]

PERIODS = {"M": "calendar month", "W": "calendar week starting on Monday"}
_MEASURES = (
    "active_customers",
    "active_rate",
    "repeat_customers",
    "repeat_rate",
    "purchases",
    "repeat_purchases",
    "revenue",
)


def period_index(days: np.ndarray, period: str) -> np.ndarray:
    """Return the number of the calendar period of each day (days since 1970-01-01).

    Months count from January 1970; weeks from the Monday 1969-12-29 (1970-01-01 was a
    Thursday).
    """
    days = np.floor(np.asarray(days, dtype=np.float64)).astype(np.int64)
    if period == "M":
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (days + 3) // 7


def period_bounds(index: np.ndarray, period: str) -> tuple[np.ndarray, np.ndarray]:
    """First day and the day after the last of each period number, in days since 1970-01-01."""
    index = np.asarray(index, dtype=np.int64)
    if period == "M":
        start = index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        end = (index + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        return start, end
    return index * 7 - 3, index * 7 + 4


def _labels(index: np.ndarray, period: str) -> pd.PeriodIndex:
    start, _ = period_bounds(index, period)
    days = pd.to_datetime(start, unit="D")
    return pd.PeriodIndex(days, freq="M" if period == "M" else "W-SUN")


def cohort_purchases(
    transactions: pd.DataFrame, period: str, observation_end: object, log: LogOptions
) -> tuple[pd.DataFrame, float]:
    """Return the purchases up to ``observation_end`` with each customer's first-purchase day.

    Returns
    -------
    purchases : pandas.DataFrame
        ``customer_id``, ``t`` (day), ``first`` (day of the customer's first purchase)
        and ``amount`` when present, one row per purchase.
    end_day : float
        The observation end (inclusive day number).
    """
    check_choice("period", period, PERIODS)
    prepared = log.prepare(transactions)
    events = prepared.events
    if observation_end is None:
        end_day = float(np.floor(events["t"].max()))
    else:
        end_day = prepared.day_of(observation_end, "observation_end")
        check_observed_by(prepared, end_day, "observation_end")
    merge = log.merge_same_day
    purchases = purchase_events(
        events, start=-np.inf, end=inclusive_end(end_day, merge), merge=merge
    )
    purchases["first"] = purchases.groupby(CUSTOMER_ID, sort=False)["t"].transform("min")
    return purchases, end_day


def cohort_table(
    transactions: pd.DataFrame,
    *,
    period: str = "M",
    observation_end: object = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str | None = AMOUNT,
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Cohort x age table of active customers, repeat rate and revenue.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log (validated as everywhere in clv).
    period : {"M", "W"}, default "M"
        Calendar months, or weeks starting on Monday.
    observation_end : date-like, optional
        Last day observed (inclusive); default the day of the last transaction.
    customer_id, timestamp, amount, merge_same_day
        As in :func:`clv.features.rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        Index (``cohort``, ``age``): the cohort as a ``pandas.Period``, the age in
        periods; columns ``customers`` and the measures of the module docstring,
        missing where the period is not wholly observed. ``attrs["period"]`` and
        ``attrs["observation_end"]`` record the choices. ``table[col].unstack("age")``
        gives the usual triangle.

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> table = cohort_table(load_cdnow(), period="M", observation_end="1998-06-30")
    >>> int(table.loc[("1997-01", 0), "customers"])
    781
    """
    log = LogOptions(customer_id, timestamp, amount, merge_same_day)
    purchases, end_day = cohort_purchases(transactions, period, observation_end, log)
    return purchases_cohort_table(purchases, end_day, period)


def purchases_cohort_table(purchases: pd.DataFrame, end_day: float, period: str) -> pd.DataFrame:
    """:func:`cohort_table` of the output of :func:`cohort_purchases`."""
    cohort = period_index(purchases["first"].to_numpy(), period)
    age = period_index(purchases["t"].to_numpy(), period) - cohort
    repeat = purchases["t"].to_numpy() > purchases["first"].to_numpy()
    last_complete = int(period_index(np.array([end_day + 1.0]), period)[0]) - 1
    frame = pd.DataFrame(
        {
            "customer_id": purchases[CUSTOMER_ID].to_numpy(),
            "cohort": cohort,
            "age": age,
            "repeat": repeat,
            "amount": purchases[AMOUNT].to_numpy() if AMOUNT in purchases.columns else np.nan,
        }
    )
    sizes = frame.drop_duplicates("customer_id").groupby("cohort").size()
    cells = frame.groupby(["cohort", "age"])
    measures = pd.DataFrame(
        {
            "active_customers": cells["customer_id"].nunique(),
            "purchases": cells.size(),
            "repeat_purchases": cells["repeat"].sum(),
            "revenue": cells["amount"].sum(min_count=1),
        }
    )
    # the period of each customer's first repeat purchase gives the cumulative repeaters
    first_repeat = frame[frame["repeat"]].groupby("customer_id")[["cohort", "age"]].min()
    newly = first_repeat.groupby(["cohort", "age"]).size()

    index = pd.MultiIndex.from_tuples(
        [(c, a) for c in sizes.index for a in range(0, max(last_complete - c, 0) + 1)],
        names=["cohort", "age"],
    )
    table = measures.reindex(index)
    table.insert(0, "customers", sizes.reindex(index.get_level_values("cohort")).to_numpy())
    for column in ("active_customers", "purchases", "repeat_purchases"):
        table[column] = table[column].fillna(0)
    if AMOUNT in purchases.columns:
        table["revenue"] = table["revenue"].fillna(0.0)
    table["repeat_customers"] = newly.reindex(index, fill_value=0).groupby(level="cohort").cumsum()
    table["active_rate"] = table["active_customers"] / table["customers"]
    table["repeat_rate"] = table["repeat_customers"] / table["customers"]
    observed = (
        index.get_level_values("cohort").to_numpy() + index.get_level_values("age").to_numpy()
        <= last_complete
    )
    table.loc[~observed, list(_MEASURES)] = np.nan
    table = table[["customers", *_MEASURES]]
    table.index = pd.MultiIndex.from_arrays(
        [
            _labels(index.get_level_values("cohort").to_numpy(), period),
            index.get_level_values("age"),
        ],
        names=["cohort", "age"],
    )
    table.attrs.update(
        {
            "period": period,
            "observation_end": str(pd.to_datetime(end_day, unit="D").date()),
        }
    )
    return table
