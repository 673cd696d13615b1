"""Prediction intervals on Spark equal the local engine's (`score_spark(interval=)`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow
from clv.mlflow_model.intervals import INTERVAL_COLUMNS, output_columns
from clv.serving import batch
from clv.serving.batch import OUTPUT_COLUMNS
from clv.serving.spark import score_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mlflow]


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def test_score_spark_intervals_equal_the_local_engine(spark, store, tmp_path):
    options = {
        "model_uri": store["model"],
        "as_of": "1997-09-30",
        "horizon": 39,
        "tracking_uri": store["uri"],
        "interval": 0.9,
    }
    output = tmp_path / "local.parquet"
    batch.score_file(store["folder"] / "cdnow.parquet", output=output, **options)
    local = pd.read_parquet(output)
    log = load_cdnow()[["customer_id", "timestamp", "amount"]]
    scores = score_spark(spark.createDataFrame(log), **options)
    assert scores.columns == output_columns(OUTPUT_COLUMNS, True)
    remote = scores.toPandas().sort_values("customer_id").reset_index(drop=True)
    assert list(local.columns) == scores.columns
    assert remote["customer_id"].tolist() == local["customer_id"].tolist()
    numbers = [*INTERVAL_COLUMNS, "interval", "clv", "expected_purchases"]
    np.testing.assert_allclose(remote[numbers], local[numbers], rtol=1e-9, atol=1e-12)
    assert (remote["clv_lower"] <= remote["clv"]).all()
    assert (remote["clv"] <= remote["clv_upper"]).all()
