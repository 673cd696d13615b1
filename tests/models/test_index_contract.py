"""The index contract: every prediction keeps the index of its input, row for row.

``table[column] = model.method(table)`` must put every customer's own value on its
row, whatever the table's index. Each test shuffles a customer table and gives it an
index that is itself a permutation of the customer ids (the worst case: an output
keyed by ``customer_id`` would align with the wrong rows without any error), assigns
the predictions back with that idiom and checks every row against the value the same
model gives that customer in the unshuffled table, and a few rows against one-row
predictions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clv.errors import PrecisionWarning
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
)
from clv.models.baseline import SimpleCLVModel
from clv.models.retention import retention_what_if
from clv.models.segments import SegmentRules
from tests.alignment import check_assigned_back, shuffled

FAST = {"n_estimators": 20, "n_cutoffs": 2, "n_jobs": 1}  # boosted kinds: the path, not skill


@pytest.fixture(scope="module")
def customers(cdnow):
    return cdnow.iloc[:600].reset_index(drop=True)  # 600 CDNOW customers, weeks


@pytest.fixture(scope="module")
def spend_model(cdnow_repeat):
    return GammaGammaModel().fit(cdnow_repeat)


TRANSACTION_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]
METHODS = {
    "expected_purchases": lambda m: lambda X: m.expected_purchases(X, 10),
    "probability_alive": lambda m: m.probability_alive,
    "probability_no_purchase": lambda m: lambda X: m.probability_no_purchase(X, 10),
    "expected_purchases_curve": lambda m: lambda X: m.expected_purchases_curve(X, [5, 10])[10.0],
    "log_likelihood_rows": lambda m: m.log_likelihood_rows,
    "probability_of_n_purchases": lambda m: lambda X: m.probability_of_n_purchases(X, 10, 1),
    "probability_alive_later": lambda m: lambda X: m.probability_alive(X, horizon=4),
    "purchases_interval": lambda m: lambda X: m.purchases_interval(X, 10)["purchases_upper"],
    "retention_what_if": lambda m: (
        lambda X: retention_what_if(m, 30.0, X, reduction=0.2, horizon=10).customers["clv_scenario"]
    ),
}


@pytest.mark.parametrize("cls", TRANSACTION_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method", list(METHODS))
def test_transaction_model_predictions_assign_back(cdnow, customers, cls, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        model = cls().fit(cdnow)
    check_assigned_back(customers, METHODS[method](model), method)


@pytest.mark.parametrize("cls", TRANSACTION_MODELS, ids=lambda c: c.__name__)
def test_customer_lifetime_value_assigns_back(cdnow, customers, spend_model, cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        model = cls().fit(cdnow)
    check_assigned_back(
        customers,
        lambda X: customer_lifetime_value(model, spend_model, X, horizon=52, discount_rate=0.1),
        "clv",
    )
    check_assigned_back(
        customers,
        lambda X: model.customer_lifetime_value(
            X, spend_model, horizon=26, discounting="continuous", discount_rate=0.1
        ),
        "clv",
    )


def test_gamma_gamma_expected_spend_assigns_back(customers, spend_model):
    check_assigned_back(customers, spend_model.expected_spend, "expected_spend")


def test_bg_bb_predictions_assign_back(donations):
    model = BetaGeoBetaBinomModel().fit(donations, sample_weight=donations["count"])
    table = donations.assign(customer_id=[f"d{k}" for k in range(len(donations))])
    for method, predict in METHODS.items():
        if method != "expected_purchases_curve":
            check_assigned_back(table, predict(model), method)
    check_assigned_back(table, lambda X: customer_lifetime_value(model, 25.0, X, horizon=5), "clv")


@pytest.mark.parametrize(
    "method",
    [
        "purchase_rate",
        "expected_purchases",
        "probability_alive",
        "probability_no_purchase",
        "expected_spend",
        "customer_lifetime_value",
    ],
)
def test_baseline_predictions_assign_back(cdnow, customers, method):
    model = SimpleCLVModel().fit(cdnow)
    calls = {
        "purchase_rate": model.purchase_rate,
        "expected_purchases": lambda X: model.expected_purchases(X, 10),
        "probability_alive": model.probability_alive,
        "probability_no_purchase": lambda X: model.probability_no_purchase(X, 10),
        "expected_spend": model.expected_spend,
        "customer_lifetime_value": lambda X: model.customer_lifetime_value(
            X, horizon=52, discount_rate=0.1
        ),
    }
    check_assigned_back(customers, calls[method], method)


def test_segments_assign_back(cdnow, customers, spend_model):
    model = BetaGeoModel().fit(cdnow)

    def predictions(X):
        return X.assign(
            clv=customer_lifetime_value(model, spend_model, X, horizon=52),
            churn_probability=model.probability_no_purchase(X, 52),
        )

    rules = SegmentRules().fit(predictions(customers))
    check_assigned_back(customers, lambda X: rules.assign(predictions(X)), "segment")
    # fit_assign's thresholds depend on the population: no one-row comparison
    check_assigned_back(
        customers,
        lambda X: SegmentRules().fit_assign(predictions(X)),
        "segment",
        single_rows=False,
    )


# ---------------------------------------------------------------------------------------
# boosted models and every candidate kind
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    pytest.importorskip("xgboost")
    from clv.features.behaviour import customer_features
    from tests.models._simulate import AS_OF, simulate

    log, attributes = simulate(300, signal=True, seed=5)
    features = customer_features(log, as_of=AS_OF, time_unit="W", attributes=attributes)
    return log, attributes, features


def test_boosted_models_assign_back(simulated):
    from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

    _, _, features = simulated
    rng = np.random.default_rng(0)
    spend = rng.gamma(1.0, 50.0, len(features)) * (features["frequency"].to_numpy() > 0)
    churned = (features["recency"].to_numpy() < features["T"].to_numpy() / 2).astype(int)
    spend_model = BoostedSpendModel(n_estimators=20, n_jobs=1).fit(features, spend)
    churn_model = BoostedChurnModel(n_estimators=20, n_jobs=1).fit(features, churned)
    check_assigned_back(features, spend_model.predict, "spend")
    check_assigned_back(features, churn_model.churn_probability, "churn")


@pytest.mark.parametrize(
    "kind", ["baseline", "bg_nbd", "mbg_nbd", "pareto_nbd", "boosted", "hybrid"]
)
def test_every_candidate_assigns_back(simulated, kind):
    from clv.candidates import KINDS, PREDICTION_COLUMNS, make_candidate
    from tests.models._simulate import AS_OF

    assert kind in KINDS
    log, attributes, features = simulated
    boosted = kind in ("boosted", "hybrid")
    candidate = make_candidate(kind, **(FAST if boosted else {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        candidate.fit_transactions(
            log, as_of=AS_OF, time_unit="W", **({"attributes": attributes} if boosted else {})
        )
    for column in PREDICTION_COLUMNS:
        check_assigned_back(
            features,
            lambda X, column=column: candidate.predict(X, horizon=26, discount_rate=0.1)[column],
            column,
        )
    mixed = shuffled(features)  # the whole prediction table joins back as well
    joined = mixed.join(candidate.predict(mixed, horizon=26))
    reference = candidate.predict(features, horizon=26).set_axis(features["customer_id"])
    np.testing.assert_allclose(
        joined[list(PREDICTION_COLUMNS)].to_numpy(),
        reference.loc[mixed["customer_id"]].to_numpy(),
        rtol=1e-9,
        atol=1e-12,
    )
