"""Calendar months as a time unit: the month clock, the tables, predictions across units."""

import numpy as np
import pandas as pd
import pytest

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


def test_rfm_summary_in_months():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-16", "2024-02-01", "2024-03-16", "2024-03-01"]),
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    )
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
