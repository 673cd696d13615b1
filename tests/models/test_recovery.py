"""Parameters recovered from simulated customers within a few standard errors."""

import numpy as np
import pandas as pd
import pytest

from clv.datasets.simulate import (
    simulate_beta_geo,
    simulate_beta_geo_beta_binom,
    simulate_gamma_gamma,
    simulate_modified_beta_geo,
    simulate_pareto_nbd,
)
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)

CASES = [
    (simulate_beta_geo, BetaGeoModel, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    (
        simulate_modified_beta_geo,
        ModifiedBetaGeoModel,
        {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    ),
    (
        simulate_pareto_nbd,
        ParetoNBDModel,
        {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    ),
]


def within(model, truth, n_se=4.0):
    z = (model.params_ - pd.Series(truth)) / model.standard_errors_
    assert (z.abs() < n_se).all(), z


@pytest.mark.slow
@pytest.mark.parametrize(("simulate", "model_class", "truth"), CASES)
def test_continuous_time_recovery(simulate, model_class, truth):
    table = simulate(truth, 300_000, T=(27.0, 39.0), random_state=7)
    within(model_class(compute_standard_errors=True).fit(table), truth)


def test_bgbb_recovery():
    truth = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    table = simulate_beta_geo_beta_binom(truth, 300_000, random_state=7)
    within(BetaGeoBetaBinomModel(compute_standard_errors=True).fit(table), truth)


def test_gamma_gamma_recovery():
    truth = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    frequency = np.random.default_rng(3).integers(1, 10, 300_000)
    table = pd.DataFrame(
        {
            "frequency": frequency,
            "monetary_value": simulate_gamma_gamma(truth, frequency, random_state=7),
        }
    )
    within(GammaGammaModel(compute_standard_errors=True).fit(table), truth)


def test_day_resolution_simulation_shape():
    table = simulate_beta_geo(
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        5000,
        T=(27.0, 39.0),
        resolution=1 / 7,
        random_state=1,
    )
    assert (table["recency"] <= table["T"]).all()
    for column in ("T", "recency"):
        days = table[column].to_numpy() * 7
        np.testing.assert_allclose(days, np.round(days), atol=1e-6)
    assert ((table["frequency"] > 0) | (table["recency"] == 0)).all()
