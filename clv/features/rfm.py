"""Customer tables: the RFM summary and the calibration/holdout split."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from clv._validation import DAY_UNITS
from clv.errors import InvalidParameterError
from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    PreparedTransactions,
    check_observed_by,
    inclusive_end,
    to_day_number,
)
from clv.features._definitions import calibration_holdout_table, purchases_of, rfm_table
from clv.features._engines import is_spark_frame, run_by_customer
from clv.features._options import LogOptions, with_log_options

_CUSTOMER_COLUMNS = [CUSTOMER_ID, "frequency", "recency", "T"]


def _finish(table: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    table.attrs["time_unit"] = time_unit
    return table


@with_log_options
def rfm_summary(
    transactions: pd.DataFrame,
    *,
    observation_end: object,
    time_unit: str = "D",
    options: LogOptions,
) -> pd.DataFrame:
    """Summarise a transaction log into one row per customer (the customer table).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction with a customer id, a timestamp and, optionally,
        an amount.
    observation_end : date-like
        Last day observed (inclusive). Transactions after it are ignored.
    time_unit : {"D", "W", "M"}, default "D"
        Unit of ``recency`` and ``T``: days, weeks of 7 days, or calendar months
        (each day counts 1 / the length of its month; see
        :mod:`clv.features._calendar`). Stored in the table's ``attrs["time_unit"]``.
    customer_id, timestamp, amount : str
        The caller's column names. A missing default ``amount`` column is allowed
        (the table then has no ``monetary_value``); ``amount=None`` ignores amounts.
    merge_same_day : bool, default True
        Count all purchases of one calendar day as one purchase (their amounts
        summed). With False every row is a purchase at its exact time, rows with
        identical timestamps included.
    duplicates : {"keep", "drop", "raise"}, default "keep"
        Policy for identical rows; see :mod:`clv.features`.
    negative_amounts : {"raise", "drop", "net"}, default "raise"
        Policy for returns; see :mod:`clv.features`.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``, with columns ``customer_id``, ``frequency``
        (repeat purchases: purchases after the first), ``recency`` (time from the
        first to the last purchase), ``T`` (time from the first purchase to the end
        of observation, counted in whole days) and, with amounts, ``monetary_value``
        (mean spend of the repeat purchases; 0 where ``frequency`` is 0).

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract or ``observation_end`` is
        before the first transaction.

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> table = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    >>> int(table["frequency"].sum())
    2457
    """
    compute = partial(
        _rfm_frame, observation_end=observation_end, time_unit=time_unit, options=options
    )
    if is_spark_frame(transactions):
        columns = _output_columns(transactions, options.amount, False)
        return run_by_customer(transactions, compute, columns)
    prepared = options.prepare(transactions)
    check_observed_by(
        prepared, prepared.day_of(observation_end, "observation_end"), "observation_end"
    )
    return _finish(compute(prepared), time_unit)


def _output_columns(transactions: object, amount: str | None, holdout: bool) -> list[str]:
    has_amount = amount is not None and amount in transactions.columns
    columns = _CUSTOMER_COLUMNS + (["monetary_value"] if has_amount else [])
    if holdout:
        columns += ["holdout_frequency"]
        columns += ["holdout_monetary_value"] if has_amount else []
        columns += ["holdout_duration"]
    return columns


def _rfm_frame(
    transactions: pd.DataFrame | PreparedTransactions,
    *,
    observation_end: object,
    time_unit: str,
    options: LogOptions,
) -> pd.DataFrame:
    """Validate a (part of a) log and build its customer table: the one definition."""
    prepared = options.prepare(transactions)
    end = prepared.day_of(observation_end, "observation_end")
    merge = options.merge_same_day
    table = rfm_table(
        purchases_of(prepared.events, start=-np.inf, end=inclusive_end(end, merge), merge=merge),
        end=end,
        unit_days=DAY_UNITS.get(time_unit, np.nan),
        time_unit=time_unit,
    )
    columns = _CUSTOMER_COLUMNS + (["monetary_value"] if prepared.has_amount else [])
    return table[columns].reset_index(drop=True)


@with_log_options
def calibration_holdout_split(
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    holdout_end: object,
    time_unit: str = "D",
    options: LogOptions,
) -> pd.DataFrame:
    """Build the calibration-period customer table with what happened in the holdout.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log.
    calibration_end : date-like
        Last day of the calibration period (inclusive).
    holdout_end : date-like
        Last day of the holdout period (inclusive); must be after ``calibration_end``.
    time_unit, customer_id, timestamp, amount, merge_same_day, duplicates, negative_amounts
        As in :func:`rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        The :func:`rfm_summary` columns for the calibration period, plus
        ``holdout_frequency`` (purchases in the holdout), ``holdout_monetary_value``
        (mean spend per holdout purchase, 0 without one; only with amounts) and
        ``holdout_duration`` (length of the holdout in ``time_unit``). Customers
        whose first purchase falls in the holdout are excluded.

    Notes
    -----
    ``holdout_monetary_value`` is the mean spend per holdout *purchase* (same-day
    lines merged), the same definition as ``monetary_value``. lifetimes'
    ``calibration_and_holdout_data`` averages holdout spend per transaction *row*
    instead; the totals agree.
    """
    compute = partial(
        _split_frame,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        options=options,
    )
    if is_spark_frame(transactions):
        _check_boundaries(None, calibration_end, holdout_end)
        columns = _output_columns(transactions, options.amount, True)
        return run_by_customer(transactions, compute, columns)
    prepared = options.prepare(transactions)
    calibration_day = _check_boundaries(prepared, calibration_end, holdout_end)
    check_observed_by(prepared, calibration_day, "calibration_end")
    return _finish(compute(prepared), time_unit)


def _check_boundaries(
    prepared: PreparedTransactions | None, calibration_end: object, holdout_end: object
) -> float:
    tz = prepared.tz if prepared is not None else None
    calibration_day = to_day_number(calibration_end, "calibration_end", tz)
    if to_day_number(holdout_end, "holdout_end", tz) <= calibration_day:
        raise InvalidParameterError(
            f"The 'holdout_end' date ({holdout_end}) must be after 'calibration_end' "
            f"({calibration_end})."
        )
    return calibration_day


def _split_frame(
    transactions: pd.DataFrame | PreparedTransactions,
    *,
    calibration_end: object,
    holdout_end: object,
    time_unit: str,
    options: LogOptions,
) -> pd.DataFrame:
    """Validate a (part of a) log and build its calibration/holdout table."""
    prepared = options.prepare(transactions)
    table = calibration_holdout_table(
        prepared.events,
        calibration_day=prepared.day_of(calibration_end, "calibration_end"),
        holdout_day=prepared.day_of(holdout_end, "holdout_end"),
        unit_days=DAY_UNITS.get(time_unit, np.nan),
        merge=options.merge_same_day,
        time_unit=time_unit,
    )
    columns = _output_columns(prepared.events, AMOUNT, True)
    return table[columns].reset_index(drop=True)
