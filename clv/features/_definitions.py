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
from clv.features._contract import AMOUNT, CUSTOMER_ID, inclusive_end
from clv.features._purchases import Purchases, merged_purchases, run_sums

_BLOCK = 1 << 16
"""Customers per block of the calibration/holdout table (512 KB per int64 column)."""


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
    calibration_day: float,
    holdout_day: float,
    unit_days: float,
    merge: bool = True,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Calibration RFM columns plus holdout purchases, for customers seen in calibration.

    One set of purchases up to the end of ``holdout_day``: each customer's run splits
    at the end of ``calibration_day`` into the calibration purchases and the holdout
    ones. The columns are filled block by block of customers, so that no temporary is
    as long as the table (the fresh memory a call takes is the table's own).

    Parameters
    ----------
    events : pandas.DataFrame
        Validated events.
    calibration_day, holdout_day : float
        Last day of the calibration and of the holdout period (whole day numbers).
    unit_days : float
        Length of the time unit in days.
    merge : bool, default True
        As in :func:`purchases_of`.
    time_unit : str, optional
        ``"M"`` for calendar months, as in :func:`rfm_table`.

    Returns
    -------
    pandas.DataFrame
        :func:`rfm_columns` (``T`` counted in whole days to ``calibration_day``, no
        ``first_purchase``), ``holdout_frequency``, ``holdout_monetary_value`` (with
        amounts; 0 without holdout purchases) and ``holdout_duration``.
    """
    purchases = purchases_of(
        events, start=-np.inf, end=inclusive_end(holdout_day, merge), merge=merge
    )
    cut = inclusive_end(calibration_day, merge)
    n = len(purchases.customers)
    columns: dict[str, np.ndarray] = {}
    filled = 0
    for a in range(0, n, _BLOCK) if n else [0]:
        block = purchases.select(slice(a, a + _BLOCK), purchases.starts, purchases.stops)
        split = _holdout_starts(block, cut)
        seen = np.flatnonzero(split > block.starts)
        part = rfm_columns(
            block.select(seen, block.starts, split),
            end=calibration_day,
            unit_days=unit_days,
            time_unit=time_unit,
        )
        del part["first_purchase"]
        part.update(holdout_columns(block.select(seen, split, block.stops)))
        for name, values in part.items():
            if name not in columns:  # preallocated at the most: an unused tail is never touched
                columns[name] = np.empty(n, dtype=values.dtype)
            columns[name][filled : filled + len(seen)] = values
        filled += len(seen)
    table = {name: values[:filled] for name, values in columns.items()}
    table["holdout_duration"] = np.full(
        filled,
        (holdout_day - calibration_day) / unit_days
        if time_unit != "M"
        else duration(calibration_day, holdout_day, "M"),
    )
    return pd.DataFrame(table, copy=False)


def _holdout_starts(purchases: Purchases, cut: float) -> np.ndarray:
    """Position of each run's first purchase after ``cut`` (its stop without one).

    The runs are consecutive and each is sorted by time.
    """
    starts, stops = purchases.starts, purchases.stops
    if len(starts) == 0:
        return stops.copy()
    low, high = int(starts[0]), int(stops[-1])
    later = np.flatnonzero(purchases.t[low:high] > cut)
    later += low
    split = np.append(later, high)[np.searchsorted(later, starts)]
    np.minimum(split, stops, out=split)
    return split
