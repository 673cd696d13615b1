"""Behavioural customer features and leakage-free training examples.

:func:`customer_features` is the customer table every candidate model predicts from
(``docs/INTERFACES.md``): the RFM contract columns, then the behavioural columns
defined in :mod:`clv.features._behaviour_definitions`, then optional per-customer
attributes. :func:`training_examples` stacks that table as of several cutoffs
(rolling origins) with what each customer did in the following horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from clv._validation import check_number, check_time_unit
from clv.errors import InvalidDataError, InvalidParameterError, describe_examples
from clv.features._behaviour_definitions import (
    BEHAVIOUR_COLUMNS,
    RFM_COLUMNS,
    WINDOWS_DAYS,
    behaviour_table,
    label_table,
)
from clv.features._calendar import unit_day, unit_time
from clv.features._contract import (
    CUSTOMER_ID,
    PreparedTransactions,
    check_observed_by,
    inclusive_end,
    to_day_number,
)
from clv.features._engines import is_spark_frame, run_by_customer
from clv.features._options import LogOptions, with_log_options

__all__ = ["FEATURE_COLUMNS", "customer_features", "training_examples"]

FEATURE_COLUMNS: tuple[str, ...] = (CUSTOMER_ID, *RFM_COLUMNS, *BEHAVIOUR_COLUMNS)
"""Columns of :func:`customer_features` before any attribute column, in order."""

# Columns the definition returns as int64 (the others are float64); typed so on Spark.
_INTEGER_FEATURES = frozenset({"frequency", *(f"purchases_{w}d" for w in WINDOWS_DAYS)})


def _check_attributes(attributes: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    if not isinstance(attributes, pd.DataFrame):
        raise InvalidDataError(
            f"'attributes' must be a pandas DataFrame; got {type(attributes).__name__}."
        )
    key = customer_id if customer_id in attributes.columns else CUSTOMER_ID
    if key not in attributes.columns:
        raise InvalidDataError(
            f"'attributes' lacks the customer id column '{customer_id}'; found "
            f"{list(map(str, attributes.columns))}."
        )
    frame = attributes.rename(columns={key: CUSTOMER_ID})
    clash = sorted(set(frame.columns) & set(FEATURE_COLUMNS) - {CUSTOMER_ID})
    if clash:
        raise InvalidDataError(
            f"'attributes' column(s) {', '.join(clash)} clash with feature columns; rename them."
        )
    duplicated = frame[CUSTOMER_ID].duplicated().to_numpy()
    if duplicated.any():
        raise InvalidDataError(
            f"'attributes': {int(duplicated.sum())} rows repeat a customer id "
            f"({describe_examples(pd.unique(frame[CUSTOMER_ID].to_numpy()[duplicated]))}); "
            "attributes are one row per customer."
        )
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if name == CUSTOMER_ID or isinstance(series.dtype, pd.CategoricalDtype):
            columns[name] = series
        elif pd.api.types.is_bool_dtype(series.dtype):
            columns[name] = series.astype("int64")
        elif pd.api.types.is_numeric_dtype(series.dtype):
            columns[name] = series
        else:
            columns[name] = series.astype("category")
    return pd.DataFrame(columns, index=frame.index)


def _join_attributes(table: pd.DataFrame, attributes: pd.DataFrame | None) -> pd.DataFrame:
    if attributes is None:
        return table
    joined = attributes.set_index(CUSTOMER_ID).reindex(table[CUSTOMER_ID].to_numpy())
    joined.index = table.index
    return pd.concat([table, joined], axis=1)


def _features_at(
    prepared: PreparedTransactions,
    day: float,
    time_unit: str,
    merge_same_day: bool,
    attributes: pd.DataFrame | None,
    rfm_only: bool = False,
) -> pd.DataFrame:
    table = behaviour_table(
        prepared.events,
        end=inclusive_end(day, merge_same_day),
        end_day=day,
        time_unit=time_unit,
        merge=merge_same_day,
        rfm_only=rfm_only,
    )
    return _join_attributes(table, attributes)


@with_log_options
def customer_features(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    time_unit: str = "D",
    attributes: pd.DataFrame | None = None,
    rfm_only: bool = False,
    options: LogOptions,
) -> pd.DataFrame:
    """One row of RFM and behavioural features per customer, as of a day.

    Parameters
    ----------
    transactions : pandas.DataFrame or pyspark.sql.DataFrame
        One row per transaction with a customer id, a timestamp and an amount. A
        Spark DataFrame gives a Spark DataFrame: the same definition run on hash
        buckets of customers (:mod:`clv.features._engines`), rows in no order,
        integer columns ``long`` and the others ``double``, no ``attrs``; its
        ``attributes`` must be a Spark DataFrame too (left-joined as is).
    as_of : date-like
        Last day observed (inclusive); later transactions are ignored.
    time_unit : {"D", "W", "M"}, default "D"
        Unit of every duration column (``recency``, ``T``, ``ipt_mean``, ``ipt_std``,
        ``tenure``, ``time_since_last``): days, weeks or calendar months
        (:mod:`clv.features._calendar`); stored in ``attrs["time_unit"]``.
    customer_id, timestamp, amount : str
        The caller's column names; the amount column is required.
    attributes : pandas.DataFrame, optional
        Static per-customer columns, one row per customer, keyed by ``customer_id``
        (the caller's name or the canonical one). Appended after the behavioural
        columns; text and categorical columns become pandas ``category``, booleans
        int64. Customers without a row get missing values there (NaN, or a missing
        category), which the boosted models treat as missing.
    rfm_only : bool, default False
        Build ``customer_id`` and the four RFM columns only, the same values in about
        0.4x the time (what batch scoring builds for a model that reads nothing else).
    merge_same_day, duplicates, negative_amounts
        As in :func:`clv.features.rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        :data:`FEATURE_COLUMNS` (see :mod:`clv.features._behaviour_definitions` for
        each column's definition and fill value), then the attribute columns; sorted
        by ``customer_id``; ``attrs["time_unit"]`` set. The first five columns are
        exactly :func:`clv.features.rfm_summary`'s.

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract, ``as_of`` is before the first
        transaction, or ``attributes`` repeat a customer or clash with a feature name.

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> table = customer_features(load_cdnow(), as_of="1997-09-30", time_unit="W")
    >>> int(table["purchases_91d"].sum())
    711
    """
    if is_spark_frame(transactions):
        return _spark_features(transactions, as_of, time_unit, attributes, options, rfm_only)
    prepared = options.prepare(transactions, require_amount=True)
    extra = None if attributes is None else _check_attributes(attributes, options.customer_id)
    day = prepared.day_of(as_of, "as_of")
    check_observed_by(prepared, day, "as_of")
    table = _features_at(prepared, day, time_unit, options.merge_same_day, extra, rfm_only)
    table.attrs["time_unit"] = time_unit
    return table


def _features_frame(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    time_unit: str,
    options: LogOptions,
    rfm_only: bool = False,
) -> pd.DataFrame:
    """Validate a (part of a) log and build its feature table: what each Spark bucket runs.

    The same steps as :func:`customer_features` (the same :func:`_features_at`, hence
    :func:`clv.features._behaviour_definitions.behaviour_table`), minus the global
    check that someone is observed by ``as_of``: a bucket may hold only later customers.
    """
    prepared = options.prepare(transactions, require_amount=True)
    day = prepared.day_of(as_of, "as_of")
    # a bucket whose customers all start after as_of gives no row (no error: the
    # global check that someone is observed belongs to the caller)
    check_time_unit(time_unit, "DWM")
    return _features_at(prepared, day, time_unit, options.merge_same_day, None, rfm_only)


def _spark_features(
    transactions: object,
    as_of: object,
    time_unit: str,
    attributes: object,
    options: LogOptions,
    rfm_only: bool,
) -> object:
    """customer_features on a Spark DataFrame: the definition run per customer bucket.

    Returns a Spark DataFrame with the :data:`FEATURE_COLUMNS` (integer columns as
    ``long``, the others ``double``; ``customer_id`` keeps the log's type), one row
    per customer observed by ``as_of``, in no particular order. ``attributes`` must
    then be a Spark DataFrame keyed by the customer id; it is left-joined as is.
    """
    to_day_number(as_of, "as_of")
    if options.amount not in transactions.columns:
        raise InvalidDataError(
            f"Transactions lack column(s) '{options.amount}'; found {list(transactions.columns)}."
        )
    compute = partial(
        _features_frame, as_of=as_of, time_unit=time_unit, options=options, rfm_only=rfm_only
    )
    names = (CUSTOMER_ID, *RFM_COLUMNS) if rfm_only else FEATURE_COLUMNS
    integer = [name for name in names if name in _INTEGER_FEATURES]
    table = run_by_customer(transactions, compute, list(names), integer_columns=integer)
    if attributes is None:
        return table
    if not is_spark_frame(attributes):
        raise InvalidDataError(
            "With a Spark transaction log, 'attributes' must be a Spark DataFrame; got "
            f"{type(attributes).__name__}."
        )
    customer_id = options.customer_id
    key = customer_id if customer_id in attributes.columns else CUSTOMER_ID
    if key not in attributes.columns:
        raise InvalidDataError(
            f"'attributes' lacks the customer id column '{customer_id}'; found "
            f"{list(attributes.columns)}."
        )
    attributes = attributes.withColumnRenamed(key, CUSTOMER_ID)
    clash = sorted(set(attributes.columns) & set(FEATURE_COLUMNS) - {CUSTOMER_ID})
    if clash:
        raise InvalidDataError(
            f"'attributes' column(s) {', '.join(clash)} clash with feature columns; rename them."
        )
    return table.join(attributes, on=CUSTOMER_ID, how="left")


@with_log_options
def training_examples(
    transactions: pd.DataFrame,
    *,
    cutoffs: Sequence[object],
    horizon: float,
    time_unit: str = "D",
    attributes: pd.DataFrame | None = None,
    observation_end: object = None,
    options: LogOptions,
) -> pd.DataFrame:
    """Features as of each cutoff with labels from the following horizon.

    For every cutoff ``c`` (a day, inclusive), the rows are :func:`customer_features`
    as of ``c`` (customers with a purchase up to ``c``) and the labels count what
    they did in ``(c, c + horizon]``. Nothing after ``c`` enters a feature and nothing
    after ``c + horizon`` enters a label.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log.
    cutoffs : sequence of date-like
        Feature dates (rolling origins); each gives one row per customer seen by then.
    horizon : float
        Length of the label window, in ``time_unit``.
    time_unit : {"D", "W", "M"}, default "D"
        Unit of ``horizon`` and of the duration features; with calendar months
        (:mod:`clv.features._calendar`) a label window ends ``horizon`` months after
        its cutoff on the month clock (30 September + 1 month = 31 October).
    customer_id, timestamp, amount, attributes, merge_same_day, duplicates, negative_amounts
        As in :func:`customer_features`.
    observation_end : date-like, optional
        Last day the log covers; default the day of the last transaction. Every
        ``cutoff + horizon`` must fall on or before it, or the labels would count a
        partly unobserved window as churn.

    Returns
    -------
    pandas.DataFrame
        ``cutoff`` (datetime64), the :func:`customer_features` columns, then
        ``future_purchases`` (int64), ``future_spend`` (float64) and ``churned``
        (bool: no purchase in the horizon). Sorted by cutoff, then customer id;
        ``attrs`` hold ``time_unit`` and ``horizon``.

    Raises
    ------
    clv.errors.InvalidParameterError
        If ``cutoffs`` is empty, ``horizon`` is not positive, or a label window ends
        after ``observation_end``.
    clv.errors.InvalidDataError
        If the log breaks the transaction contract or a cutoff precedes every
        transaction.
    """
    check_number("horizon", horizon, owner="training_examples", low_open=True)
    if isinstance(cutoffs, str) or len(cutoffs) == 0:
        raise InvalidParameterError(
            f"The 'cutoffs' parameter must be a non-empty sequence of dates. Got {cutoffs!r}."
        )
    prepared = options.prepare(transactions, require_amount=True)
    extra = None if attributes is None else _check_attributes(attributes, options.customer_id)
    merge_same_day = options.merge_same_day
    if observation_end is None:
        last_day = float(np.floor(np.max(prepared.events["t"].to_numpy())))
    else:
        last_day = prepared.day_of(observation_end, "observation_end")
    days = sorted({prepared.day_of(value, "cutoffs") for value in cutoffs})
    # the label window ends ``horizon`` units after the cutoff, on the unit's clock
    ends = unit_day(unit_time(np.array(days), time_unit) + float(horizon), time_unit)
    label_ends = dict(zip(days, (float(end) for end in ends), strict=True))
    late = [day for day in days if label_ends[day] > last_day + 1e-9]
    if late:
        raise InvalidParameterError(
            f"{len(late)} cutoff(s) (e.g. {pd.Timestamp(int(late[0]), unit='D').date()}) plus "
            f"the horizon ({horizon:g} {time_unit}) end after the last observed day "
            f"{pd.Timestamp(int(last_day), unit='D').date()}; their labels would be truncated."
        )
    blocks = []
    for day in days:
        check_observed_by(prepared, day, "cutoffs")
        features = _features_at(prepared, day, time_unit, merge_same_day, extra)
        label_end = label_ends[day]
        if abs(label_end - round(label_end)) < 1e-9:  # a whole day, up to rounding
            label_end = float(round(label_end))
        labels = label_table(
            prepared.events,
            features[CUSTOMER_ID].to_numpy(),
            start=inclusive_end(day, merge_same_day),
            end=inclusive_end(label_end, merge_same_day)
            if float(label_end).is_integer()
            else label_end,
            merge=merge_same_day,
        )
        cutoff = pd.Series(np.full(len(features), pd.Timestamp(int(day), unit="D")), name="cutoff")
        blocks.append(pd.concat([cutoff.to_frame(), features, labels], axis=1))
    result = pd.concat(blocks, ignore_index=True)
    result.attrs["time_unit"] = time_unit
    result.attrs["horizon"] = float(horizon)
    return result
