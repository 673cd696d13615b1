"""The same data in days, weeks and calendar months gives the same predictions.

CDNOW as of 1997-09-30; the 39-week holdout is 273 days and 9 calendar months (October
1997 to June 1998). Days and weeks are one clock scaled (the BTYD models are
scale-equivariant), so only discounting differs (daily against weekly periods: 0.08 %
of CLV). Months are another clock (each day 1 / its month's length), so the fits differ
a little: measured, totals within 1 % (CLV 0.7 %), P(alive) within 0.014 and expected
purchases within 0.11 per customer; the tolerances below leave about 50 % headroom.
"""

from __future__ import annotations

import numpy as np
import pytest

from clv.candidates import make_candidate
from clv.datasets import load_cdnow
from clv.features.behaviour import customer_features

HORIZONS = {"D": 273.0, "W": 39.0, "M": 9.0}
TOTALS = ["expected_purchases", "expected_spend", "clv"]


@pytest.fixture(scope="module")
def log():
    return load_cdnow()


@pytest.fixture(scope="module")
def features(log):
    return {unit: customer_features(log, as_of="1997-09-30", time_unit=unit) for unit in HORIZONS}


@pytest.mark.parametrize("kind", ["bg_nbd", "mbg_nbd", "pareto_nbd", "baseline"])
def test_days_weeks_and_months_agree(log, features, kind):
    predictions = {}
    for unit, horizon in HORIZONS.items():
        candidate = make_candidate(kind).fit_transactions(log, as_of="1997-09-30", time_unit=unit)
        assert candidate.time_unit_ == unit
        predictions[unit] = candidate.predict(features[unit], horizon=horizon, discount_rate=0.1)
        assert np.isfinite(predictions[unit].to_numpy()).all()
    weeks, days, months = predictions["W"], predictions["D"], predictions["M"]
    assert days.index.equals(months.index) and weeks.index.equals(months.index)
    # days and weeks: one clock, scaled
    np.testing.assert_allclose(days["expected_purchases"], weeks["expected_purchases"], rtol=1e-6)
    np.testing.assert_allclose(days["probability_alive"], weeks["probability_alive"], atol=1e-6)
    assert days["clv"].sum() == pytest.approx(weeks["clv"].sum(), rel=2e-3)
    # months: the month clock
    for name in TOTALS:
        assert months[name].sum() == pytest.approx(weeks[name].sum(), rel=0.015), name
    for name in ("probability_alive", "churn_probability"):
        assert np.abs(months[name] - weeks[name]).max() < 0.02, name
    if kind != "baseline":  # (the baseline's rate frequency / T is not smoothed for the young)
        assert np.abs(months["expected_purchases"] - weeks["expected_purchases"]).max() < 0.15
