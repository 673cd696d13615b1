"""Cohort tables and the model's expected activity by cohort and age."""

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_donations
from clv.errors import InvalidParameterError
from clv.features import rfm_summary
from clv.features.cohorts import cohort_table
from clv.models import BetaGeoBetaBinomModel, BetaGeoModel
from clv.models.cohort_activity import cohort_expected_activity

LOG = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
        "timestamp": pd.to_datetime(
            [
                "2024-01-05",
                "2024-01-05",  # same day: one purchase
                "2024-01-20",
                "2024-03-02",
                "2024-01-31",
                "2024-02-01",
                "2024-02-10",
            ]
        ),
        "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 8.0, 9.0],
    }
)


def test_exact_table_for_a_tiny_log():
    table = cohort_table(LOG, period="M", observation_end="2024-03-15")
    # March is not over on 2024-03-15: only January and February are observed
    jan, feb = pd.Period("2024-01", "M"), pd.Period("2024-02", "M")
    assert list(table.index) == [(jan, 0), (jan, 1), (feb, 0)]
    assert table["customers"].tolist() == [2, 2, 1]
    assert table["active_customers"].tolist() == [2, 1, 1]
    assert table["purchases"].tolist() == [3, 1, 1]  # a: 5th and 20th; b: 31st
    assert table["repeat_purchases"].tolist() == [1, 1, 0]
    assert table["revenue"].tolist() == [42.0, 8.0, 9.0]
    assert table["repeat_customers"].tolist() == [1, 2, 0]
    np.testing.assert_allclose(table["active_rate"], [1.0, 0.5, 1.0])
    np.testing.assert_allclose(table["repeat_rate"], [0.5, 1.0, 0.0])
    assert table.attrs == {"period": "M", "observation_end": "2024-03-15"}


def test_unobserved_cells_are_missing_not_zero():
    table = cohort_table(LOG, period="M", observation_end="2024-04-30")
    jan, feb = pd.Period("2024-01", "M"), pd.Period("2024-02", "M")
    # April is observed and nobody bought: zero; cohort February has ages 0..2
    assert table.loc[(jan, 3), "active_customers"] == 0
    assert table.loc[(jan, 2), "purchases"] == 1  # a on 2024-03-02
    assert len(table.loc[feb]) == 3
    grid = table["active_rate"].unstack("age")
    assert np.isnan(grid.loc[feb, 3])  # February's 4th month (May) is not observed


def test_weeks_start_on_monday():
    table = cohort_table(LOG, period="W", observation_end="2024-02-18")
    first = table.index.get_level_values("cohort")[0]
    assert str(first.start_time.date()) == "2024-01-01" and first.start_time.day_name() == "Monday"
    b_week = pd.Period("2024-01-29", "W-SUN")  # b: Wed 31 Jan and Thu 1 Feb, one week
    assert table.loc[(b_week, 0), "purchases"] == 2


def test_cdnow_cohorts(cdnow):
    table = cohort_table(cdnow, period="M", observation_end="1998-06-30")
    sizes = table.xs(0, level="age")["customers"]
    assert sizes.tolist() == [781, 857, 719] and sizes.sum() == 2357
    # all repeat purchases of the sample (calibration 2,457 + holdout 1,882)
    assert table["repeat_purchases"].sum() == 2457 + 1882


def test_expected_activity_telescopes_to_each_customers_expectation(cdnow):
    model = BetaGeoModel().fit(rfm_summary(cdnow, observation_end="1997-09-30", time_unit="W"))
    result = cohort_expected_activity(model, cdnow, period="M", observation_end="1998-06-30")
    assert (result["expected_repeat_purchases"] >= 0).all()
    # every period up to the (month-end) observation end is observed, so the cells
    # of a cohort add up to E[X(T)] summed over its customers
    full = rfm_summary(cdnow, observation_end="1998-06-30", time_unit="W")
    expected = model.expected_purchases_new_customer(full["T"].to_numpy()).sum()
    assert result["expected_repeat_purchases"].sum() == pytest.approx(expected, rel=1e-10)
    # and the model tracks the actual total within 10 %
    ratio = result["expected_repeat_purchases"].sum() / result["repeat_purchases"].sum()
    assert 0.9 < ratio < 1.1


def test_expected_activity_needs_a_continuous_time_model(cdnow):
    donations = load_donations()
    model = BetaGeoBetaBinomModel().fit(donations, sample_weight=donations["count"])
    with pytest.raises(InvalidParameterError, match="continuous-time model"):
        cohort_expected_activity(model, cdnow)
    with pytest.raises(InvalidParameterError, match="'period'"):
        cohort_table(cdnow, period="Q")


def test_heatmap(cdnow):
    from clv.plots import cohort_heatmap

    table = cohort_table(cdnow, period="M", observation_end="1998-06-30")
    figure = cohort_heatmap(table, "active_rate")
    assert figure.axes[0].get_ylabel() == "Acquisition cohort"
    with pytest.raises(InvalidParameterError, match="no column"):
        cohort_heatmap(table, "nope")


def test_expected_activity_of_a_model_fitted_in_months(cdnow):
    weekly = BetaGeoModel().fit(rfm_summary(cdnow, observation_end="1997-09-30", time_unit="W"))
    monthly = BetaGeoModel().fit(rfm_summary(cdnow, observation_end="1997-09-30", time_unit="M"))
    options = {"period": "M", "observation_end": "1998-06-30"}
    in_weeks = cohort_expected_activity(weekly, cdnow, **options)["expected_repeat_purchases"]
    in_months = cohort_expected_activity(monthly, cdnow, **options)["expected_repeat_purchases"]
    assert in_months.sum() == pytest.approx(in_weeks.sum(), rel=0.02)
    full = rfm_summary(cdnow, observation_end="1998-06-30", time_unit="M")
    expected = monthly.expected_purchases_new_customer(full["T"].to_numpy()).sum()
    assert in_months.sum() == pytest.approx(expected, rel=1e-10)
