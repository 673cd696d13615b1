"""The behavioural feature definition, written once.

Like :mod:`clv.features._definitions`, every function here maps a frame of validated
events (``customer_id``, ``t`` in days, ``amount``) to one row per customer with
vectorised pandas/numpy operations only. A customer's row depends on that customer's
events alone, so the Spark engine can run the same functions on hash buckets of
customers (``groupBy(bucket).applyInPandas``) and get the same table.

Columns of :func:`behaviour_table`, after the RFM contract (``frequency``,
``recency``, ``T``, ``monetary_value``; :func:`clv.features._definitions.rfm_table`):

``purchases_<w>d``, ``spend_<w>d`` for ``w`` in :data:`WINDOWS_DAYS` (28, 91, 182, 364)
    Purchases (same-day lines merged) and their total spend on the ``w`` calendar days
    ending with the observation day (4, 13, 26 and 52 weeks). Counts and money, not
    durations: the window lengths are fixed in days whatever the time unit.
``ipt_mean``, ``ipt_std``
    Mean and population standard deviation (``ddof=0``) of the times between
    consecutive purchases, in the time unit. ``ipt_mean`` is ``recency / frequency``;
    both are **0 when there is no repeat purchase** (``ipt_std`` is 0 with one gap).
``trend``
    ``(recent - earlier) / (recent + earlier)`` with ``recent`` the purchases of the
    last 182 days and ``earlier`` those of the 182 days before; in [-1, 1], **0 when
    both are 0**. +1 means all activity of the last year is in its second half.
``tenure``
    Time from the first purchase to the end of observation, in the time unit (the
    same value as ``T``, named for readers of the behavioural block).
``time_since_last``
    Time from the last purchase to the end of observation (``T - recency``, never
    negative), in the time unit.
``first_purchase_value``, ``last_purchase_value``
    Spend of the first and of the latest purchase.
``total_spend``, ``mean_basket``
    Spend of all purchases, first included, and its mean per purchase.

No column holds NaN: the fills above are the only special cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv._validation import DAY_UNITS
from clv.features._calendar import duration
from clv.features._contract import CUSTOMER_ID
from clv.features._definitions import purchases_of, rfm_columns
from clv.features._purchases import run_sums

WINDOWS_DAYS: tuple[int, ...] = (28, 91, 182, 364)
"""Trailing windows, in days (4, 13, 26 and 52 weeks)."""

TREND_HALF_DAYS = 182
"""Length of each half of the trend comparison, in days."""

RFM_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")

BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    *(f"purchases_{w}d" for w in WINDOWS_DAYS),
    *(f"spend_{w}d" for w in WINDOWS_DAYS),
    "ipt_mean",
    "ipt_std",
    "trend",
    "tenure",
    "time_since_last",
    "first_purchase_value",
    "last_purchase_value",
    "total_spend",
    "mean_basket",
)

LABEL_COLUMNS: tuple[str, ...] = ("future_purchases", "future_spend", "churned")


def behaviour_table(
    events: pd.DataFrame,
    *,
    end: float,
    end_day: float,
    time_unit: str,
    merge: bool = True,
    rfm_only: bool = False,
) -> pd.DataFrame:
    """RFM and behavioural features of every customer with a purchase up to ``end``.

    ``end`` is the last event time included (``end_day`` itself for whole days, just
    before ``end_day + 1`` otherwise); durations are measured to the day ``end_day``,
    in ``time_unit``; ``merge`` as in :func:`clv.features._definitions.purchases_of`.
    Returns ``customer_id``, :data:`RFM_COLUMNS`, :data:`BEHAVIOUR_COLUMNS` by customer id
    (``rfm_only``: the first two only).
    """
    purchases = purchases_of(events, start=-np.inf, end=end, merge=merge)
    table = rfm_columns(
        purchases, end=end_day, unit_days=DAY_UNITS.get(time_unit, np.nan), time_unit=time_unit
    )
    t = purchases.t
    amount = purchases.amount
    starts, stops = purchases.starts, purchases.stops
    n = len(starts)
    codes = np.repeat(np.arange(n), stops - starts)
    frequency = table["frequency"]
    columns: dict[str, np.ndarray] = {name: table[name] for name in (CUSTOMER_ID, *RFM_COLUMNS)}
    if rfm_only:
        return pd.DataFrame(columns, copy=False)

    # Window [end_day + 1 - w, end_day + 1): the w calendar days ending with end_day.
    counts: dict[int, np.ndarray] = {}
    for days in (*WINDOWS_DAYS, 2 * TREND_HALF_DAYS, TREND_HALF_DAYS):
        inside = t >= end_day + 1.0 - days
        counts[days] = (
            np.add.reduceat(inside, starts, dtype="int64") if n else np.zeros(0, dtype="int64")
        )
        if days in WINDOWS_DAYS:
            columns[f"purchases_{days}d"] = counts[days]
            # the purchases inside only: the same sums as with zeros for the others;
            # astype: a weighted bincount of no rows comes back as int64
            spend = np.bincount(codes[inside], weights=amount[inside], minlength=n)
            columns[f"spend_{days}d"] = spend.astype("float64", copy=False)

    same = codes[1:] == codes[:-1]
    gaps = np.where(same, duration(t[:-1], t[1:], time_unit), 0.0)
    sum_squares = np.bincount(codes[1:], weights=gaps**2, minlength=n) if n else np.zeros(0)
    recency = table["recency"]
    repeat = frequency > 0
    safe = np.maximum(frequency, 1)
    ipt_mean = np.where(repeat, recency / safe, 0.0)
    variance = np.where(repeat, sum_squares / safe - ipt_mean**2, 0.0)
    columns["ipt_mean"] = ipt_mean
    columns["ipt_std"] = np.sqrt(np.clip(variance, 0.0, None))

    recent = counts[TREND_HALF_DAYS].astype("float64")
    earlier = counts[2 * TREND_HALF_DAYS] - recent
    both = recent + earlier
    columns["trend"] = np.where(both > 0, (recent - earlier) / np.maximum(both, 1.0), 0.0)

    T = table["T"]
    columns["tenure"] = T.copy()
    columns["time_since_last"] = np.clip(T - recency, 0.0, None)
    columns["first_purchase_value"] = amount[starts]
    columns["last_purchase_value"] = amount[stops - 1]
    total = run_sums(amount, starts, stops)
    columns["total_spend"] = total
    columns["mean_basket"] = total / (frequency + 1)

    names = (CUSTOMER_ID, *RFM_COLUMNS, *BEHAVIOUR_COLUMNS)
    return pd.DataFrame({name: columns[name] for name in names}, copy=False)


def label_table(
    events: pd.DataFrame, customers: np.ndarray, *, start: float, end: float, merge: bool = True
) -> pd.DataFrame:
    """Count what each of ``customers`` did in the label window (days, as ``purchases_of``).

    One row per entry of ``customers``, in order: ``future_purchases`` (int64),
    ``future_spend`` (float64) and ``churned`` (bool: no purchase in the window).
    """
    purchases = purchases_of(events, start=start, end=end, merge=merge)
    totals = run_sums(purchases.amount, purchases.starts, purchases.stops)
    starts, stops = purchases.starts, purchases.stops
    position = pd.Index(purchases.customers).get_indexer(customers)
    found = position >= 0
    count = np.zeros(len(customers), dtype="int64")
    spend = np.zeros(len(customers), dtype="float64")
    count[found] = (stops - starts)[position[found]]
    spend[found] = totals[position[found]]
    return pd.DataFrame({"future_purchases": count, "future_spend": spend, "churned": count == 0})
