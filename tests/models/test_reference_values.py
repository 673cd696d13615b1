"""Published values (REFERENCE.md) reproduced."""

import numpy as np
import pandas as pd
import pytest

from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)


def sig3(values, expected):
    np.testing.assert_allclose(values, expected, rtol=5e-3)


def test_bgnbd_cdnow(cdnow):
    model = BetaGeoModel().fit(cdnow)
    sig3(model.params_.to_numpy(), [0.2425945, 4.4136019, 0.7929199, 2.4258881])
    assert model.log_likelihood_ == pytest.approx(-9582.429, abs=0.05)
    assert list(model.params_.index) == ["r", "alpha", "a", "b"]
    assert model.n_customers_ == 2357
    np.testing.assert_allclose(
        model.expected_purchases_new_customer([1, 3, 32, 78]),
        [0.0532, 0.1506, 1.0437, 1.8576],
        rtol=5e-4,
    )
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert model.expected_purchases(one, 39).iloc[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_count_probabilities_at_published_rounded_parameters():
    # the published probabilities were computed at the rounded parameters
    model = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert model.probability_purchases_new_customer(0, 39) == pytest.approx(0.5737864, rel=1e-6)
    assert model.probability_purchases_new_customer(10, 2) == pytest.approx(1.07869e-07, rel=1e-4)
    brand_new = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    assert model.probability_no_purchase(brand_new, 39).iloc[0] == pytest.approx(
        0.5737864, rel=1e-6
    )


def test_mbgnbd_cdnow(cdnow):
    model = ModifiedBetaGeoModel().fit(cdnow)
    sig3(model.params_.to_numpy(), [0.525, 6.183, 0.891, 1.614])
    assert model.log_likelihood_ == pytest.approx(-9582.13, abs=0.05)


def test_pareto_nbd_cdnow(cdnow):
    model = ParetoNBDModel().fit(cdnow)
    sig3(model.params_[["r", "alpha", "s"]].to_numpy(), [0.55315, 10.57633, 0.60625])
    assert abs(model.params_["beta"] - 11.6715) < 0.02 + 11.67 * 5e-3
    assert model.log_likelihood_ == pytest.approx(-9594.976, abs=0.05)


def test_gamma_gamma_cdnow(cdnow_repeat):
    model = GammaGammaModel().fit(cdnow_repeat)
    assert len(cdnow_repeat) == 946
    sig3(model.params_.to_numpy(), [6.2488, 3.7446, 15.4477])
    assert model.log_likelihood_ == pytest.approx(-4055.92, abs=0.05)
    assert model.population_mean_spend() == pytest.approx(35.17, abs=0.01)


def test_bgbb_donations(donations):
    model = BetaGeoBetaBinomModel().fit(donations, sample_weight=donations["count"])
    sig3(model.params_.to_numpy(), [1.204, 0.750, 0.657, 2.783])
    assert model.log_likelihood_ == pytest.approx(-33225.58, abs=0.05)
    assert model.n_customers_ == 11104
