"""Fitting on Spark data: collapsed sufficient statistics, the driver-side fit."""

import numpy as np
import pandas as pd
import pytest

from clv.features import rfm_summary
from clv.features.spark_stats import collapsed_customer_table, sample_customers
from clv.models import BetaGeoModel, GammaGammaModel

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.mark.parametrize("unit", ["W", "M"])
def test_bg_nbd_from_collapsed_stats_equals_local_fit(spark, cdnow, unit):
    log = cdnow[["customer_id", "timestamp", "amount"]]
    local_table = rfm_summary(log, observation_end="1997-09-30", time_unit=unit)
    remote_table = rfm_summary(
        spark.createDataFrame(log), observation_end="1997-09-30", time_unit=unit
    )
    stats = collapsed_customer_table(remote_table, time_unit=unit)
    assert list(stats.columns) == ["frequency", "recency", "T", "count"]
    assert stats.attrs["time_unit"] == unit
    assert int(stats["count"].sum()) == len(local_table)
    assert len(stats) < len(local_table) / 2  # the point: fewer rows than customers

    local = BetaGeoModel().fit(local_table)
    remote = BetaGeoModel().fit(stats, sample_weight=stats["count"])
    pd.testing.assert_series_equal(remote.params_, local.params_, check_exact=True)
    assert remote.log_likelihood_ == local.log_likelihood_
    assert remote.n_customers_ == local.n_customers_


def test_gamma_gamma_from_collapsed_stats(spark, cdnow):
    log = cdnow[["customer_id", "timestamp", "amount"]]
    local_table = rfm_summary(log, observation_end="1997-09-30", time_unit="W")
    remote_table = rfm_summary(
        spark.createDataFrame(log), observation_end="1997-09-30", time_unit="W"
    )
    repeat = remote_table.where("frequency > 0")
    stats = collapsed_customer_table(repeat, ("frequency", "monetary_value"), time_unit="W")
    local = GammaGammaModel().fit(local_table[local_table["frequency"] > 0])
    remote = GammaGammaModel().fit(stats, sample_weight=stats["count"])
    # Merged duplicate spends change the order of the likelihood's sum: equal to the
    # optimiser's tolerance, not bit for bit.
    np.testing.assert_allclose(remote.params_.to_numpy(), local.params_.to_numpy(), rtol=1e-6)


def test_sample_customers_keeps_whole_histories(spark, cdnow):
    log = cdnow[["customer_id", "timestamp", "amount"]]
    frame = spark.createDataFrame(log)
    sample = sample_customers(frame, fraction=0.2, seed=5).toPandas()
    again = sample_customers(frame, fraction=0.2, seed=5).toPandas()
    kept = set(sample["customer_id"])
    assert kept == set(again["customer_id"])
    assert 0.15 < len(kept) / log["customer_id"].nunique() < 0.25
    whole = log[log["customer_id"].isin(kept)]
    assert len(sample) == len(whole)
