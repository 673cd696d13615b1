"""Predictions equal lifetimes' on the same parameters; our optimum is never worse."""

import warnings

import numpy as np
import pandas as pd
import pytest
from lifetimes import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
)

from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
)

RTOL = 1e-6


def close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(
    ("model_class", "fitter_class"),
    [(BetaGeoModel, BetaGeoFitter), (ModifiedBetaGeoModel, ModifiedBetaGeoFitter)],
)
def test_transaction_predictions(cdnow, model_class, fitter_class):
    model = model_class().fit(cdnow)
    fitter = fitter_class()
    fitter.params_ = model.params_.copy()
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    close(model.probability_alive(cdnow), fitter.conditional_probability_alive(x, t_x, T))
    for horizon in (1.0, 10.0, 39.0):
        close(
            model.expected_purchases(cdnow, horizon),
            fitter.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, T),
        )
    close(
        model.expected_purchases_new_customer([1.0, 39.0]),
        fitter.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0])),
    )
    # the fitted model converts back: lifetimes' params_ load directly
    again = model_class.from_params(fitter.params_)
    close(again.probability_alive(cdnow), model.probability_alive(cdnow))


def test_bgnbd_count_probability(cdnow):
    model = BetaGeoModel().fit(cdnow)
    fitter = BetaGeoFitter()
    fitter.params_ = model.params_.copy()
    for n, t in [(0, 39.0), (3, 20.0), (10, 2.0)]:
        assert model.probability_purchases_new_customer(n, t) == pytest.approx(
            fitter.probability_of_n_purchases_up_to_time(t, n), rel=RTOL
        )


def test_gamma_gamma_and_clv(cdnow, cdnow_repeat):
    transactions = BetaGeoModel().fit(cdnow)
    spend = GammaGammaModel().fit(cdnow_repeat)
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series(
        {"p": spend.params_["p"], "q": spend.params_["q"], "v": spend.params_["gamma"]}
    )
    close(
        spend.expected_spend(cdnow),
        fitter.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"]),
    )
    assert GammaGammaModel.from_params(fitter.params_).params_["gamma"] == spend.params_["gamma"]
    bg = BetaGeoFitter()
    bg.params_ = transactions.params_.copy()
    bg.predict = bg.conditional_expected_number_of_purchases_up_to_time  # set by lifetimes' fit
    theirs = fitter.customer_lifetime_value(
        bg,
        cdnow["frequency"],
        cdnow["recency"],
        cdnow["T"],
        cdnow["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    month = 4.345  # lifetimes' month, here only to reproduce its convention
    annual = 1.01 ** ((365.25 / 7) / month) - 1
    ours = transactions.customer_lifetime_value(
        cdnow, spend, horizon=12 * month, period=month, discount_rate=annual
    )
    close(ours, theirs)


def test_bgbb_predictions(donations):
    model = BetaGeoBetaBinomModel().fit(donations, sample_weight=donations["count"])
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = model.params_.copy()
    x, t_x, n = donations["frequency"], donations["recency"], donations["n_periods"]
    close(model.probability_alive(donations), fitter.conditional_probability_alive(0, x, t_x, n))
    close(
        model.expected_purchases(donations, 5),
        fitter.conditional_expected_number_of_purchases_up_to_time(5, x, t_x, n),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model_class", "fitter_class"),
    [(BetaGeoModel, BetaGeoFitter), (ModifiedBetaGeoModel, ModifiedBetaGeoFitter)],
)
def test_optimum_not_below_lifetimes(cdnow, model_class, fitter_class):
    model = model_class().fit(cdnow)
    fitter = fitter_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    theirs = model_class.from_params(fitter.params_).log_likelihood_rows(cdnow).sum()
    assert model.log_likelihood_ >= theirs - 1e-6


def test_gamma_gamma_optimum_not_below_lifetimes(cdnow_repeat):
    model = GammaGammaModel().fit(cdnow_repeat)
    fitter = GammaGammaFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(cdnow_repeat["frequency"], cdnow_repeat["monetary_value"])
    theirs = GammaGammaModel.from_params(fitter.params_).log_likelihood_rows(cdnow_repeat).sum()
    assert model.log_likelihood_ >= theirs - 1e-6
