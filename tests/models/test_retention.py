"""Retention what-if: the scenario formulas against customers simulated with lower dropout."""

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow, load_donations
from clv.errors import InvalidDataError, InvalidParameterError
from clv.features import rfm_summary
from clv.models import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel
from clv.models.beta_geo_beta_binom import BetaGeoBetaBinomModel
from clv.models.retention import retention_what_if, scenario_model

N = 40_000
HORIZON = 39.0
REDUCTION = 0.5


def _simulate_bgnbd_future(params, keep, seed, extra_death_at_first=False):
    rng = np.random.default_rng(seed)
    r, alpha, a, b = params
    rate = rng.gamma(r, 1.0 / alpha, N)
    p = rng.beta(a, b, N)
    lengths = rng.uniform(20.0, 40.0, N)
    alive = np.ones(N, dtype=bool)
    if extra_death_at_first:  # MBG/NBD: may drop out at the first purchase too
        alive &= rng.random(N) >= p
    x = np.zeros(N)
    t_x = np.zeros(N)
    clock = np.zeros(N)
    running = alive.copy()
    while running.any():
        clock[running] += rng.exponential(1.0 / rate[running])
        bought = running & (clock < lengths)
        x[bought] += 1
        t_x[bought] = clock[bought]
        died = bought & (rng.random(N) < p)
        alive &= ~died
        running = bought & ~died
    future = np.zeros(N)
    clock = lengths.copy()
    running = alive.copy()
    while running.any():
        clock[running] += rng.exponential(1.0 / rate[running])
        bought = running & (clock < lengths + HORIZON)
        future[bought] += 1
        running = bought & (rng.random(N) >= keep * p)
    table = pd.DataFrame({"frequency": x, "recency": t_x, "T": lengths})
    return table, future


def _simulate_pareto_future(params, keep, seed):
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = params
    rate = rng.gamma(r, 1.0 / alpha, N)
    mu = rng.gamma(s, 1.0 / beta, N)
    lengths = rng.uniform(20.0, 40.0, N)
    lifetime = rng.exponential(1.0 / mu)
    observed = np.minimum(lifetime, lengths)
    x = rng.poisson(rate * observed).astype(float)
    t_x = np.where(x > 0, observed * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    alive = lifetime > lengths
    residual = rng.exponential(1.0 / (keep * mu))  # memoryless: the scenario from T on
    future = np.where(alive, rng.poisson(rate * np.minimum(residual, HORIZON)), 0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": lengths}), future


CASES = [
    (BetaGeoModel, {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}, "bg"),
    (ModifiedBetaGeoModel, {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}, "mbg"),
    (ParetoNBDModel, {"r": 0.6, "alpha": 5.0, "s": 0.8, "beta": 15.0}, "pareto"),
]


@pytest.mark.parametrize(("model_class", "params", "kind"), CASES)
def test_scenario_matches_customers_simulated_with_lower_dropout(model_class, params, kind):
    keep = 1.0 - REDUCTION
    values = np.array(list(params.values()))
    if kind == "pareto":
        table, future = _simulate_pareto_future(values, keep, seed=7)
    else:
        table, future = _simulate_bgnbd_future(values, keep, 7, extra_death_at_first=kind == "mbg")
    model = model_class.from_params(params, time_unit="W")
    scenario = scenario_model(model, REDUCTION)
    data, _ = model._prediction_table(table)
    predicted = scenario._expected_purchases_curve(model.params_.to_numpy(), data, [HORIZON])[:, 0]
    unchanged = model.expected_purchases(table, HORIZON).to_numpy()
    error = future.std() / np.sqrt(N)
    # the scenario's total equals what customers with the lower dropout did ...
    assert abs(predicted.mean() - future.mean()) < 4 * error
    # ... and the test can tell: the unchanged model misses it by far more
    assert abs(unchanged.mean() - future.mean()) > 6 * error


@pytest.mark.parametrize(("model_class", "params", "kind"), CASES)
def test_no_reduction_is_the_model_itself(model_class, params, kind):
    customers = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    model = model_class().fit(customers)
    result = retention_what_if(model, 30.0, customers, reduction=0.0, horizon=39, discount_rate=0.1)
    assert np.allclose(result.customers["clv_scenario"], result.customers["clv"], rtol=1e-9)
    assert result.total_gain == pytest.approx(0.0, abs=1e-6)


def test_bgbb_no_reduction_is_the_model_and_reduction_raises_value():
    donations = load_donations()
    model = BetaGeoBetaBinomModel().fit(
        donations[["frequency", "recency", "n_periods"]], sample_weight=donations["count"]
    )
    table = donations[["frequency", "recency", "n_periods"]]
    same = retention_what_if(model, 1.0, table, reduction=0.0, horizon=5)
    assert np.allclose(same.customers["clv_scenario"], same.customers["clv"], rtol=1e-9)
    more = retention_what_if(model, 1.0, table, reduction=0.3, horizon=5)
    assert (more.customers["gain"] >= -1e-12).all() and more.total_gain > 0


def test_targeted_segment_only_and_summed_per_segment():
    customers = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    customers.index = customers["customer_id"].astype(str) + "-c"
    model = ParetoNBDModel().fit(customers)
    segments = pd.Series(
        np.where(customers["frequency"] > 2, "loyal", "other"), index=customers.index
    ).sample(frac=1.0, random_state=0)  # shuffled: aligned by index, not position
    result = retention_what_if(
        model, 25.0, customers, reduction=0.2, horizon=52, segments=segments, target="loyal"
    )
    loyal = segments.reindex(customers.index) == "loyal"
    assert (result.customers.loc[~loyal, "gain"] == 0).all()
    assert (result.customers.loc[loyal, "gain"] > 0).all()
    assert result.by_segment.loc["other", "gain"] == 0
    assert result.by_segment["gain"].sum() == pytest.approx(result.total_gain)
    assert result.by_segment.loc["loyal", "targeted"] == loyal.sum()


def test_bad_arguments_are_named():
    customers = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    model = BetaGeoModel().fit(customers)
    with pytest.raises(InvalidParameterError, match="'reduction'.*\\[0, 1\\)"):
        retention_what_if(model, 1.0, customers, reduction=1.0, horizon=10)
    with pytest.raises(InvalidParameterError, match="needs the 'segments'"):
        retention_what_if(model, 1.0, customers, reduction=0.1, horizon=10, target="x")
    with pytest.raises(InvalidDataError, match="one label per customer"):
        retention_what_if(
            model, 1.0, customers, reduction=0.1, horizon=10, segments=pd.Series(["a"])
        )


def test_heavy_buyers_stay_finite():
    # b + x in the thousands overflowed scipy's Gauss-Jacobi weights (NaN)
    model = BetaGeoModel.from_params({"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}, time_unit="W")
    table = pd.DataFrame({"frequency": [3000.0, 5.0], "recency": [50.0, 20.0], "T": [52.0, 52.0]})
    result = retention_what_if(model, 10.0, table, reduction=0.3, horizon=52)
    assert np.isfinite(result.customers.to_numpy(dtype=float)).all()
    assert (result.customers["gain"] >= 0).all()
