import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError
from clv.features import rfm_summary
from clv.features.behaviour import FEATURE_COLUMNS, customer_features, training_examples


def _log():
    # customer a: days 0, 10, 30 (two lines on day 30); b: day 20 only; c: day 45 (after as_of)
    return pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c"],
            "when": pd.to_datetime(
                [
                    "2021-01-01",
                    "2021-01-11",
                    "2021-01-31",
                    "2021-01-31 18:00",
                    "2021-01-21",
                    "2021-02-15",
                ],
                format="ISO8601",
            ),
            "value": [10.0, 20.0, 5.0, 25.0, 7.0, 3.0],
        }
    )


def test_hand_written_log_gives_exact_features():
    table = customer_features(
        _log(), as_of="2021-02-04", customer_id="cust", timestamp="when", amount="value"
    )
    assert list(table.columns) == list(FEATURE_COLUMNS)
    assert table.attrs["time_unit"] == "D"
    a, b = table.iloc[0], table.iloc[1]
    assert list(table["customer_id"]) == ["a", "b"]
    # a: purchases on days 0, 10, 30 (30 merged: 30.0), as_of is day 34
    assert (a.frequency, a.recency, a["T"], a.monetary_value) == (2, 30.0, 34.0, 25.0)
    assert (a.purchases_28d, a.purchases_91d, a.spend_28d, a.spend_91d) == (2, 3, 50.0, 60.0)
    assert a.ipt_mean == 15.0 and a.ipt_std == 5.0  # gaps 10 and 20
    assert a.trend == 1.0  # everything in the last 182 days
    assert (a.tenure, a.time_since_last) == (34.0, 4.0)
    assert (a.first_purchase_value, a.last_purchase_value) == (10.0, 30.0)
    assert (a.total_spend, a.mean_basket) == (60.0, 20.0)
    # b: one purchase on day 20: no repeat, documented fills
    assert (b.frequency, b.recency, b["T"], b.monetary_value) == (0, 0.0, 14.0, 0.0)
    assert (b.ipt_mean, b.ipt_std, b.time_since_last) == (0.0, 0.0, 14.0)
    assert (b.purchases_28d, b.spend_28d, b.mean_basket) == (1, 7.0, 7.0)
    assert not table.drop(columns="customer_id").isna().any().any()


def test_windows_are_calendar_days_and_durations_follow_the_unit():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "timestamp": pd.to_datetime(["2021-01-01", "2021-06-01", "2021-12-31"]),
            "amount": [1.0, 2.0, 4.0],
        }
    )
    days = customer_features(log, as_of="2021-12-31")
    weeks = customer_features(log, as_of="2021-12-31", time_unit="W")
    # day 0 is 364 days before as_of: outside the 364-day window (the 364 days ending as_of)
    assert days.loc[0, "purchases_364d"] == 2 and days.loc[0, "spend_364d"] == 6.0
    assert days.loc[0, "purchases_182d"] == 1
    assert days.loc[0, "trend"] == 0.0  # one recent, one earlier
    for column in ("recency", "T", "ipt_mean", "ipt_std", "tenure", "time_since_last"):
        assert weeks.loc[0, column] == pytest.approx(days.loc[0, column] / 7)
    assert weeks.loc[0, "purchases_364d"] == days.loc[0, "purchases_364d"]


def test_rfm_columns_equal_rfm_summary(cdnow):
    features = customer_features(cdnow, as_of="1997-09-30", time_unit="W")
    summary = rfm_summary(cdnow, observation_end="1997-09-30", time_unit="W")
    pd.testing.assert_frame_equal(features[summary.columns], summary)
    assert not features.isna().any().any()
    assert len(features.columns) >= 20


@pytest.mark.parametrize("time_unit", ["W", "M"])
def test_rfm_only_is_the_rfm_block_and_keeps_the_as_of_wording(cdnow, time_unit):
    full = customer_features(cdnow, as_of="1997-09-30", time_unit=time_unit)
    rfm = customer_features(cdnow, as_of="1997-09-30", time_unit=time_unit, rfm_only=True)
    assert list(rfm.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    pd.testing.assert_frame_equal(rfm, full[rfm.columns], check_exact=True)
    assert rfm.attrs == {"time_unit": time_unit}
    with pytest.raises(InvalidDataError, match="'as_of' date is before the first"):
        customer_features(cdnow, as_of="1990-01-01", rfm_only=True)


def test_attributes_are_joined_and_categorical():
    attributes = pd.DataFrame({"cust": ["b", "a"], "plan": ["gold", "basic"], "age": [30, 40]})
    table = customer_features(
        _log(),
        as_of="2021-02-04",
        customer_id="cust",
        timestamp="when",
        amount="value",
        attributes=attributes,
    )
    assert isinstance(table["plan"].dtype, pd.CategoricalDtype)
    assert list(table["plan"].astype(str)) == ["basic", "gold"]
    assert list(table["age"]) == [40, 30]


def test_attribute_errors_name_the_problem():
    attributes = pd.DataFrame({"customer_id": ["a", "a"], "plan": ["x", "y"]})
    with pytest.raises(InvalidDataError, match="1 rows repeat a customer id"):
        customer_features(
            _log(),
            as_of="2021-02-04",
            customer_id="cust",
            timestamp="when",
            amount="value",
            attributes=attributes,
        )
    clash = pd.DataFrame({"customer_id": ["a"], "frequency": [1]})
    with pytest.raises(InvalidDataError, match="clash with feature columns"):
        customer_features(
            _log(),
            as_of="2021-02-04",
            customer_id="cust",
            timestamp="when",
            amount="value",
            attributes=clash,
        )


def test_training_examples_labels_and_cutoffs():
    examples = training_examples(
        _log(),
        cutoffs=["2021-01-15", "2021-01-05"],
        horizon=20,
        customer_id="cust",
        timestamp="when",
        amount="value",
    )
    assert list(examples.columns[:2]) == ["cutoff", "customer_id"]
    assert list(examples.columns[-3:]) == ["future_purchases", "future_spend", "churned"]
    first = examples[examples["cutoff"] == pd.Timestamp("2021-01-05")]
    assert list(first["customer_id"]) == ["a"]
    # (Jan 5, Jan 25]: a buys on Jan 11; b's first purchase (Jan 21) has no feature row
    assert first[["future_purchases", "future_spend", "churned"]].iloc[0].tolist() == [
        1,
        20.0,
        False,
    ]
    second = examples[examples["cutoff"] == pd.Timestamp("2021-01-15")].set_index("customer_id")
    # (Jan 15, Feb 4]: a buys on Jan 31 (two lines, one purchase of 30)
    assert second.loc["a", "future_purchases"] == 1 and second.loc["a", "future_spend"] == 30.0
    assert examples.attrs == {"time_unit": "D", "horizon": 20.0}


def test_training_examples_rejects_truncated_label_windows():
    with pytest.raises(InvalidParameterError, match="1 cutoff"):
        training_examples(
            _log(),
            cutoffs=["2021-02-01"],
            horizon=30,
            customer_id="cust",
            timestamp="when",
            amount="value",
        )


def test_no_leakage(cdnow):
    cutoff, horizon = pd.Timestamp("1997-06-30"), 13
    end = cutoff + pd.Timedelta(weeks=horizon)
    base = training_examples(
        cdnow, cutoffs=[cutoff], horizon=horizon, time_unit="W", observation_end="1998-06-30"
    )
    changed = cdnow.copy()
    after_horizon = changed["timestamp"] > end
    changed.loc[after_horizon, "amount"] *= 7.0
    changed = pd.concat(
        [
            changed,
            pd.DataFrame(
                {
                    "customer_id": [1, 2],
                    "timestamp": [end + pd.Timedelta(days=1)] * 2,
                    "amount": [99.0, 99.0],
                    "quantity": [1, 1],
                }
            ),
        ],
        ignore_index=True,
    )
    same = training_examples(
        changed, cutoffs=[cutoff], horizon=horizon, time_unit="W", observation_end="1998-06-30"
    )
    pd.testing.assert_frame_equal(base, same)

    after_cutoff = cdnow.copy()
    late = after_cutoff["timestamp"] > cutoff
    after_cutoff.loc[late, "amount"] *= 3.0
    moved = training_examples(
        after_cutoff, cutoffs=[cutoff], horizon=horizon, time_unit="W", observation_end="1998-06-30"
    )
    features = [c for c in base.columns if c not in ("future_spend",)]
    pd.testing.assert_frame_equal(base[features], moved[features])
    assert not np.allclose(base["future_spend"], moved["future_spend"])
