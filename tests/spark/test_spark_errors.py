"""A Spark failure becomes one clv error with one readable line (clv.serving.spark_session)."""

from __future__ import annotations

import pandas as pd
import pytest

from clv.errors import InvalidDataError, SparkError
from clv.serving.spark_session import spark_error

pytestmark = [pytest.mark.spark]


def _boom(batches):
    for batch in batches:
        if len(batch):
            raise RuntimeError("boom in a worker")
        yield batch


def test_a_python_worker_error_is_its_last_line(spark):
    frame = spark.range(4).mapInPandas(_boom, schema="id long")
    with pytest.raises(Exception) as failure:
        frame.collect()
    error = spark_error(failure.value)
    assert isinstance(error, SparkError)
    assert str(error).startswith("Spark failed: RuntimeError: boom in a worker")
    assert "\n" not in str(error)


def test_a_jvm_error_is_one_line(spark, tmp_path):
    with pytest.raises(Exception) as failure:
        spark.read.parquet(str(tmp_path / "missing")).collect()
    error = spark_error(failure.value)
    assert isinstance(error, SparkError)
    assert "\n" not in str(error)
    assert "missing" in str(error) and len(str(error)) <= 300


def test_a_clv_error_in_a_task_stays_itself_and_others_pass_through(spark):
    from clv.features import rfm_summary

    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2021-01-01", "2021-01-05", "2021-01-02"]),
            "amount": [5.0, -1.0, 3.0],
        }
    )
    table = rfm_summary(spark.createDataFrame(log), observation_end="2021-02-01")
    with pytest.raises(Exception) as failure:
        table.collect()
    error = spark_error(failure.value)
    assert type(error) is InvalidDataError
    assert "negative amount" in str(error)
    assert spark_error(KeyError("not spark")) is None
