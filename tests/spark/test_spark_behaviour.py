"""customer_features on Spark: the same definition, the same table."""

import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError
from clv.features import customer_features
from clv.features.behaviour import FEATURE_COLUMNS
from tests.conftest import simulated_log

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("customer_id").reset_index(drop=True)


@pytest.mark.parametrize(
    ("source", "as_of", "time_unit", "merge_same_day"),
    [
        ("cdnow", "1997-09-30", "W", True),
        ("cdnow", "1998-06-30", "D", True),
        ("simulated", "2020-11-15", "W", True),
        ("simulated", "2020-11-15", "D", False),
        ("cdnow", "1997-09-30", "M", True),  # calendar months
        ("simulated", "2020-11-15", "M", False),
    ],
)
def test_customer_features_equal_on_spark(spark, cdnow, source, as_of, time_unit, merge_same_day):
    log = (
        cdnow[["customer_id", "timestamp", "amount"]]
        if source == "cdnow"
        else simulated_log(400, seed=11)
    )
    options = {"as_of": as_of, "time_unit": time_unit, "merge_same_day": merge_same_day}
    local = customer_features(log, **options)
    remote = customer_features(spark.createDataFrame(log), **options)
    assert remote.columns == list(FEATURE_COLUMNS) == list(local.columns)
    # Same values and the same dtypes (int64 counts, float64 the rest), bit for bit.
    pd.testing.assert_frame_equal(_sorted(remote.toPandas()), _sorted(local), check_exact=True)
    if time_unit == "W":  # the RFM block alone, as batch scoring builds it per bucket
        rfm = customer_features(spark.createDataFrame(log), **options, rfm_only=True)
        assert rfm.columns == list(local.columns[:5])
        pd.testing.assert_frame_equal(
            _sorted(rfm.toPandas()), _sorted(local.iloc[:, :5]), check_exact=True
        )


def test_customer_features_on_spark_mapped_names_and_attributes(spark):
    log = simulated_log(60, seed=3).rename(
        columns={"customer_id": "cust", "timestamp": "when", "amount": "price"}
    )
    options = {"as_of": "2020-10-01", "customer_id": "cust", "timestamp": "when", "amount": "price"}
    ids = sorted(log["cust"].unique())[:40]
    attributes = pd.DataFrame({"cust": ids, "region": ["north", "south"] * 20})
    local = customer_features(log, attributes=attributes, **options)
    remote = customer_features(
        spark.createDataFrame(log), attributes=spark.createDataFrame(attributes), **options
    ).toPandas()
    assert list(remote.columns) == list(local.columns)
    remote = _sorted(remote)
    pd.testing.assert_frame_equal(
        remote[list(FEATURE_COLUMNS)], _sorted(local)[list(FEATURE_COLUMNS)], check_exact=True
    )
    expected = _sorted(local)["region"].astype(object).where(lambda s: s.notna(), None)
    assert remote["region"].astype(object).where(remote["region"].notna(), None).tolist() == (
        expected.tolist()
    )


def test_customer_features_bad_input_on_spark(spark):
    frame = spark.createDataFrame(simulated_log(20, seed=1))
    with pytest.raises(InvalidDataError, match="lack column"):
        customer_features(frame.drop("amount"), as_of="2020-12-31")
    with pytest.raises(InvalidParameterError, match="time_unit"):
        customer_features(frame, as_of="2020-12-31", time_unit="Q")
    with pytest.raises(InvalidDataError, match="must be a Spark DataFrame"):
        customer_features(frame, as_of="2020-12-31", attributes=pd.DataFrame({"customer_id": []}))


def test_customer_features_on_spark_buckets_of_later_customers(spark):
    # Only c0 buys by as_of; the buckets holding only later customers give no row.
    log = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(8)] + ["c0"],
            "timestamp": pd.to_datetime(["2020-01-01"] + ["2020-03-01"] * 7 + ["2020-01-05"]),
            "amount": [10.0] * 9,
        }
    )
    local = customer_features(log, as_of="2020-02-01")
    remote = customer_features(spark.createDataFrame(log), as_of="2020-02-01").toPandas()
    pd.testing.assert_frame_equal(_sorted(remote), _sorted(local), check_exact=True)
    none = customer_features(spark.createDataFrame(log.iloc[1:8]), as_of="2020-02-01")
    assert none.count() == 0
