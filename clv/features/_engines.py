"""Engines that execute the feature definitions: embedded (pandas) and Apache Spark.

The embedded engine calls a definition on the whole pandas log. The Spark engine
calls the *same* Python function on hash buckets of customers with
``groupBy(bucket).applyInPandas``: every customer's rows fall in one bucket, and the
definitions compute each customer from that customer's rows alone, so both engines
give the same table. pyspark is imported only when a Spark DataFrame is passed.

On Spark, row-level validation runs inside each bucket: an invalid log fails the job
with the clv error's message (counts are then those of the first failing bucket),
and, as usual with Spark, only when the result is computed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

import pandas as pd

from clv._validation import check_number
from clv.errors import (
    CLVError,
    InvalidDataError,
)
from clv.features._options import LogOptions

_INTEGER_COLUMNS = {"frequency", "holdout_frequency"}
_BUCKET = "__clv_bucket"


def is_spark_frame(obj: object) -> bool:
    """Tell whether ``obj`` is a pyspark DataFrame, without importing pyspark."""
    return type(obj).__module__.startswith("pyspark.sql") and hasattr(obj, "groupBy")


def _spark_output_schema(
    frame: object, customer_id: str, columns: list[str], integer_columns: Collection[str] = ()
) -> object:
    from pyspark.sql import types as T

    fields = []
    for name in columns:
        if name == "customer_id":
            data_type = frame.schema[customer_id].dataType
        elif name in _INTEGER_COLUMNS or name in integer_columns:
            data_type = T.LongType()
        else:
            data_type = T.DoubleType()
        fields.append(T.StructField(name, data_type, nullable=False))
    return T.StructType(fields)


def _check_spark_columns(frame: object, options: LogOptions) -> None:
    wanted = [options.customer_id, options.timestamp]
    amount = options.amount
    if amount is not None and amount != "amount":
        wanted.append(amount)
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"Transactions lack column(s) {', '.join(repr(m) for m in missing)}; "
            f"found {list(frame.columns)}."
        )


def run_by_customer(
    frame: object,
    compute: Callable[[pd.DataFrame], pd.DataFrame],
    columns: list[str],
    *,
    n_buckets: int | None = None,
    integer_columns: Collection[str] = (),
) -> object:
    """Run a per-customer definition on a Spark DataFrame, bucket by bucket.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The transaction log.
    compute : functools.partial
        The definition with its keyword ``options`` (the log's
        :class:`~clv.features._options.LogOptions`); called on a pandas frame of one
        bucket.
    columns : list of str
        The output columns, in order.
    n_buckets : int, optional
        Number of customer buckets; default ``spark.sql.shuffle.partitions``.
    integer_columns : collection of str, optional
        Output columns the definition returns as int64 (``frequency`` and
        ``holdout_frequency`` always are); the others are doubles.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer, columns ``columns``.
    """
    from pyspark.sql import functions as F

    options = compute.keywords["options"]
    _check_spark_columns(frame, options)
    if frame.isEmpty():
        raise InvalidDataError("The transaction log is empty: there is nothing to summarise.")
    spark = frame.sparkSession
    buckets = n_buckets or int(spark.conf.get("spark.sql.shuffle.partitions"))
    check_number("n_buckets", buckets, low=1, integer=True)
    customer_id = options.customer_id
    schema = _spark_output_schema(frame, customer_id, columns, integer_columns)
    keep = [c for c in frame.columns if c != _BUCKET]

    def per_bucket(part: pd.DataFrame) -> pd.DataFrame:
        table = compute(part[keep])
        return table[columns]

    bucketed = frame.withColumn(_BUCKET, F.pmod(F.xxhash64(F.col(customer_id)), F.lit(buckets)))
    return bucketed.groupBy(_BUCKET).applyInPandas(per_bucket, schema=schema)


_CLV_ERROR = re.compile(r"clv\.errors\.(\w+): (.+)")


def clv_error_from_spark(exc: BaseException) -> CLVError | None:
    """Recover the clv error raised inside a Spark task, if that is what failed.

    Parameters
    ----------
    exc : BaseException
        An exception raised by a Spark action.

    Returns
    -------
    CLVError or None
        The clv error (same class and message), or None for other failures.
    """
    import clv.errors as errors

    match = _CLV_ERROR.search(str(exc))
    if match is None:
        return None
    cls = getattr(errors, match.group(1), None)
    if not (isinstance(cls, type) and issubclass(cls, CLVError)):
        return None
    return cls(match.group(2).strip())
