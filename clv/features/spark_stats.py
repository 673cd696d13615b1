"""Fitting on Spark data: what leaves the cluster for the driver.

The probabilistic models need only each customer's sufficient statistics
((``frequency``, ``recency``, ``T``); (``frequency``, ``monetary_value``) for
Gamma-Gamma), and identical rows count as one row with a weight.
:func:`collapsed_customer_table` aggregates a Spark customer table to those distinct
rows with a ``count`` on the cluster; the driver fits on that small pandas table with
``sample_weight=count`` (README, "Spark"). The rows come back in the order the
embedded engine meets them (by smallest customer id), so the parameters are
bit-for-bit those of fitting the whole table. The boosted models train on the driver
from a sample of whole customers (:func:`sample_customers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from clv._validation import check_number, check_time_unit
from clv.errors import InvalidDataError, InvalidParameterError
from clv.features._contract import CUSTOMER_ID
from clv.features._engines import is_spark_frame

__all__ = ["collapsed_customer_table", "sample_customers"]

_FIRST = "__clv_first_customer"


def collapsed_customer_table(
    table: Any,
    columns: Sequence[str] = ("frequency", "recency", "T"),
    *,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Aggregate a Spark customer table to its distinct rows and their counts.

    Parameters
    ----------
    table : pyspark.sql.DataFrame
        A customer table, e.g. :func:`clv.features.rfm_summary` or
        :func:`clv.features.customer_features` of a Spark log.
    columns : sequence of str, default ("frequency", "recency", "T")
        The sufficient statistics to keep; add ``"monetary_value"`` or use
        ``("frequency", "monetary_value")`` (customers with ``frequency > 0``) for
        Gamma-Gamma.
    time_unit : {"D", "W", "M"}, optional
        The table's time unit, stored in ``attrs["time_unit"]`` for the models
        (a Spark DataFrame cannot carry it).

    Returns
    -------
    pandas.DataFrame
        ``columns`` then ``count`` (int64, customers with that row), one row per
        distinct combination, ordered by the smallest customer id having it.

    Raises
    ------
    clv.errors.InvalidDataError
        If ``table`` is not a Spark DataFrame or lacks a column.
    """
    from pyspark.sql import functions as F

    if not is_spark_frame(table):
        raise InvalidDataError(
            f"collapsed_customer_table needs a pyspark DataFrame; got {type(table).__name__} "
            "(a pandas table is collapsed by the models' fit itself)."
        )
    names = list(columns)
    if not names or isinstance(columns, str):
        raise InvalidParameterError(
            f"The 'columns' parameter must be a non-empty sequence of column names. "
            f"Got {columns!r}."
        )
    missing = [name for name in [CUSTOMER_ID, *names] if name not in table.columns]
    if missing:
        raise InvalidDataError(
            f"The customer table lacks column(s) {', '.join(map(repr, missing))}; found "
            f"{list(table.columns)}."
        )
    if time_unit is not None:
        check_time_unit(time_unit, "DWM")
    collapsed = (
        table.groupBy(*names)
        .agg(F.count(F.lit(1)).alias("count"), F.min(CUSTOMER_ID).alias(_FIRST))
        .toPandas()
    )
    result = collapsed.sort_values(_FIRST, kind="stable").drop(columns=_FIRST)
    result = result.reset_index(drop=True)
    result["count"] = result["count"].astype("int64")
    if time_unit is not None:
        result.attrs["time_unit"] = time_unit
    return result


def sample_customers(
    transactions: Any,
    *,
    fraction: float,
    seed: int = 0,
    customer_id: str = CUSTOMER_ID,
) -> Any:
    """Keep a random share of the customers of a Spark log, with their whole histories.

    The draw hashes the customer id with the seed, so it is the same on every run
    and every cluster, and a customer is kept or dropped with all their rows (a
    row sample would cut histories and bias frequency and recency).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        The transaction log.
    fraction : float
        Expected share of customers kept, in (0, 1].
    seed : int, default 0
        Seed of the hash.
    customer_id : str
        The log's customer id column.

    Returns
    -------
    pyspark.sql.DataFrame
        The rows of the sampled customers; ``.toPandas()`` it to train on the driver.
    """
    from pyspark.sql import functions as F

    if not is_spark_frame(transactions):
        raise InvalidDataError(
            f"sample_customers needs a pyspark DataFrame; got {type(transactions).__name__}."
        )
    check_number("fraction", fraction, low_open=True, high=1.0)
    if customer_id not in transactions.columns:
        raise InvalidDataError(
            f"Transactions lack column(s) {customer_id!r}; found {list(transactions.columns)}."
        )
    scale = 1 << 30
    draw = F.pmod(F.xxhash64(F.col(customer_id), F.lit(int(seed))), F.lit(scale))
    return transactions.where(draw < F.lit(int(round(fraction * scale))))
