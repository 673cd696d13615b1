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


def test_parameter_interval_from_the_asymptotic_distribution(cdnow, cdnow_repeat):
    from clv.errors import NotFittedError
    from clv.models._parameter_uncertainty import parameter_draws

    purchases = BetaGeoModel(compute_standard_errors=True).fit(cdnow)
    spend = GammaGammaModel(compute_standard_errors=True).fit(cdnow_repeat)
    pd.testing.assert_index_equal(purchases.covariance_.index, purchases.params_.index)
    np.testing.assert_allclose(
        np.sqrt(np.diag(purchases.covariance_)), purchases.standard_errors_, rtol=1e-12
    )
    # the draws have the delta-method spread of log(theta): SE / theta
    draws = parameter_draws(purchases, n_draws=4000)
    np.testing.assert_allclose(
        np.log(draws).std(axis=0),
        purchases.standard_errors_ / purchases.params_,
        rtol=0.05,
    )
    sample = cdnow.iloc[::25]
    both = purchases.customer_lifetime_value(
        sample, spend, horizon=39, interval=0.9, parameter_interval=0.9
    )
    assert list(both.columns) == [
        "customer_lifetime_value",
        "clv_lower",
        "clv_upper",
        "clv_mean_lower",
        "clv_mean_upper",
    ]
    narrow = purchases.customer_lifetime_value(sample, spend, horizon=39, parameter_interval=0.5)
    point = both["customer_lifetime_value"]
    inside = (both["clv_mean_lower"] <= point) & (point <= both["clv_mean_upper"])
    assert inside.mean() > 0.99
    assert (both["clv_mean_lower"] <= narrow["clv_mean_lower"]).all()
    assert (narrow["clv_mean_upper"] <= both["clv_mean_upper"]).all()
    # the estimate's uncertainty is far smaller than a customer's own randomness
    assert (both["clv_mean_upper"] <= both["clv_upper"]).mean() > 0.9
    with pytest.raises(NotFittedError, match="compute_standard_errors=True"):
        BetaGeoModel().fit(cdnow).customer_lifetime_value(
            sample, spend, horizon=39, parameter_interval=0.9
        )


def test_value_calibration_on_customers_of_the_models_themselves():
    from clv.datasets.simulate_holdout import simulate_with_holdout
    from clv.models.count_calibration import value_calibration

    params = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
    spend = {"p": 6.2488, "q": 3.7446, "gamma": 15.4477}
    n = 3_000
    sim = simulate_with_holdout("bgnbd", params, n, T=39.0, holdout=39.0, random_state=5)
    rng = np.random.default_rng(6)
    x, y = sim["frequency"].to_numpy(), sim["holdout_frequency"].to_numpy()
    nu = rng.gamma(spend["q"], 1.0 / spend["gamma"], size=n)
    mean = rng.gamma(spend["p"] * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1)))
    sim["monetary_value"] = np.where(x > 0, mean, 0.0)
    total = np.where(y > 0, rng.gamma(spend["p"] * np.maximum(y, 1), 1.0 / nu), 0.0)
    measures = value_calibration(
        BetaGeoModel.from_params(params), GammaGammaModel.from_params(spend), sim, total, 39.0
    )
    assert abs(measures["pit_90"] - 0.90) < 4 * np.sqrt(0.09 / n)
    assert abs(measures["pit_50"] - 0.50) < 4 * np.sqrt(0.25 / n)
    # the reported intervals hold at least their level (the atom at 0 makes them over-cover)
    assert measures["interval_90"] >= 0.9 - 4 * np.sqrt(0.09 / n)
    assert measures["interval_50"] >= 0.5
