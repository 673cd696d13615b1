"""sklearn contract, validation messages, persistence, invariants."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError, NotFittedError
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
)

ALL = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, BetaGeoBetaBinomModel, GammaGammaModel]


@pytest.mark.parametrize("model_class", ALL)
def test_sklearn_checks(model_class):
    name = model_class.__name__
    check_no_attributes_set_in_init(name, model_class())
    check_get_params_invariance(name, model_class())
    check_parameters_default_constructible(name, model_class())
    model = model_class(penalty=0.1)
    assert clone(model).get_params() == model.get_params()


def test_grid_search_over_penalty(cdnow):
    search = GridSearchCV(BetaGeoModel(), {"penalty": [0.0, 0.01]}, cv=3).fit(cdnow)
    assert search.best_params_["penalty"] in (0.0, 0.01)
    penalised = BetaGeoModel(penalty=0.01).fit(cdnow)
    plain = BetaGeoModel().fit(cdnow)
    assert penalised.log_likelihood_ < plain.log_likelihood_
    assert plain.score(cdnow) == pytest.approx(plain.log_likelihood_ / len(cdnow))


def test_weighted_rows_equal_exploded_rows(cdnow):
    head = cdnow.head(300)
    weights = np.arange(300) % 3 + 1
    exploded = head.loc[head.index.repeat(weights)]
    a = BetaGeoModel().fit(head, sample_weight=weights)
    b = BetaGeoModel().fit(exploded)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-5)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, abs=1e-6)


def test_rescaling_time_leaves_predictions_unchanged(cdnow):
    weeks = BetaGeoModel().fit(cdnow)
    days_table = cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7)
    days_table.attrs["time_unit"] = "D"
    days = BetaGeoModel().fit(days_table)
    np.testing.assert_allclose(days.params_["alpha"], weeks.params_["alpha"] * 7, rtol=1e-4)
    np.testing.assert_allclose(
        days.probability_alive(days_table), weeks.probability_alive(cdnow), rtol=1e-4
    )
    np.testing.assert_allclose(
        days.expected_purchases(days_table, 70), weeks.expected_purchases(cdnow, 10), rtol=1e-4
    )


def test_standard_errors_and_outputs_indexed_like_the_input(cdnow):
    model = BetaGeoModel(compute_standard_errors=True).fit(cdnow)
    assert (model.standard_errors_ > 0).all()
    alive = model.probability_alive(cdnow)
    assert alive.index.equals(cdnow.index) and alive.between(0, 1).all()
    churn = model.probability_no_purchase(cdnow, 39)
    assert churn.between(0, 1).all()
    assert not hasattr(BetaGeoModel().fit(cdnow), "standard_errors_")


def test_persistence_round_trip(tmp_path, cdnow):
    model = BetaGeoModel(compute_standard_errors=True).fit(cdnow)
    path = tmp_path / "model.json"
    model.save(path)
    state = json.loads(path.read_text())
    assert state["time_unit"] == "W" and state["n_customers"] == 2357
    loaded = BetaGeoModel.load(path)
    pd.testing.assert_series_equal(loaded.params_, model.params_)
    assert loaded.log_likelihood_ == model.log_likelihood_
    with pytest.raises(ModelLoadError, match="not a GammaGammaModel"):
        GammaGammaModel.load(path)
    with pytest.raises(ModelLoadError, match="Cannot read model file"):
        BetaGeoModel.load(tmp_path / "missing.json")
    with pytest.raises(ModelLoadError, match="invalid JSON"):
        BetaGeoModel.from_json("{")


def table(**columns):
    base = {
        "customer_id": [1041, 77, 9, 5],
        "frequency": [1, 2, 0, 3],
        "recency": [1.0, 2.0, 0.0, 3.0],
        "T": [5.0, 5.0, 5.0, 5.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (table(T=[0.5, 1.0, 5.0, 5.0]), r"2 customers have recency > T \(e.g. 1041, 77\)"),
        (
            table(frequency=[1.5, 2, 0, 3]),
            r"1 customer has a non-integer 'frequency' \(e.g. 1041\)",
        ),
        (
            table(recency=[1.0, 2.0, 1.0, 3.0]),
            r"1 customer has frequency 0 but recency != 0 \(e.g. 9\)",
        ),
        (
            table(T=[5.0, np.nan, np.inf, 5.0]),
            r"2 customers have a missing or infinite 'T' \(e.g. 77, 9\)",
        ),
        (table(recency=[-1.0, 2.0, 0.0, 3.0]), r"1 customer has negative 'recency' \(e.g. 1041\)"),
        (table().drop(columns=["T"]), r"missing column\(s\) 'T'"),
        (table().iloc[:0], "has no rows"),
        (table(T=["a", "b", "c", "d"]), "Column 'T' must be numeric"),
    ],
)
def test_invalid_tables(frame, message):
    with pytest.raises(InvalidDataError, match=message):
        BetaGeoModel().fit(frame)


def test_invalid_inputs_and_parameters(cdnow, cdnow_repeat):
    with pytest.raises(InvalidDataError, match="must be a pandas DataFrame"):
        BetaGeoModel().fit(np.zeros((3, 3)))
    with pytest.raises(InvalidDataError, match="1411 customers have frequency 0: the Gamma-Gamma"):
        GammaGammaModel().fit(cdnow)
    with pytest.raises(InvalidDataError, match="sample_weight has 2 values"):
        BetaGeoModel().fit(cdnow, sample_weight=[1, 2])
    with pytest.raises(
        InvalidParameterError,
        match=r"'penalty' parameter of BetaGeoModel must be a float in the range \[0, inf\). Got -1 instead",
    ):
        BetaGeoModel(penalty=-1).fit(cdnow)
    with pytest.raises(InvalidParameterError, match="'time_unit' parameter must be one of"):
        BetaGeoModel(time_unit="Q").fit(cdnow)
    with pytest.raises(
        InvalidDataError,
        match=r"in time unit 'W' \(attrs\['time_unit'\]\) but BetaGeoModel was given time_unit='D'",
    ):
        BetaGeoModel(time_unit="D").fit(cdnow)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaGeoModel().probability_alive(cdnow)
    with pytest.raises(InvalidParameterError, match="parameters must be exactly r, alpha, a, b"):
        BetaGeoModel.from_params({"r": 1.0})
    with pytest.raises(InvalidParameterError, match="finite and positive"):
        BetaGeoModel.from_params({"r": 1.0, "alpha": -1, "a": 1, "b": 1})
    with pytest.raises(InvalidDataError, match="recency > n_periods"):
        BetaGeoBetaBinomModel().fit(
            pd.DataFrame({"frequency": [1], "recency": [7], "n_periods": [6]})
        )
    model = BetaGeoModel().fit(cdnow)
    with pytest.raises(InvalidParameterError, match="'horizon' parameter of BetaGeoModel"):
        model.expected_purchases(cdnow, -1)
    with pytest.raises(InvalidParameterError, match="whole number of periods"):
        model.customer_lifetime_value(cdnow, 10.0, horizon=10, period=3)
    with pytest.raises(InvalidParameterError, match="'discounting' parameter"):
        model.customer_lifetime_value(cdnow, 10.0, horizon=10, discounting="yearly")
    with pytest.raises(InvalidParameterError, match="needs a positive discount_rate"):
        model.customer_lifetime_value(cdnow, 10.0, horizon=np.inf, discounting="continuous")
    days = cdnow.copy()
    days.attrs["time_unit"] = "D"
    with pytest.raises(InvalidDataError, match="in time unit 'D' but the model was fitted in 'W'"):
        model.probability_alive(days)
    with pytest.raises(InvalidParameterError, match="q <= 1"):
        GammaGammaModel.from_params({"p": 1, "q": 0.5, "gamma": 1}).expected_spend(cdnow_repeat)


def test_clv_conventions(cdnow, cdnow_repeat):
    model = BetaGeoModel().fit(cdnow)
    spend = GammaGammaModel().fit(cdnow_repeat)
    undiscounted = model.customer_lifetime_value(cdnow, spend, horizon=52, discounting="continuous")
    expected = model.expected_purchases(cdnow, 52) * spend.expected_spend(cdnow)
    np.testing.assert_allclose(undiscounted, expected, rtol=1e-10)
    discrete = customer_lifetime_value(
        model, spend, cdnow, horizon=52, discount_rate=0.1, margin=0.3
    )
    continuous = customer_lifetime_value(
        model, spend, cdnow, horizon=52, discount_rate=0.1, margin=0.3, discounting="continuous"
    )
    assert (discrete <= 0.3 * expected + 1e-12).all()
    np.testing.assert_allclose(discrete, continuous, rtol=2e-3)
    pareto = ParetoNBDModel().fit(cdnow)
    infinite = pareto.customer_lifetime_value(
        cdnow, 1.0, horizon=np.inf, discounting="continuous", discount_rate=0.15
    )
    long = pareto.customer_lifetime_value(
        cdnow, 1.0, horizon=52 * 300, discounting="continuous", discount_rate=0.15
    )
    np.testing.assert_allclose(infinite, long, rtol=1e-6)
