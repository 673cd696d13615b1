"""Prediction intervals of the customer lifetime value."""

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidParameterError
from clv.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel


@pytest.fixture(scope="module")
def fitted(cdnow, cdnow_repeat):
    sample = cdnow.iloc[::12]  # 197 customers, every kind of history
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow_repeat), sample


def test_intervals_hold_the_point_and_nest_by_level(fitted):
    purchases, spend, sample = fitted
    options = {"horizon": 39, "discount_rate": 0.1, "time_unit": "W"}
    point = purchases.customer_lifetime_value(sample, spend, **options)
    wide = purchases.customer_lifetime_value(sample, spend, interval=0.9, **options)
    narrow = purchases.customer_lifetime_value(sample, spend, interval=0.5, **options)
    assert list(wide.columns) == ["customer_lifetime_value", "clv_lower", "clv_upper"]
    pd.testing.assert_series_equal(wide["customer_lifetime_value"], point)
    assert wide.index.equals(point.index)
    assert (wide["clv_lower"] >= 0).all()
    assert (wide["clv_lower"] <= wide["customer_lifetime_value"]).all()
    assert (wide["customer_lifetime_value"] <= wide["clv_upper"]).all()
    assert (wide["clv_lower"] <= narrow["clv_lower"]).all()
    assert (narrow["clv_upper"] <= wide["clv_upper"] * (1 + 1e-7)).all()
    assert (wide["clv_upper"] > narrow["clv_upper"]).mean() > 0.9


def test_interval_bounds_are_quantiles_of_the_simulated_value(fitted):
    purchases, spend, sample = fitted
    rows = sample[sample["frequency"].isin([0, 2, 7])].iloc[[0, 1, -1]]
    bounds = purchases.customer_lifetime_value(rows, spend, horizon=39, interval=0.8)
    rng = np.random.default_rng(0)
    p, q, gamma = spend.params_.to_numpy()
    counts = np.arange(400)
    pmf = purchases.probability_of_n_purchases(rows, 39, list(counts)).to_numpy()
    for i, (_, customer) in enumerate(rows.iterrows()):
        draws = 400_000
        y = rng.choice(counts, size=draws, p=pmf[i] / pmf[i].sum())
        x, m = customer["frequency"], customer["monetary_value"]
        nu = rng.gamma(q + p * x, 1.0 / (gamma + x * m), size=draws)
        value = np.where(y > 0, rng.gamma(np.maximum(y, 1) * p, 1.0) / nu, 0.0)
        low, high = np.quantile(value, [0.1, 0.9])
        point = bounds["customer_lifetime_value"].iloc[i]
        assert bounds["clv_lower"].iloc[i] == pytest.approx(min(low, point), rel=0.02, abs=1e-9)
        assert bounds["clv_upper"].iloc[i] == pytest.approx(max(high, point), rel=0.02, abs=1e-9)


def test_fixed_spend_scales_the_purchase_interval(cdnow):
    purchases = ParetoNBDModel().fit(cdnow)
    sample = cdnow.iloc[::40]
    value = purchases.customer_lifetime_value(sample, 10.0, horizon=20, interval=0.9, margin=0.5)
    cdf = purchases.probability_of_n_purchases(sample, 20, list(range(60))).cumsum(axis=1)
    upper_count = np.argmax(cdf.to_numpy() >= 0.95 - 1e-12, axis=1)
    np.testing.assert_allclose(
        value["clv_upper"], np.maximum(5.0 * upper_count, value["customer_lifetime_value"])
    )


def test_interval_arguments_are_checked(fitted):
    purchases, spend, sample = fitted
    with pytest.raises(InvalidParameterError, match="'level'"):
        purchases.customer_lifetime_value(sample, spend, horizon=39, interval=1.5)
    with pytest.raises(InvalidParameterError, match="finite horizon"):
        purchases.customer_lifetime_value(
            sample,
            spend,
            horizon=np.inf,
            interval=0.9,
            discount_rate=0.1,
            discounting="continuous",
            time_unit="W",
        )
