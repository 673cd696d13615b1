"""The Spark engine runs the same definitions and gives the same tables."""

import pandas as pd
import pytest

from clv.errors import InvalidDataError
from clv.features import calibration_holdout_split, rfm_summary
from clv.features._engines import clv_error_from_spark
from tests.conftest import simulated_log

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("customer_id").reset_index(drop=True)


@pytest.mark.parametrize("source", ["cdnow", "simulated"])
def test_summary_and_split_equal_on_spark(spark, cdnow, source):
    log = (
        cdnow[["customer_id", "timestamp", "amount"]]
        if source == "cdnow"
        else simulated_log(500, seed=7)
    )
    cal, hold = ("1997-09-30", "1998-06-30") if source == "cdnow" else ("2020-08-01", "2021-01-20")
    frame = spark.createDataFrame(log)
    local = rfm_summary(log, observation_end=hold, time_unit="W")
    remote = rfm_summary(frame, observation_end=hold, time_unit="W")
    assert remote.columns == list(local.columns)
    pd.testing.assert_frame_equal(
        _sorted(remote.toPandas()), _sorted(local), check_dtype=False, check_exact=False, rtol=1e-12
    )

    local_split = calibration_holdout_split(
        log, calibration_end=cal, holdout_end=hold, time_unit="W"
    )
    remote_split = calibration_holdout_split(
        frame, calibration_end=cal, holdout_end=hold, time_unit="W"
    )
    pd.testing.assert_frame_equal(
        _sorted(remote_split.toPandas()),
        _sorted(local_split),
        check_dtype=False,
        check_exact=False,
        rtol=1e-12,
    )


def test_string_timestamps_and_mapped_names_on_spark(spark):
    log = simulated_log(50, seed=2)
    log = log.assign(timestamp=log["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).rename(
        columns={"customer_id": "cust", "timestamp": "when", "amount": "price"}
    )
    options = {"customer_id": "cust", "timestamp": "when", "amount": "price"}
    local = rfm_summary(log, observation_end="2020-12-31", **options)
    remote = rfm_summary(spark.createDataFrame(log), observation_end="2020-12-31", **options)
    pd.testing.assert_frame_equal(_sorted(remote.toPandas()), _sorted(local), check_dtype=False)


def test_bad_input_on_spark(spark):
    log = simulated_log(20, seed=1)
    with pytest.raises(InvalidDataError, match=r"lack column\(s\) 'when'"):
        rfm_summary(spark.createDataFrame(log), observation_end="2020-12-31", timestamp="when")
    with pytest.raises(InvalidDataError, match="empty"):
        empty = spark.createDataFrame(log).limit(0)
        rfm_summary(empty, observation_end="2020-12-31")
    bad = log.assign(amount=log["amount"].where(log.index != 3, -5.0))
    result = rfm_summary(spark.createDataFrame(bad), observation_end="2020-12-31")
    with pytest.raises(Exception) as failure:
        result.toPandas()
    error = clv_error_from_spark(failure.value)
    assert isinstance(error, InvalidDataError)
    assert "rows have a negative amount" in str(error)


def test_buckets_whose_customers_all_start_later_are_empty_not_errors(spark):
    # customer 1 buys before the end; customers 2..9 only after it, so at least one
    # of the session's 4 buckets holds no customer observed by the end date
    rows = [(1, "2021-01-05", 10.0), (1, "2021-01-20", 5.0)]
    rows += [(c, "2021-03-01", 1.0) for c in range(2, 10)]
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    log["timestamp"] = pd.to_datetime(log["timestamp"])
    frame = spark.createDataFrame(log)
    summary = rfm_summary(frame, observation_end="2021-02-01").toPandas()
    assert summary["customer_id"].tolist() == [1]
    split = calibration_holdout_split(
        frame, calibration_end="2021-02-01", holdout_end="2021-02-15"
    ).toPandas()
    assert split["customer_id"].tolist() == [1]
    assert split["holdout_frequency"].tolist() == [0]
