"""Spark scoring of a Spark transaction log: the features and the pinned model on executors.

:func:`score_spark` returns a Spark DataFrame of scores (the columns of the local
engine). The driver resolves the model URI to one registry version and reads its
metadata; the executors build each customer's features with
:func:`clv.features.behaviour.customer_features` on hash buckets of customers and
score them with :func:`mlflow.pyfunc.spark_udf` over the pinned version. Writing a
file is :mod:`clv.serving.spark`'s job.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from clv.errors import InvalidDataError
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP, to_day_number
from clv.mlflow_model.intervals import check_interval, check_model_interval, output_columns
from clv.serving.batch import OUTPUT_COLUMNS
from clv.training.preflight import check_discount_rate, check_positive

__all__ = ["PANDAS_WARNING", "SparkScores", "score_spark", "spark_scores"]

#: pyspark 4 warns on every pandas conversion that it does not fully support pandas 3.
PANDAS_WARNING = "PySpark does not yet fully support pandas"
_SCORES = "__clv_scores"


class SparkScores(NamedTuple):
    """What :func:`spark_scores` returns: the lazy scores and what they were scored with."""

    scores: Any
    resolved: Any
    scored_at: pd.Timestamp
    segment_rules: dict[str, Any]


def _model_metadata(resolved: Any, interval: float | None = None) -> dict[str, Any]:
    """Read the pinned model's clv metadata on the driver (and check it gives ``interval``)."""
    from clv.mlflow_model.scoring import clv_metadata
    from clv.serving._models import download_model, load_pyfunc

    with tempfile.TemporaryDirectory(prefix="clv-model-") as folder:
        model = load_pyfunc(download_model(resolved, Path(folder) / "model"))
        if interval is not None:
            check_model_interval(model, interval)
        metadata = dict(clv_metadata(model))
        metadata["segment_rules"] = model.unwrap_python_model().segments.to_dict()
        return metadata


def spark_scores(
    transactions: Any,
    *,
    model_uri: str,
    as_of: object,
    horizon: float,
    discount_rate: float | None,
    tracking_uri: str | None,
    customer_id: str,
    timestamp: str,
    amount: str,
    margin: float | None,
    interval: float | None,
) -> SparkScores:
    """:func:`score_spark` with the pinned model, the scoring time and the segment rules."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from clv.features._engines import is_spark_frame
    from clv.features.behaviour import customer_features
    from clv.mlflow_model.margin import check_margin, scoring_margin
    from clv.mlflow_model.scoring import model_feature_columns, model_params
    from clv.mlflow_model.signature import PREDICTION_COLUMNS
    from clv.serving._models import download_model, resolve_model

    if not is_spark_frame(transactions):
        raise InvalidDataError(
            "score_spark needs a pyspark DataFrame; got "
            f"{type(transactions).__name__} (use clv.serving.batch for pandas)."
        )
    horizon = check_positive("horizon", horizon)
    check_discount_rate(discount_rate)
    if margin is not None:
        check_margin(margin)
    to_day_number(as_of, "as_of")
    level = check_interval(interval)
    resolved = resolve_model(model_uri, tracking_uri)
    metadata = _model_metadata(resolved, level)
    margin = scoring_margin(metadata, margin)
    # Models logged before margins answer without a margin column (revenue).
    margin_output = ["margin"] if "margin" in metadata else []
    features = customer_features(
        transactions,
        as_of=as_of,
        time_unit=metadata["time_unit"],
        customer_id=customer_id,
        timestamp=timestamp,
        amount=amount,
    )
    columns = model_feature_columns(metadata, list(features.columns))
    categorical = set(metadata.get("categorical_columns", ()))
    inputs = []
    for name in columns:
        column = F.col(name)
        if name == CUSTOMER_ID:
            inputs.append(column)
        elif name in categorical:
            inputs.append(column.cast("string").alias(name))
        else:  # every clv signature takes a double for a number (any, for the counts)
            inputs.append(column.cast("double").alias(name))
    id_type = features.schema[CUSTOMER_ID].dataType
    numbers = output_columns([*PREDICTION_COLUMNS, *margin_output], level is not None)
    result_type = T.StructType(
        [T.StructField(CUSTOMER_ID, id_type)]
        + [T.StructField(name, T.DoubleType()) for name in numbers]
        + [T.StructField("segment", T.StringType()), T.StructField("action", T.StringType())]
    )
    params = model_params(metadata, horizon, discount_rate, margin, level)
    spark = transactions.sparkSession
    with tempfile.TemporaryDirectory(prefix="clv-model-") as folder:
        # From the named store, digest checked; spark_udf copies it before it is removed.
        udf = mlflow.pyfunc.spark_udf(
            spark,
            model_uri=str(download_model(resolved, Path(folder) / "model")),
            env_manager="local",
            result_type=result_type,
            params=params,
        )
    scored_at = pd.Timestamp(datetime.now(timezone.utc)).floor("s")
    scores = (
        # One struct argument: spark_udf keeps its field names. Columns passed one by one
        # are matched to the signature by position, and the optional columns not passed
        # reach the model as NaN (which a declared ``long`` refuses).
        features.select(udf(F.struct(*inputs)).alias(_SCORES))
        .select(f"{_SCORES}.*")
        .withColumn("margin", F.col("margin") if margin_output else F.lit(margin))
        .withColumn("model_version", F.lit(resolved.label))
        .withColumn("scored_at", F.lit(scored_at.to_pydatetime()).cast("timestamp"))
        .select(*output_columns(OUTPUT_COLUMNS, level is not None))
    )
    return SparkScores(scores, resolved, scored_at, metadata["segment_rules"])


def score_spark(
    transactions: Any,
    *,
    model_uri: str,
    as_of: object,
    horizon: float,
    discount_rate: float | None = None,
    tracking_uri: str | None = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    margin: float | None = None,
    interval: float | None = None,
) -> Any:
    """Score every customer of a Spark transaction log with a registered clv model.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        The log, with the caller's column names.
    model_uri : str
        ``models:/NAME@champion`` or any MLflow model URI of a clv model; an alias
        is pinned to the version it points at now.
    as_of : date-like
        Features are built from transactions up to this day (inclusive).
    horizon : float
        Prediction horizon, in the model's time unit.
    discount_rate : float, optional
        Annual discount rate; the model's default if omitted.
    tracking_uri : str, optional
        MLflow store; ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` by default.
    customer_id, timestamp, amount : str
        The log's column names.
    margin : float, optional
        Share of spend that is profit, in [0, 1]; the model's default if omitted.
    interval : float, optional
        A level in (0, 1): add the prediction interval columns after ``clv``
        (:mod:`clv.mlflow_model.intervals`; the BTYD kinds only).

    Returns
    -------
    pyspark.sql.DataFrame
        :data:`clv.serving.batch.OUTPUT_COLUMNS`, one row per customer with a
        transaction on or before ``as_of``, in no particular order. Lazy, as Spark
        is: invalid data fails the action that computes it (recover the clv error
        with :func:`clv.features._engines.clv_error_from_spark`).

    Raises
    ------
    clv.errors.InvalidParameterError
        For a bad date, horizon or discount rate.
    clv.errors.ModelLoadError
        If the model cannot be found or is not a clv model.

    Examples
    --------
    >>> scores = score_spark(  # doctest: +SKIP
    ...     spark.read.parquet("s3://bucket/transactions/"),
    ...     model_uri="models:/clv@champion",
    ...     as_of="2024-06-30",
    ...     horizon=52,
    ... )
    >>> scores.write.mode("overwrite").parquet("s3://bucket/scores/2024-06-30/")  # doctest: +SKIP
    """
    return spark_scores(
        transactions,
        model_uri=model_uri,
        as_of=as_of,
        horizon=horizon,
        discount_rate=discount_rate,
        tracking_uri=tracking_uri,
        customer_id=customer_id,
        timestamp=timestamp,
        amount=amount,
        margin=margin,
        interval=interval,
    ).scores
