"""Fits on the edge of the parameter space still give finite, sensible predictions."""

import warnings

import numpy as np
import pytest

from clv.datasets import load_cdnow
from clv.features import rfm_summary
from clv.models import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel
from clv.models._beta_geo_math import expected_purchases_given_alive


@pytest.fixture(scope="module")
def transactions():
    return load_cdnow()


@pytest.fixture(scope="module")
def short_history(transactions):
    # eight weeks of CDNOW: BG/NBD's a and b go to 0 (no dropout seen yet)
    return rfm_summary(transactions, observation_end="1997-02-25", time_unit="W")


def test_quadrature_equals_closed_form_at_the_cdnow_optimum(transactions):
    table = rfm_summary(transactions, observation_end="1997-09-30", time_unit="W")
    model = BetaGeoModel().fit(table)
    closed = model.expected_purchases(table, 39) / model.probability_alive(table)
    quadrature = expected_purchases_given_alive(
        model.params_.to_numpy(), table["frequency"].to_numpy(), table["T"].to_numpy(), 39.0
    )
    np.testing.assert_allclose(quadrature, closed.to_numpy(), rtol=1e-10)


def test_bg_nbd_on_the_boundary_has_no_nan_and_is_continuous(short_history):
    model = BetaGeoModel().fit(short_history)
    assert model.params_["a"] < 1e-4 and model.params_["b"] < 1e-4  # the case under test
    expected = model.expected_purchases(short_history, 39)
    assert np.isfinite(expected).all() and (expected > 0).all()
    assert np.isfinite(model.expected_purchases_new_customer(np.array([1.0, 39.0]))).all()
    nearby = BetaGeoModel.from_params(
        {**model.params_.to_dict(), "a": model.params_["a"] * 1e4, "b": model.params_["b"] * 1e4}
    )
    np.testing.assert_allclose(nearby.expected_purchases(short_history, 39), expected, rtol=1e-2)


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
@pytest.mark.parametrize("end", ["1997-01-10", "1997-02-25"])
def test_short_histories_give_finite_probabilities(transactions, model_class, end):
    table = rfm_summary(transactions, observation_end=end, time_unit="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # precision warnings on the boundary are expected
        model = model_class().fit(table)
    for values in (
        model.expected_purchases(table, 39),
        model.probability_alive(table),
        model.probability_no_purchase(table, 39),
    ):
        assert np.isfinite(values).all()
    alive = model.probability_alive(table)
    assert ((alive >= 0) & (alive <= 1)).all()
