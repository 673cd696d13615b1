"""Fitted-model summary and Gamma-Gamma's independence check."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter

from clv.errors import AssumptionWarning, CLVWarning
from clv.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel


def test_summary_standard_errors_equal_lifetimes(cdnow):
    model = BetaGeoModel().fit(cdnow)
    summary = model.summary(cdnow)
    oracle = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(
        summary["standard_error"], oracle.summary["se(coef)"].to_numpy(), rtol=2e-3
    )
    # asking at fit time gives the same numbers
    again = BetaGeoModel(compute_standard_errors=True).fit(cdnow).summary()
    np.testing.assert_allclose(again["standard_error"], summary["standard_error"], rtol=1e-8)


def test_summary_statistics_and_interval(cdnow):
    model = ParetoNBDModel().fit(cdnow)
    summary = model.summary(cdnow)
    info = summary.attrs
    assert info["n_customers"] == 2357 and info["n_parameters"] == 4
    assert info["log_likelihood"] == pytest.approx(model.log_likelihood_)
    assert info["aic"] == pytest.approx(8 - 2 * model.log_likelihood_)
    assert info["bic"] == pytest.approx(4 * math.log(2357) - 2 * model.log_likelihood_)
    assert list(summary.columns) == ["estimate", "standard_error", "lower_95", "upper_95"]
    assert (summary["lower_95"] > 0).all()
    assert (summary["lower_95"] < summary["estimate"]).all()
    assert (summary["estimate"] < summary["upper_95"]).all()
    # the interval is symmetric on the log scale
    np.testing.assert_allclose(
        np.log(summary["upper_95"] / summary["estimate"]),
        1.959964 * summary["standard_error"] / summary["estimate"],
        rtol=1e-6,
    )
    text = model.summary_text(cdnow)
    assert "ParetoNBDModel" in text and "AIC" in text and "beta" in text


def test_summary_without_standard_errors_says_nan(cdnow):
    summary = BetaGeoModel().fit(cdnow).summary()
    assert summary["standard_error"].isna().all() and summary["lower_95"].isna().all()


def test_independence_figure_on_cdnow_does_not_warn(cdnow_repeat):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AssumptionWarning)
        model = GammaGammaModel().fit(cdnow_repeat)
    assert model.spend_frequency_correlation_ == pytest.approx(0.2063, abs=1e-3)


def test_independence_warning_on_spend_that_grows_with_frequency():
    rng = np.random.default_rng(0)
    frequency = rng.integers(1, 20, size=500)
    # frequent buyers spend more per purchase: the assumption fails
    spend = rng.gamma(6.0, (5.0 + 3.0 * frequency) / 6.0)
    table = pd.DataFrame({"frequency": frequency, "monetary_value": spend})
    with pytest.warns(AssumptionWarning, match=r"Spearman 0\.\d\d.*independent"):
        model = GammaGammaModel().fit(table)
    assert model.spend_frequency_correlation_ > 0.5
    assert issubclass(AssumptionWarning, CLVWarning)
    # users can silence it by class
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=AssumptionWarning)
        GammaGammaModel().fit(table)


def test_covariance_survives_json(cdnow):
    model = BetaGeoModel(compute_standard_errors=True).fit(cdnow)
    again = BetaGeoModel.from_json(model.to_json())
    pd.testing.assert_frame_equal(again.covariance_, model.covariance_)
    pd.testing.assert_frame_equal(again.summary(), model.summary())


def test_gamma_gamma_summary_from_the_table_equals_the_fit_time_errors(cdnow_repeat):
    # the fit works on rescaled spends; the summary's Hessian on the table must agree
    from_table = GammaGammaModel().fit(cdnow_repeat).summary(cdnow_repeat)
    at_fit = GammaGammaModel(compute_standard_errors=True).fit(cdnow_repeat).summary()
    np.testing.assert_allclose(from_table["standard_error"], at_fit["standard_error"], rtol=1e-5)
