"""Calendar months as a time unit: the month clock, the tables, predictions across units."""

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidParameterError
from clv.features import calibration_holdout_split, rfm_summary
from clv.features._calendar import duration
from clv.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel


def day(text):
    return float(pd.Timestamp(text).value // 86_400_000_000_000)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2024-01-31", "2024-02-01", 1 / 31),  # one January day
        ("2024-02-28", "2024-03-01", 2 / 29),  # 28 and 29 February 2024
        ("2024-01-15", "2024-02-15", 17 / 31 + 14 / 29),
        ("2024-01-01", "2024-04-01", 3.0),
        ("1997-09-30", "1998-06-30", 9.0),
    ],
)
def test_the_month_clock(start, end, months):
    assert duration(day(start), day(end), "M") == pytest.approx(months, abs=1e-12)


def small_log():
    """Customer 1 buys on 16 January, 1 February and 16 March 2024; customer 2 on 1 March."""
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-16", "2024-02-01", "2024-03-16", "2024-03-01"]),
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    )


def test_rfm_summary_in_months():
    log = small_log()
    table = rfm_summary(log, observation_end="2024-03-31", time_unit="M")
    assert table.attrs["time_unit"] == "M"
    first = table.set_index("customer_id").loc[1]
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(16 / 31 + 1 + 15 / 31)
    assert first["T"] == pytest.approx(16 / 31 + 1 + 30 / 31)
    assert table.set_index("customer_id").loc[2, "T"] == pytest.approx(30 / 31)
    split = calibration_holdout_split(
        log, calibration_end="2024-02-29", holdout_end="2024-03-31", time_unit="M"
    )
    # boundaries are day numbers, as for days and weeks: 29 February, then 30 March days
    assert split["holdout_duration"].iloc[0] == pytest.approx(1 / 29 + 30 / 31)


@pytest.fixture(scope="module")
def tables(cdnow):
    dates = {"calibration_end": "1997-09-30", "holdout_end": "1998-06-30"}
    weeks = calibration_holdout_split(cdnow, **dates, time_unit="W")
    months = calibration_holdout_split(cdnow, **dates, time_unit="M")
    return weeks, months


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel])
def test_months_and_weeks_give_the_same_predictions(tables, model_class):
    weeks, months = tables
    assert months["holdout_duration"].iloc[0] == pytest.approx(9.0)  # Oct 1997 - Jun 1998
    in_weeks, in_months = model_class().fit(weeks), model_class().fit(months)
    # a month is 28 to 31 days: the clocks differ a little, the predictions hardly
    expected_w = in_weeks.expected_purchases(weeks, 39.0).to_numpy()
    expected_m = in_months.expected_purchases(months, 9.0).to_numpy()
    assert expected_m.sum() == pytest.approx(expected_w.sum(), rel=0.015)
    assert np.abs(expected_m - expected_w).max() < 0.15
    alive_w = in_weeks.probability_alive(weeks).to_numpy()
    alive_m = in_months.probability_alive(months).to_numpy()
    assert np.abs(alive_m - alive_w).max() < 0.02
    # discounting: an annual rate is 12 monthly periods or 365.25 / 7 weekly ones
    spend_w = GammaGammaModel().fit(weeks[weeks["frequency"] > 0])
    spend_m = GammaGammaModel().fit(months[months["frequency"] > 0])
    options = {"discount_rate": 0.1, "discounting": "continuous"}
    value_w = in_weeks.customer_lifetime_value(weeks, spend_w, horizon=156.0, **options)
    value_m = in_months.customer_lifetime_value(months, spend_m, horizon=36.0, **options)
    assert value_m.sum() == pytest.approx(value_w.sum(), rel=0.02)


def test_customer_features_in_months():
    from clv.features.behaviour import customer_features

    log = small_log()
    table = customer_features(log, as_of="2024-03-31", time_unit="M")
    assert table.attrs["time_unit"] == "M"
    rfm = rfm_summary(log, observation_end="2024-03-31", time_unit="M")
    pd.testing.assert_frame_equal(table[list(rfm.columns)], rfm, check_like=True)
    first = table.set_index("customer_id").loc[1]
    gaps = np.array([16 / 31, 1 + 15 / 31])  # 16 January -> 1 February -> 16 March
    assert first["ipt_mean"] == pytest.approx(gaps.mean())
    assert first["ipt_std"] == pytest.approx(gaps.std())
    assert first["tenure"] == pytest.approx(16 / 31 + 1 + 30 / 31)
    assert first["time_since_last"] == pytest.approx(15 / 31)
    # counts and money do not depend on the unit
    weeks = customer_features(log, as_of="2024-03-31", time_unit="W")
    same = ["frequency", "monetary_value", "purchases_91d", "spend_91d", "total_spend", "trend"]
    pd.testing.assert_frame_equal(table[same], weeks[same])


@pytest.mark.parametrize(
    ("cutoff", "inside", "outside"),
    [
        ("2024-03-01", "2024-04-01", "2024-04-02"),  # a whole month: its last day counts
        ("2024-01-31", "2024-02-29", "2024-03-01"),  # 1/31 of January + 30/31 of February
        ("2024-02-29", "2024-03-30", "2024-03-31"),  # 1/29 of February + 28/29 of March
    ],
)
def test_training_examples_label_windows_in_months(cutoff, inside, outside):
    from clv.features.behaviour import training_examples

    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "timestamp": pd.to_datetime(["2024-01-01", inside, "2024-01-01", outside]),
            "amount": [10.0, 20.0, 10.0, 20.0],
        }
    )
    examples = training_examples(
        log, cutoffs=[cutoff], horizon=1, time_unit="M", observation_end="2024-06-30"
    )
    assert examples.attrs["time_unit"] == "M"
    assert examples.set_index("customer_id")["future_purchases"].to_dict() == {1: 1, 2: 0}
    with pytest.raises(InvalidParameterError, match="end after the last observed day"):
        training_examples(
            log, cutoffs=[cutoff], horizon=3, time_unit="M", observation_end="2024-04-15"
        )
