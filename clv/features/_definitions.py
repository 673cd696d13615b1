"""The feature definitions, written once.

Each function here turns a frame of validated purchase events (``customer_id``,
``t`` in days, optional ``amount``) into one row per customer. They use only
vectorised pandas/numpy operations over whole columns, so that the embedded engine
runs them on the full log and the Spark engine runs the very same functions on
hash buckets of customers (``groupBy(bucket).applyInPandas``): a customer's events
always fall in one bucket, so the result is the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv.features._calendar import duration
from clv.features._contract import AMOUNT, CUSTOMER_ID
from clv.features._purchases import Purchases, merged_purchases, run_sums


def purchases_of(
    events: pd.DataFrame, *, start: float, end: float, merge: bool = True
) -> Purchases:
    """Merge events into purchases: one per customer and distinct ``t`` in (start, end].

    Parameters
    ----------
    events : pandas.DataFrame
        ``customer_id``, ``t`` and optionally ``amount``.
    start, end : float
        Half-open window of event times, in days; ``-inf`` for no lower bound.
    merge : bool, default True
        Merge a customer's events at one ``t`` into one purchase (amounts summed).
        False keeps every event as a purchase, identical times included.

    Returns
    -------
    Purchases
        Numpy arrays sorted by customer id then time (see
        :class:`clv.features._purchases.Purchases`); the order does not depend on
        the input order.
    """
    amount = events[AMOUNT].to_numpy(dtype="float64") if AMOUNT in events.columns else None
    return merged_purchases(
        events[CUSTOMER_ID].to_numpy(),
        events["t"].to_numpy(dtype="float64"),
        amount,
        start=start,
        end=end,
        merge=merge,
    )


def purchase_events(
    events: pd.DataFrame, *, start: float, end: float, merge: bool = True
) -> pd.DataFrame:
    """:func:`purchases_of` as a frame: ``customer_id``, ``t`` (and ``amount``), one row a purchase."""
    purchases = purchases_of(events, start=start, end=end, merge=merge)
    frame = pd.DataFrame(
        {CUSTOMER_ID: np.repeat(purchases.customers, purchases.counts), "t": purchases.t}
    )
    if purchases.amount is not None:
        frame[AMOUNT] = purchases.amount
    return frame


def rfm_table(
    purchases: Purchases, *, end: float, unit_days: float, time_unit: str | None = None
) -> pd.DataFrame:
    """Recency-frequency-monetary table from merged purchases.

    :func:`rfm_columns` as a frame (each column its own array: no copy).
    """
    return pd.DataFrame(
        rfm_columns(purchases, end=end, unit_days=unit_days, time_unit=time_unit), copy=False
    )


def rfm_columns(
    purchases: Purchases, *, end: float, unit_days: float, time_unit: str | None = None
) -> dict[str, np.ndarray]:
    """Recency-frequency-monetary columns from merged purchases.

    Parameters
    ----------
    purchases : Purchases
        Output of :func:`purchases_of` (or a selection of its runs).
    end : float
        End of observation, in days (the last day counted).
    unit_days : float
        Length of the time unit in days (1 for days, 7 for weeks).
    time_unit : str, optional
        ``"M"`` measures durations in calendar months (:mod:`clv.features._calendar`)
        instead of ``unit_days``.

    Returns
    -------
    dict of numpy.ndarray
        ``customer_id``; ``frequency`` = purchases after the first; ``recency`` =
        first to last purchase; ``T`` = first purchase to ``end``; ``first_purchase``
        (day number); and, with amounts, ``monetary_value`` = mean spend of the
        repeat purchases (0 when there are none).
    """
    t = purchases.t
    starts, stops = purchases.starts, purchases.stops
    first = t[starts]
    last = t[stops - 1]
    frequency = (stops - starts - 1).astype("int64", copy=False)
    columns = {
        CUSTOMER_ID: purchases.customers,
        "frequency": frequency,
        "recency": (last - first) / unit_days if time_unit != "M" else duration(first, last, "M"),
        "T": (end - first) / unit_days if time_unit != "M" else duration(first, end, "M"),
    }
    if purchases.amount is not None:
        amount = purchases.amount
        repeat_total = run_sums(amount, starts, stops) - amount[starts]
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
        columns["monetary_value"] = monetary
    columns["first_purchase"] = first
    return columns


def holdout_columns(purchases: Purchases) -> dict[str, np.ndarray]:
    """Holdout purchases and (with amounts) mean spend per purchase, 0 without one.

    ``holdout_frequency`` and ``holdout_monetary_value`` from each customer's holdout
    run (runs may be empty).
    """
    counts = purchases.counts.astype("int64", copy=False)
    columns = {"holdout_frequency": counts}
    if purchases.amount is not None:
        totals = run_sums(purchases.amount, purchases.starts, purchases.stops)
        columns["holdout_monetary_value"] = totals / np.maximum(counts, 1)
    return columns


def calibration_holdout_table(
    events: pd.DataFrame,
    *,
    calibration_end: float,
    holdout_end: float,
    unit_days: float,
    merge: bool = True,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Calibration RFM columns plus holdout purchases, for customers seen in calibration.

    One set of purchases up to ``holdout_end``: each customer's run splits at
    ``calibration_end`` into the calibration purchases and the holdout ones.

    Parameters
    ----------
    events : pandas.DataFrame
        Validated events.
    calibration_end, holdout_end : float
        Last event time of the calibration and of the holdout period.
    unit_days : float
        Length of the time unit in days.
    merge : bool, default True
        As in :func:`purchases_of`.
    time_unit : str, optional
        ``"M"`` for calendar months, as in :func:`rfm_table`.

    Returns
    -------
    pandas.DataFrame
        :func:`rfm_table` columns, ``holdout_frequency``, ``holdout_monetary_value``
        (with amounts; 0 without holdout purchases) and ``holdout_duration``.
    """
    purchases = purchases_of(events, start=-np.inf, end=holdout_end, merge=merge)
    # a run is sorted by time: it splits at its first holdout purchase (or its end)
    later = np.flatnonzero(purchases.t > calibration_end)
    split = np.append(later, len(purchases.t))[np.searchsorted(later, purchases.starts)]
    np.minimum(split, purchases.stops, out=split)
    seen = split > purchases.starts
    seen = slice(None) if seen.all() else np.flatnonzero(seen)
    table = rfm_table(
        purchases.select(seen, purchases.starts, split),
        end=calibration_end,
        unit_days=unit_days,
        time_unit=time_unit,
    )
    for name, values in holdout_columns(purchases.select(seen, split, purchases.stops)).items():
        table[name] = values
    table["holdout_duration"] = (
        (holdout_end - calibration_end) / unit_days
        if time_unit != "M"
        else duration(calibration_end, holdout_end, "M")
    )
    return table
