"""``clv score --engine spark``: a transaction file scored on Spark, written as one file.

:func:`score_file` has the signature of :func:`clv.serving.batch.score_file`; Spark
(the active session, else a new ``local[*]`` one) reads the file and scores it with
:func:`clv.serving.spark_scoring.score_spark` (what runs on the driver and on the
executors is said there). The scores are written by one task into a hidden temporary
folder next to the output, and its single part file is renamed over the output
(:func:`os.replace`) only when every customer is scored: a failure leaves no new
output. On a real cluster, write :func:`score_spark`'s DataFrame to a partitioned
folder instead. The input must be visible to every executor (a shared or distributed
filesystem); the output's folder must be local to the driver.

A clv error raised in an executor (:class:`~clv.errors.InvalidDataError` and
friends) is recovered from the Spark failure and raised again with its message
(counts are those of the first failing bucket of customers).
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import InvalidDataError
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP
from clv.features.io import check_file_columns, is_parquet
from clv.mlflow_model.intervals import check_interval
from clv.serving.batch import (
    DEFAULT_CHUNK_CUSTOMERS,
    Progress,
    check_score_arguments,
    combine_summaries,
)
from clv.serving.output import check_paths
from clv.serving.spark_scoring import PANDAS_WARNING, score_spark, spark_scores
from clv.serving.spark_session import spark_error, spark_session

__all__ = ["score_file", "score_spark"]  # score_spark: clv.serving.spark_scoring


def _read(spark: Any, source: Path, columns: list[str]) -> Any:
    from pyspark.errors import PySparkException
    from pyspark.sql import types as T

    try:
        if is_parquet(source):
            frame = spark.read.parquet(str(source))
        else:
            frame = spark.read.csv(str(source), header=True, inferSchema=True)
    except PySparkException as error:
        first = str(error).strip().splitlines()[0][:200] if str(error) else type(error).__name__
        raise InvalidDataError(f"Cannot read {source}: {first}") from error
    check_file_columns(frame.columns, columns)
    frame = frame.select(*columns)
    # pandas reads whole-number ids as int64 and dates as text; Spark infers int and date.
    id_type = frame.schema[columns[0]].dataType
    if isinstance(id_type, T.ByteType | T.ShortType | T.IntegerType):
        frame = frame.withColumn(columns[0], frame[columns[0]].cast("long"))
    if isinstance(frame.schema[columns[1]].dataType, T.DateType):
        frame = frame.withColumn(columns[1], frame[columns[1]].cast("string"))
    return frame


def _write(scores: Any, target: Path, temporary: Path) -> None:
    """Write one file with Spark into ``temporary`` and rename it over ``target``."""
    spark = scores.sparkSession
    single = scores.repartition(1).sortWithinPartitions(CUSTOMER_ID)
    if is_parquet(target):
        key = "spark.sql.parquet.outputTimestampType"
        previous = spark.conf.get(key, None)
        # A UTC-adjusted timestamp, as the local engine writes (Spark's default is INT96).
        spark.conf.set(key, "TIMESTAMP_MICROS")
        try:
            single.write.parquet(str(temporary))
        finally:
            if previous is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, previous)
        pattern = "part-*.parquet"
    else:
        single.write.csv(
            str(temporary), header=True, timestampFormat="yyyy-MM-dd HH:mm:ssxxx", escape='"'
        )
        pattern = "part-*.csv"
    parts = sorted(temporary.glob(pattern))
    if len(parts) != 1:
        raise InvalidDataError(f"Spark wrote {len(parts)} part files instead of one.")
    os.replace(parts[0], target)


def score_file(
    transactions_path: str | Path,
    *,
    model_uri: str,
    as_of: object,
    horizon: float,
    output: str | Path,
    discount_rate: float | None = None,
    margin: float | None = None,
    tracking_uri: str | None = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: Progress | None = None,
    interval: float | None = None,
) -> pd.DataFrame:
    """Score every customer of a transaction file on Spark and write the scores atomically.

    The signature of :func:`clv.serving.batch.score_file`; the file is read and
    scored by Spark (the active session, else a new ``local[*]`` one).

    Parameters
    ----------
    transactions_path : str or pathlib.Path
        ``.csv`` (header, types inferred) or ``.parquet`` transaction log.
    model_uri, as_of, horizon, discount_rate, margin, tracking_uri, interval
        As in :func:`score_spark`.
    output : str or pathlib.Path
        ``.parquet`` / ``.pq`` or ``.csv`` file (format by extension), sorted by
        customer id.
    customer_id, timestamp, amount : str
        The file's column names.
    chunk_customers : int, default 500_000
        Checked, otherwise unused: Spark partitions the work itself.
    progress : callable, optional
        ``progress("scoring", done, total)``, called when the scores are computed.

    Returns
    -------
    pandas.DataFrame
        The per-segment summary (``count``, ``total_clv``, ``mean_clv``), with
        ``attrs`` ``n_customers``, ``model_version``, ``model_uri``, ``output``,
        ``scored_at`` and ``data_report`` (rows read, $0 rows), as the local engine returns.

    Raises
    ------
    FileNotFoundError
        If the transaction file or the output's folder does not exist.
    clv.errors.InvalidDataError
        If the file cannot be read or breaks the transaction contract.
    clv.errors.InvalidParameterError
        For a bad date, horizon, discount rate, chunk size or output extension.
    clv.errors.ModelLoadError
        If the model cannot be found or is not a clv model.
    """
    source, target = check_paths(transactions_path, output)
    columns = [customer_id, timestamp, amount]
    check_score_arguments(horizon, discount_rate, chunk_customers, as_of, columns)
    check_interval(interval)

    scoring = {
        "model_uri": model_uri,
        "as_of": as_of,
        "horizon": horizon,
        "discount_rate": discount_rate,
        "tracking_uri": tracking_uri,
        "customer_id": customer_id,
        "timestamp": timestamp,
        "amount": amount,
        "margin": margin,
        "interval": interval,
    }
    with warnings.catch_warnings():
        # tests/spark prove the paths used here work with pandas 3. Scoped to this call.
        warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
        try:
            return _score_file(source, target, scoring, progress)
        except Exception as error:
            translated = spark_error(error)
            if translated is None:
                raise
            raise translated from error


def _score_file(
    source: Path, target: Path, scoring: dict[str, Any], progress: Progress | None
) -> pd.DataFrame:
    from pyspark.sql import functions as F

    amount = scoring["amount"]
    frame = _read(spark_session(), source, [scoring["customer_id"], scoring["timestamp"], amount])
    scores, resolved, scored_at, rules = spark_scores(frame, **scoring)
    temporary = target.resolve().parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    scores = scores.persist()
    try:
        try:
            # Computes every score in parallel (and caches them) before the one-file write.
            rows_by_segment = (
                scores.groupBy("segment")
                .agg(
                    F.count(F.lit(1)).alias("count"),
                    F.sum("clv").alias("total_clv"),
                    F.max("margin").alias("margin"),
                )
                .collect()
            )
            grouped = pd.DataFrame(
                [
                    (row["segment"], row["count"], row["total_clv"], row["margin"])
                    for row in rows_by_segment
                ],
                columns=["segment", "count", "total_clv", "margin"],
            )
            rows = int(grouped["count"].sum()) if len(grouped) else 0
            if rows == 0:
                raise InvalidDataError(
                    f"No customer has a transaction on or before as_of ({scoring['as_of']}): "
                    "nothing to write."
                )
            if progress is not None:
                progress("scoring", rows, rows)
            _write(scores, target, temporary)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    finally:
        scores.unpersist()
    summary = grouped.set_index("segment")[["count", "total_clv"]]
    summary["count"] = summary["count"].astype("int64")
    summary["total_clv"] = summary["total_clv"].astype("float64")
    result = combine_summaries([summary], rows, resolved, target, scored_at)
    result.attrs["margin"] = float(grouped["margin"].max())
    result.attrs["segment_rules"] = rules
    result.attrs["data_report"] = _data_report(frame, amount)
    return result


def _data_report(frame: Any, amount: str) -> Any:
    """Count the rows read and the $0 rows kept, as the local engine reports them."""
    from pyspark.sql import functions as F

    from clv.features._policies import PolicyReport

    counts = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col(amount) == 0, 1).otherwise(0)).alias("zero"),
    ).first()
    return PolicyReport(rows=int(counts["rows"]), zero_amount_rows=int(counts["zero"] or 0))
