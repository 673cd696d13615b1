import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv.errors import CLVError, DataQualityWarning, InvalidDataError, InvalidParameterError
from clv.features import calibration_holdout_split, rfm_summary
from tests.conftest import simulated_log

# A tiny log: customer 1 buys twice on 1 Jan (one purchase, 15 in all), then on 4 Jan
# and 8 Jan; customer 2 once on 3 Jan; customer 3 first on 9 Jan (after the end).
TINY = [
    (1, "2024-01-01 09:00", 10.0),
    (1, "2024-01-01 18:30", 5.0),
    (1, "2024-01-04 12:00", 20.0),
    (1, "2024-01-08 08:00", 40.0),
    (2, "2024-01-03 10:00", 7.5),
    (3, "2024-01-09 10:00", 99.0),
]


def tiny_log(kind: str) -> pd.DataFrame:
    ids, stamps, amounts = zip(*TINY, strict=True)
    if kind == "string":
        times = list(stamps)
    elif kind == "datetime":
        times = [dt.datetime.fromisoformat(s) for s in stamps]
    elif kind == "timestamp":
        times = pd.to_datetime(list(stamps))
    elif kind == "tz-aware":
        times = pd.to_datetime(list(stamps)).tz_localize("Europe/Paris")
    else:
        raise AssertionError(kind)
    return pd.DataFrame({"customer_id": ids, "timestamp": times, "amount": amounts})


@pytest.mark.parametrize("kind", ["string", "datetime", "timestamp", "tz-aware"])
def test_tiny_log_exact_table_in_days(kind):
    table = rfm_summary(tiny_log(kind), observation_end="2024-01-08")
    expected = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "frequency": [2, 0],
            "recency": [7.0, 0.0],
            "T": [7.0, 5.0],
            "monetary_value": [30.0, 0.0],
        }
    )
    pd.testing.assert_frame_equal(table, expected)
    assert table.attrs["time_unit"] == "D"


def test_tiny_log_in_weeks_and_end_mid_log():
    table = rfm_summary(tiny_log("string"), observation_end="2024-01-05", time_unit="W")
    assert table["customer_id"].tolist() == [1, 2]
    assert table["frequency"].tolist() == [1, 0]
    np.testing.assert_allclose(table["recency"], [3 / 7, 0.0])
    np.testing.assert_allclose(table["T"], [4 / 7, 2 / 7])
    np.testing.assert_allclose(table["monetary_value"], [20.0, 0.0])
    assert table.attrs["time_unit"] == "W"


def test_without_same_day_merge_every_row_is_a_purchase():
    table = rfm_summary(tiny_log("string"), observation_end="2024-01-08", merge_same_day=False)
    row = table.iloc[0]
    assert row["frequency"] == 3
    assert row["recency"] == pytest.approx(
        (pd.Timestamp("2024-01-08 08:00") - pd.Timestamp("2024-01-01 09:00")) / pd.Timedelta(days=1)
    )
    assert row["monetary_value"] == pytest.approx((5 + 20 + 40) / 3)


def test_without_same_day_merge_identical_timestamps_stay_separate_purchases():
    # two lines at the very same instant are two purchases; with the merge, one
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 09:00", "2024-01-05 09:00", "2024-01-02 10:00"]
            ),
            "amount": [10.0, 6.0, 20.0, 5.0],
        }
    )
    kept = rfm_summary(log, observation_end="2024-01-08", merge_same_day=False)
    assert kept["frequency"].tolist() == [2, 0]
    assert kept["monetary_value"].tolist() == [13.0, 0.0]  # (6 + 20) / 2
    assert kept["recency"].tolist() == [4.0, 0.0]
    merged = rfm_summary(log, observation_end="2024-01-08")
    assert merged["frequency"].tolist() == [1, 0]
    assert merged["monetary_value"].tolist() == [20.0, 0.0]
    split = calibration_holdout_split(
        log, calibration_end="2024-01-01", holdout_end="2024-01-08", merge_same_day=False
    )
    assert split["frequency"].tolist() == [1]
    assert split["holdout_frequency"].tolist() == [1]


def test_tiny_calibration_holdout_exact():
    table = calibration_holdout_split(
        tiny_log("string"), calibration_end="2024-01-03", holdout_end="2024-01-10"
    )
    expected = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "frequency": [0, 0],
            "recency": [0.0, 0.0],
            "T": [2.0, 0.0],
            "monetary_value": [0.0, 0.0],
            "holdout_frequency": [2, 0],
            "holdout_monetary_value": [30.0, 0.0],
            "holdout_duration": [7.0, 7.0],
        }
    )
    pd.testing.assert_frame_equal(table, expected)


def test_without_amount_column():
    log = tiny_log("string").drop(columns="amount")
    table = rfm_summary(log, observation_end="2024-01-08")
    assert list(table.columns) == ["customer_id", "frequency", "recency", "T"]
    split = calibration_holdout_split(log, calibration_end="2024-01-03", holdout_end="2024-01-10")
    assert "holdout_monetary_value" not in split.columns
    assert split["holdout_frequency"].tolist() == [2, 0]


def test_column_mapping_and_no_mutation():
    log = tiny_log("string").rename(
        columns={"customer_id": "cust", "timestamp": "when", "amount": "price"}
    )
    before = log.copy()
    table = rfm_summary(
        log, observation_end="2024-01-08", customer_id="cust", timestamp="when", amount="price"
    )
    assert table["frequency"].tolist() == [2, 0]
    pd.testing.assert_frame_equal(log, before)


def test_cdnow_reference_facts(cdnow):
    table = rfm_summary(cdnow, observation_end="1997-09-30", time_unit="W")
    assert len(table) == 2357
    assert table["frequency"].sum() == 2457
    assert (table["frequency"] == 0).sum() == 1411
    assert (table["frequency"] > 0).sum() == 946
    assert table["frequency"].max() == 29
    assert table["T"].min() == pytest.approx(27.0)
    assert table["T"].max() == pytest.approx(38.86, abs=0.005)
    split = calibration_holdout_split(
        cdnow, calibration_end="1997-09-30", holdout_end="1998-06-30", time_unit="W"
    )
    assert split["holdout_frequency"].sum() == 1882
    assert split["holdout_duration"].iloc[0] == pytest.approx(39.0)


def test_full_cdnow_size():
    from clv.datasets import load_cdnow

    full = load_cdnow(full=True)
    assert len(full) == 69659
    assert full["customer_id"].nunique() == 23570


# --- agreement with lifetimes (the oracle) ---------------------------------------


def _end_of_day(day):
    # clv reads a boundary date as the whole day; lifetimes compares raw timestamps
    # with midnight, so it gets the last instant of the day.
    return pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def _lifetimes_summary(log, end, weeks):
    from lifetimes.utils import summary_data_from_transaction_data

    return summary_data_from_transaction_data(
        log,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end=_end_of_day(end),
        freq="D",
        freq_multiplier=7 if weeks else 1,
    )


def _lifetimes_split(log, cal, hold, weeks):
    from lifetimes.utils import calibration_and_holdout_data

    return calibration_and_holdout_data(
        log,
        "customer_id",
        "timestamp",
        calibration_period_end=_end_of_day(cal),
        observation_period_end=_end_of_day(hold),
        freq="D",
        freq_multiplier=7 if weeks else 1,
        monetary_value_col="amount",
    )


@pytest.mark.parametrize("weeks", [False, True])
@pytest.mark.parametrize("source", ["cdnow", "simulated"])
def test_summary_agrees_with_lifetimes(cdnow, source, weeks):
    log = cdnow if source == "cdnow" else simulated_log()
    end = "1997-09-30" if source == "cdnow" else "2020-10-15"
    ours = rfm_summary(log, observation_end=end, time_unit="W" if weeks else "D")
    theirs = _lifetimes_summary(log, end, weeks).sort_index()
    np.testing.assert_array_equal(ours["customer_id"], theirs.index)
    for column in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-12, err_msg=column)


@pytest.mark.parametrize("source", ["cdnow", "simulated"])
def test_split_agrees_with_lifetimes(cdnow, source):
    log = cdnow if source == "cdnow" else simulated_log(seed=3)
    cal, hold = ("1997-09-30", "1998-06-30") if source == "cdnow" else ("2020-08-01", "2021-01-20")
    ours = calibration_holdout_split(log, calibration_end=cal, holdout_end=hold, time_unit="W")
    theirs = _lifetimes_split(log, cal, hold, weeks=True).sort_index()
    np.testing.assert_array_equal(ours["customer_id"], theirs.index)
    pairs = {
        "frequency": "frequency_cal",
        "recency": "recency_cal",
        "T": "T_cal",
        "monetary_value": "monetary_value_cal",
        "holdout_frequency": "frequency_holdout",
        "holdout_duration": "duration_holdout",
    }
    for ours_name, their_name in pairs.items():
        np.testing.assert_allclose(
            ours[ours_name], theirs[their_name], rtol=1e-12, err_msg=ours_name
        )
    # lifetimes averages holdout spend per row, not per purchase (its calibration spend
    # is per purchase): compare totals, which both must preserve.
    lifetimes_total = theirs["monetary_value_holdout"] * _holdout_rows(log, cal, hold, theirs.index)
    np.testing.assert_allclose(
        ours["holdout_monetary_value"] * ours["holdout_frequency"],
        lifetimes_total,
        rtol=1e-9,
        atol=1e-9,
    )


def _holdout_rows(log, cal, hold, customers):
    day = pd.to_datetime(log["timestamp"]).dt.normalize()
    inside = (day > pd.Timestamp(cal)) & (day <= pd.Timestamp(hold))
    return log.loc[inside].groupby("customer_id").size().reindex(customers, fill_value=0).to_numpy()


# --- properties on random logs ----------------------------------------------------

events = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, 60),
        st.integers(0, 86_399),
        st.floats(0, 1000, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(events, st.sampled_from(["D", "W"]))
def test_properties_on_random_logs(rows, unit):
    ids, days, seconds, amounts = zip(*rows, strict=True)
    stamps = (
        pd.Timestamp("2021-03-01")
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(seconds, unit="s")
    )
    log = pd.DataFrame({"customer_id": ids, "timestamp": stamps, "amount": amounts})
    table = rfm_summary(log, observation_end="2021-04-30", time_unit=unit).set_index("customer_id")
    assert (table["recency"] >= 0).all()
    assert (table["recency"] <= table["T"] + 1e-12).all()
    distinct_days = (
        log.assign(day=log["timestamp"].dt.normalize()).groupby("customer_id")["day"].nunique()
    )
    assert (table["frequency"] == distinct_days.reindex(table.index) - 1).all()
    assert ((table["frequency"] > 0) | (table["monetary_value"] == 0)).all()
    assert (table["monetary_value"] >= 0).all()
    # total spend is the first purchase plus the repeat purchases
    first_day = log["timestamp"].dt.normalize().groupby(log["customer_id"]).transform("min")
    first_spend = (
        log.loc[log["timestamp"].dt.normalize() == first_day].groupby("customer_id")["amount"].sum()
    )
    total = log.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(
        (table["monetary_value"] * table["frequency"] + first_spend).to_numpy(),
        total.reindex(table.index).to_numpy(),
        rtol=1e-9,
        atol=1e-9,
    )


# --- bad input --------------------------------------------------------------------


def _log(**changes):
    log = tiny_log("string")
    for column, values in changes.items():
        log[column] = values
    return log


@pytest.mark.parametrize(
    ("log", "kwargs", "match"),
    [
        (tiny_log("string").drop(columns="timestamp"), {}, r"lack column\(s\) 'timestamp'"),
        (tiny_log("string"), {"customer_id": "cust"}, r"'cust' \(for customer_id\)"),
        (tiny_log("string"), {"amount": "price"}, r"'price' \(for amount\)"),
        (tiny_log("string").iloc[0:0], {}, "empty"),
        (
            _log(customer_id=[1, None, 2, 2, None, 3]),
            {},
            r"'customer_id': 2 rows have a null customer id \(rows 1, 4\)",
        ),
        (
            _log(
                timestamp=["2024-01-01", "yesterday", "2024-01-02", "x", "2024-01-03", "2024-01-04"]
            ),
            {},
            r"'timestamp': 2 rows cannot be parsed as dates \(customers e.g. 1\)",
        ),
        (
            _log(
                timestamp=[
                    "2024-01-01",
                    None,
                    "2024-01-02",
                    "2024-01-02",
                    "2024-01-03",
                    "2024-01-04",
                ]
            ),
            {},
            r"'timestamp': 1 rows have a null timestamp",
        ),
        (
            _log(amount=["1", "2", "abc", "4", "5", "6"]),
            {},
            r"'amount': 1 rows are not numeric \(customers e.g. 1\)",
        ),
        (_log(amount=[1.0, np.nan, 2, 3, 4, 5]), {}, r"'amount': 1 rows have a null amount"),
        (
            _log(amount=[1.0, np.inf, 2, 3, -np.inf, 5]),
            {},
            r"'amount': 2 rows have an infinite amount \(customers e.g. 1, 2\)",
        ),
        (
            _log(amount=[1.0, -2.0, 2, 3, -4, 5]),
            {},
            r"'amount': 2 rows have a negative amount \(returns; customers e.g. 1, 2\)",
        ),
    ],
)
def test_bad_input_raises_named_error(log, kwargs, match):
    with pytest.raises(InvalidDataError, match=match):
        rfm_summary(log, observation_end="2024-01-08", **kwargs)


def test_errors_are_value_errors():
    assert issubclass(InvalidDataError, CLVError)
    assert issubclass(InvalidDataError, ValueError)


def test_observation_end_before_first_transaction():
    with pytest.raises(
        InvalidDataError,
        match=r"'observation_end' date is before the first transaction \(2024-01-01\)",
    ):
        rfm_summary(tiny_log("string"), observation_end="2023-12-31")


def test_not_a_dataframe():
    with pytest.raises(InvalidDataError, match="must be a pandas DataFrame; got list"):
        rfm_summary([1, 2], observation_end="2024-01-08")


def test_bad_parameters():
    with pytest.raises(
        InvalidParameterError, match=r"'time_unit' parameter must be one of \['D', 'M', 'W'\]"
    ):
        rfm_summary(tiny_log("string"), observation_end="2024-01-08", time_unit="Q")
    with pytest.raises(InvalidParameterError, match="'observation_end' parameter must be a date"):
        rfm_summary(tiny_log("string"), observation_end="not a date")
    with pytest.raises(
        InvalidParameterError, match="'holdout_end' date .* must be after 'calibration_end'"
    ):
        calibration_holdout_split(
            tiny_log("string"), calibration_end="2024-01-05", holdout_end="2024-01-05"
        )
    with pytest.raises(InvalidParameterError, match="'duplicates' parameter"):
        rfm_summary(tiny_log("string"), observation_end="2024-01-08", duplicates="maybe")


def test_negative_amounts_policy_drop_warns_and_drops():
    log = _log(amount=[10.0, 5.0, -20.0, 40.0, 7.5, 99.0])
    with pytest.warns(DataQualityWarning, match="1 rows have a negative amount .* dropped"):
        table = rfm_summary(log, observation_end="2024-01-08", negative_amounts="drop")
    assert table.set_index("customer_id").loc[1, "frequency"] == 1
    assert table.set_index("customer_id").loc[1, "monetary_value"] == 40.0


def test_duplicates_policies():
    log = pd.concat([tiny_log("string"), tiny_log("string").iloc[[3]]], ignore_index=True)
    kept = rfm_summary(log, observation_end="2024-01-08")
    assert kept.loc[0, "monetary_value"] == pytest.approx((20 + 80) / 2)
    with pytest.warns(DataQualityWarning, match="1 rows are exact duplicates .* dropped"):
        dropped = rfm_summary(log, observation_end="2024-01-08", duplicates="drop")
    assert dropped.loc[0, "monetary_value"] == pytest.approx(30.0)
    with pytest.raises(
        InvalidDataError, match=r"1 rows are exact duplicates of earlier rows \(customers e.g. 1\)"
    ):
        rfm_summary(log, observation_end="2024-01-08", duplicates="raise")


def test_timezone_aware_days_are_local_days():
    # 23:30 in New York on 1 Jan is 2 Jan in UTC: it stays a 1 Jan purchase.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 23:30"]).tz_localize(
                "America/New_York"
            ),
            "amount": [1.0, 2.0],
        }
    )
    table = rfm_summary(log, observation_end=pd.Timestamp("2024-01-03", tz="America/New_York"))
    assert table.loc[0, "frequency"] == 0
    assert table.loc[0, "T"] == 2.0
