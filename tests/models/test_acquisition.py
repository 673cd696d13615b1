"""New-customer value: the formula against a simulated cohort of new customers."""

import math

import numpy as np
import pandas as pd
import pytest

from clv._validation import units_per_year
from clv.datasets import load_cdnow
from clv.errors import InvalidParameterError
from clv.features import rfm_summary
from clv.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from clv.models.acquisition import (
    new_customer_value,
    new_customer_value_by_group,
    new_customer_value_curve,
    payback_time,
)

N = 60_000
HORIZON = 52.0
RATE = 0.40
MARGIN = 0.3
SPEND = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def _purchase_times_bgnbd(rng, params):
    r, alpha, a, b = params.values()
    rate = rng.gamma(r, 1.0 / alpha, N)
    p = rng.beta(a, b, N)
    times, owners = [], []
    clock = np.zeros(N)
    running = np.ones(N, dtype=bool)
    while running.any():
        clock[running] += rng.exponential(1.0 / rate[running])
        bought = running & (clock < HORIZON)
        times.append(clock[bought])
        owners.append(np.flatnonzero(bought))
        running = bought & (rng.random(N) >= p)
    return np.concatenate(times), np.concatenate(owners)


def _purchase_times_pareto(rng, params):
    r, alpha, s, beta = params.values()
    rate = rng.gamma(r, 1.0 / alpha, N)
    lifetime = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, N))
    counts = rng.poisson(rate * np.minimum(lifetime, HORIZON))
    owners = np.repeat(np.arange(N), counts)
    times = rng.uniform(0.0, np.minimum(lifetime, HORIZON)[owners])
    return times, owners


@pytest.mark.parametrize(
    ("model_class", "params", "simulate"),
    [
        (BetaGeoModel, {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}, _purchase_times_bgnbd),
        (ParetoNBDModel, {"r": 0.6, "alpha": 5.0, "s": 0.8, "beta": 15.0}, _purchase_times_pareto),
    ],
)
def test_new_customer_value_equals_a_simulated_cohort(model_class, params, simulate):
    rng = np.random.default_rng(3)
    times, owners = simulate(rng, params)
    nu = rng.gamma(SPEND["q"], 1.0 / SPEND["gamma"], N)
    per_period = (1 + RATE) ** (1 / units_per_year("W")) - 1
    # every purchase: the first at time 0 (undiscounted), repeats in weekly periods
    first = rng.gamma(SPEND["p"], 1.0 / nu)
    repeat = rng.gamma(SPEND["p"], 1.0 / nu[owners]) * (1 + per_period) ** -np.ceil(times)
    realised = MARGIN * (first + np.bincount(owners, weights=repeat, minlength=N))

    model = model_class.from_params(params, time_unit="W")
    spend = GammaGammaModel.from_params(SPEND)
    value = new_customer_value(
        model, spend, horizon=HORIZON, margin=MARGIN, discount_rate=RATE, time_unit="W"
    )
    error = realised.std() / math.sqrt(N)
    assert abs(value - realised.mean()) < 4 * error
    # the test can tell a wrong formula: without discounting the value is clearly higher
    undiscounted = new_customer_value(model, spend, horizon=HORIZON, margin=MARGIN)
    assert undiscounted - realised.mean() > 8 * error


def test_curve_payback_and_first_purchase():
    model = BetaGeoModel.from_params({"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}, time_unit="W")
    curve = new_customer_value_curve(model, 20.0, horizon=52, step=4, margin=0.5)
    assert curve.index.tolist() == [4.0 * k for k in range(14)]
    assert (np.diff(curve.to_numpy()) > 0).all()
    assert curve.iloc[0] == 10.0  # the first purchase (0.5 x 20) at acquisition
    assert payback_time(curve, 10.0) == 0.0
    expected = 0.5 * 20.0 * (1 + model.expected_purchases_new_customer(52.0))
    assert curve.iloc[-1] == pytest.approx(expected, rel=1e-10)
    cost = float(curve.iloc[5])
    assert payback_time(curve, cost) == 20.0
    assert payback_time(curve, curve.iloc[-1] * 2) == math.inf
    without = new_customer_value(model, 20.0, horizon=52, margin=0.5, include_first_purchase=False)
    assert without == pytest.approx(curve.iloc[-1] - 10.0)
    with pytest.raises(InvalidParameterError, match="whole number of steps"):
        new_customer_value_curve(model, 20.0, horizon=10, step=4)
    with pytest.raises(InvalidParameterError, match="acquisition_cost"):
        payback_time(curve, -1)


def test_by_group_refits_each_group():
    customers = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    groups = pd.Series(np.where(customers["customer_id"] % 2 == 0, "even", "odd"))
    groups.index = customers.index
    groups.iloc[:5] = "tiny"
    table = new_customer_value_by_group(
        BetaGeoModel(), GammaGammaModel(), customers, groups, horizon=52, min_customers=100
    )
    assert table.loc["tiny", "note"] == "fewer than 100 customers"
    assert math.isnan(table.loc["tiny", "value"])
    assert table.loc[["even", "odd"], "value"].gt(0).all()
    assert table["customers"].sum() == len(customers)
