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

from clv.features._contract import AMOUNT, CUSTOMER_ID


def purchase_events(events: pd.DataFrame, *, start: float, end: float) -> pd.DataFrame:
    """Merge events into purchases: one per customer and distinct ``t`` in (start, end].

    Parameters
    ----------
    events : pandas.DataFrame
        ``customer_id``, ``t`` and optionally ``amount``.
    start, end : float
        Half-open window of event times, in days; ``-inf`` for no lower bound.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``t`` (and ``amount``, the sum over merged events),
        sorted by customer then time. Customers are factorised (sorted ids) so that
        the output order does not depend on the input order.
    """
    t = events["t"].to_numpy()
    mask = (t > start) & (t <= end)
    codes, uniques = pd.factorize(events[CUSTOMER_ID].to_numpy()[mask], sort=True)
    times = t[mask]
    order = _order_by_customer_then_time(codes, times)
    codes, times = codes[order], times[order]
    new_purchase = np.empty(len(codes), dtype=bool)
    new_purchase[:1] = True
    new_purchase[1:] = (codes[1:] != codes[:-1]) | (times[1:] != times[:-1])
    starts = np.flatnonzero(new_purchase)
    result = pd.DataFrame({CUSTOMER_ID: uniques.take(codes[starts]), "t": times[starts]})
    if AMOUNT in events.columns:
        amount = events[AMOUNT].to_numpy(dtype="float64")[mask][order]
        result[AMOUNT] = np.add.reduceat(amount, starts) if len(starts) else amount[:0]
    return result


def _order_by_customer_then_time(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Stable order by (customer code, time); one integer key when times are whole days."""
    if len(times) == 0:
        return np.zeros(0, dtype="int64")
    low, high = times.min(), times.max()
    span = high - low + 1
    whole_days = np.array_equal(times, np.floor(times))
    if whole_days and span * (codes.max() + 1) < 2**62:
        key = codes.astype("int64") * np.int64(span) + (times - low).astype("int64")
        return np.argsort(key, kind="stable")
    return np.lexsort((times, codes))


def customer_runs(customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop positions of each customer's run in rows sorted by customer.

    Parameters
    ----------
    customer_ids : numpy.ndarray
        Customer ids, equal ids adjacent.

    Returns
    -------
    starts, stops : numpy.ndarray
        ``customer_ids[starts[i]:stops[i]]`` is the i-th customer's run; both empty
        for no rows.
    """
    if len(customer_ids) == 0:
        empty = np.zeros(0, dtype="int64")
        return empty, empty
    change = np.empty(len(customer_ids), dtype=bool)
    change[0] = True
    change[1:] = customer_ids[1:] != customer_ids[:-1]
    starts = np.flatnonzero(change)
    return starts, np.append(starts[1:], len(customer_ids)).astype("int64")


def rfm_table(purchases: pd.DataFrame, *, end: float, unit_days: float) -> pd.DataFrame:
    """Recency-frequency-monetary table from merged purchases.

    Parameters
    ----------
    purchases : pandas.DataFrame
        Output of :func:`purchase_events` (sorted by customer then time).
    end : float
        End of observation, in days (the last day counted).
    unit_days : float
        Length of the time unit in days (1 for days, 7 for weeks).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``; ``frequency`` = purchases after the first; ``recency`` =
        first to last purchase; ``T`` = first purchase to ``end``; ``first_purchase``
        (day number); and, with amounts, ``monetary_value`` = mean spend of the
        repeat purchases (0 when there are none).
    """
    ids = purchases[CUSTOMER_ID].to_numpy()
    t = purchases["t"].to_numpy()
    starts, stops = customer_runs(ids)
    first = t[starts]
    last = t[stops - 1]
    frequency = (stops - starts - 1).astype("int64")
    table = pd.DataFrame(
        {
            CUSTOMER_ID: ids[starts],
            "frequency": frequency,
            "recency": (last - first) / unit_days,
            "T": (end - first) / unit_days,
        }
    )
    if AMOUNT in purchases.columns:
        amount = purchases[AMOUNT].to_numpy(dtype="float64")
        totals = np.add.reduceat(amount, starts) if len(starts) else np.zeros(0)
        repeat_total = totals - amount[starts]
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
        table["monetary_value"] = monetary
    table["first_purchase"] = first
    return table


def holdout_table(purchases: pd.DataFrame) -> pd.DataFrame:
    """Holdout purchases and mean spend per customer.

    Parameters
    ----------
    purchases : pandas.DataFrame
        Output of :func:`purchase_events` restricted to the holdout window.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``holdout_frequency`` and, with amounts,
        ``holdout_monetary_value`` (mean spend per holdout purchase).
    """
    ids = purchases[CUSTOMER_ID].to_numpy()
    starts, stops = customer_runs(ids)
    counts = (stops - starts).astype("int64")
    table = pd.DataFrame({CUSTOMER_ID: ids[starts], "holdout_frequency": counts})
    if AMOUNT in purchases.columns:
        amount = purchases[AMOUNT].to_numpy(dtype="float64")
        totals = np.add.reduceat(amount, starts) if len(starts) else np.zeros(0)
        table["holdout_monetary_value"] = totals / np.maximum(counts, 1)
    return table


def calibration_holdout_table(
    events: pd.DataFrame,
    *,
    calibration_end: float,
    holdout_end: float,
    unit_days: float,
) -> pd.DataFrame:
    """Calibration RFM columns plus holdout purchases, for customers seen in calibration.

    Parameters
    ----------
    events : pandas.DataFrame
        Validated events.
    calibration_end, holdout_end : float
        Last day of the calibration and of the holdout period.
    unit_days : float
        Length of the time unit in days.

    Returns
    -------
    pandas.DataFrame
        :func:`rfm_table` columns, ``holdout_frequency``, ``holdout_monetary_value``
        (with amounts; 0 without holdout purchases) and ``holdout_duration``.
    """
    calibration = rfm_table(
        purchase_events(events, start=-np.inf, end=calibration_end),
        end=calibration_end,
        unit_days=unit_days,
    )
    holdout = holdout_table(purchase_events(events, start=calibration_end, end=holdout_end))
    table = calibration.merge(holdout, on=CUSTOMER_ID, how="left", sort=False)
    table["holdout_frequency"] = table["holdout_frequency"].fillna(0).astype("int64")
    if "holdout_monetary_value" in table.columns:
        table["holdout_monetary_value"] = table["holdout_monetary_value"].fillna(0.0)
    table["holdout_duration"] = (holdout_end - calibration_end) / unit_days
    return table
