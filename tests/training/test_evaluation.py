import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from clv.errors import InvalidDataError
from clv.features import calibration_holdout_split
from clv.metrics import (
    auc,
    brier,
    calibration_of_totals,
    decile_mape,
    mae,
    normalized_gini,
    prediction_buckets,
    rmse,
    spearman,
)
from clv.training.evaluation import (
    ACTUAL_COLUMNS,
    METRIC_NAMES,
    evaluate_predictions,
    holdout_actuals,
)


def test_mae_and_rmse_by_hand():
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert rmse([1, 2, 3], [2, 2, 5]) == pytest.approx(math.sqrt(5 / 3))
    assert mae([0, 0], [0, 0]) == 0.0


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        # actual [10, 0, 5, 0]: perfect order 10, 5, 0, 0 -> L = [2/3, 1, 1, 1],
        # G = 3.6667 / 4 - 5/8 = 0.29167
        ([4, 1, 3, 0], 1.0),
        # order 10, 0, 5, 0 -> L = [2/3, 2/3, 1, 1], G = 0.20833
        ([3, 2.5, 1, 0], 5 / 7),
        # order 0, 0, 5, 10 -> L = [0, 0, 1/3, 1], G = -0.29167
        ([0, 1, 0.5, 2], -1.0),
        # ties {10, 0} and {5, 0} share their means: [5, 5, 2.5, 2.5] -> G = 0.08333
        ([1, 1, 0, 0], 2 / 7),
        # a constant ranking is no ranking
        ([7, 7, 7, 7], 0.0),
    ],
)
def test_normalized_gini_by_hand(predicted, expected):
    assert normalized_gini([10, 0, 5, 0], predicted) == pytest.approx(expected)


def test_normalized_gini_ties_do_not_depend_on_input_order():
    rng = np.random.default_rng(0)
    actual = rng.gamma(1.0, 10.0, 200) * (rng.random(200) < 0.3)
    predicted = np.round(actual + rng.normal(0, 5, 200), -1)  # many ties
    order = rng.permutation(200)
    assert normalized_gini(actual, predicted) == pytest.approx(
        normalized_gini(actual[order], predicted[order]), abs=1e-12
    )


def test_normalized_gini_undefined_without_variation():
    assert math.isnan(normalized_gini([0, 0, 0], [1, 2, 3]))
    assert math.isnan(normalized_gini([5, 5, 5], [1, 2, 3]))
    assert math.isnan(normalized_gini([3.0], [1.0]))


def test_spearman_matches_scipy_and_handles_constants():
    rng = np.random.default_rng(1)
    a, p = rng.integers(0, 5, 50), rng.normal(size=50)
    assert spearman(a, p) == pytest.approx(spearmanr(a, p).statistic)
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))
    assert math.isnan(spearman([0, 0, 0], [1, 2, 3]))


def test_prediction_buckets():
    assert prediction_buckets(np.arange(20.0)).tolist() == list(np.repeat(np.arange(10), 2))
    assert len(set(prediction_buckets(np.ones(30)).tolist())) == 1
    # tied predictions always share a bucket
    buckets = prediction_buckets([0, 0, 0, 1, 2])
    assert buckets[0] == buckets[1] == buckets[2]


def test_decile_mape_by_hand():
    actual = np.arange(1.0, 11.0)
    assert decile_mape(actual, 2 * actual) == pytest.approx(1.0)
    assert decile_mape(actual, actual) == 0.0
    # a bucket with mean actual 0: exact when predicted 0, left out otherwise
    actual0 = np.concatenate(([0.0], np.arange(1.0, 10.0)))
    assert decile_mape(actual0, np.concatenate(([0.0], 2 * actual0[1:]))) == pytest.approx(0.9)
    assert decile_mape(actual0, np.concatenate(([0.5], 2 * actual0[1:]))) == pytest.approx(1.0)


def test_decile_mape_edge_cases():
    # constant prediction: one bucket, |c - mean| / mean
    assert decile_mape([0, 2, 4, 6], [1, 1, 1, 1]) == pytest.approx(2 / 3)
    # all-zero actuals: nothing to divide by
    assert math.isnan(decile_mape([0, 0, 0], [1, 2, 3]))
    assert decile_mape([0, 0, 0], [0, 0, 0]) == 0.0


def test_auc_and_brier_by_hand():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auc([False, True], [0.3, 0.3]) == pytest.approx(0.5)
    assert math.isnan(auc([1, 1, 1], [0.2, 0.5, 0.9]))
    assert brier([0, 1], [0.2, 0.6]) == pytest.approx(0.1)
    assert brier([True, False], [0.5, 0.5]) == pytest.approx(0.25)


def test_calibration_of_totals():
    assert calibration_of_totals([1, 2, 3], [2, 2, 2]) == pytest.approx(1.0)
    assert calibration_of_totals([1, 1], [0, 0]) == 0.0
    assert calibration_of_totals([0, 0], [0, 0]) == 1.0
    assert calibration_of_totals([0, 0], [1, 0]) == math.inf


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mae([1, 2], [1]), "same length; got 2 and 1"),
        (lambda: rmse([], []), "empty"),
        (lambda: mae([1, np.nan], [1, 2]), "'actual' has 1 missing or infinite"),
        (lambda: mae(["a"], [1]), "'actual' must be numeric"),
        (lambda: normalized_gini([-1, 2], [1, 2]), "'actual' has 1 negative value"),
        (lambda: brier([0, 1], [0.5, 1.5]), "outside \\[0, 1\\]"),
        (lambda: auc([0, 2], [0.5, 0.5]), "only 0/1"),
        (
            lambda: mae(pd.Series([1, 2], index=[1, 2]), pd.Series([1, 2], index=[2, 1])),
            "different indexes",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(InvalidDataError, match=match):
        call()


def _actuals():
    return pd.DataFrame(
        {
            "holdout_purchases": [2.0, 0.0, 1.0, 0.0],
            "holdout_spend": [10.0, 0.0, 5.0, 0.0],
            "churned": [False, True, False, True],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def _predictions():
    return pd.DataFrame(
        {
            "expected_purchases": [1.5, 0.5, 1.0, 0.0],
            "probability_alive": [0.9, 0.4, 0.8, 0.1],
            "churn_probability": [0.1, 0.6, 0.3, 0.9],
            "expected_spend": [3.0, 2.5, 1.0, 0.0],
            "clv": [3.0, 2.5, 1.0, 0.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def test_evaluate_predictions_names_and_values():
    metrics = evaluate_predictions(_predictions(), _actuals())
    assert list(metrics) == list(METRIC_NAMES)
    assert metrics["holdout_mae_purchases"] == pytest.approx(0.25)
    assert metrics["holdout_mae_spend"] == pytest.approx((7 + 2.5 + 4) / 4)
    assert metrics["holdout_gini_spend"] == pytest.approx(5 / 7)
    assert metrics["holdout_auc_churn"] == pytest.approx(1.0)
    assert metrics["holdout_brier_churn"] == pytest.approx((0.01 + 0.16 + 0.09 + 0.01) / 4)
    assert metrics["holdout_total_spend_ratio"] == pytest.approx(6.5 / 15)
    assert metrics["holdout_total_purchases_ratio"] == pytest.approx(1.0)


def test_evaluate_predictions_aligns_by_customer_and_ignores_extras():
    shuffled = _predictions().iloc[[3, 1, 0, 2]]
    extra = pd.concat(
        [shuffled, _predictions().iloc[[0]].set_axis(pd.Index(["z"], name="customer_id"))]
    )
    assert evaluate_predictions(extra, _actuals()) == evaluate_predictions(
        _predictions(), _actuals()
    )


def test_evaluate_predictions_constant_and_zero():
    actuals = _actuals()
    zero = _predictions() * 0.0
    metrics = evaluate_predictions(zero, actuals)
    assert metrics["holdout_gini_spend"] == 0.0
    assert metrics["holdout_total_spend_ratio"] == 0.0
    assert metrics["holdout_auc_churn"] == pytest.approx(0.5)
    quiet = actuals.assign(holdout_purchases=0.0, holdout_spend=0.0, churned=True)
    metrics = evaluate_predictions(_predictions(), quiet)
    assert math.isnan(metrics["holdout_gini_spend"])
    assert math.isnan(metrics["holdout_auc_churn"])
    assert metrics["holdout_total_spend_ratio"] == math.inf


def test_evaluate_predictions_errors():
    with pytest.raises(InvalidDataError, match="1 customers of the holdout have no prediction"):
        evaluate_predictions(_predictions().iloc[:3], _actuals())
    with pytest.raises(
        InvalidDataError, match="'predictions' is missing column\\(s\\) 'expected_spend'"
    ):
        evaluate_predictions(_predictions().drop(columns="expected_spend"), _actuals())
    with pytest.raises(InvalidDataError, match="'actuals' is missing column"):
        evaluate_predictions(_predictions(), _actuals().drop(columns="churned"))
    doubled = pd.concat([_predictions(), _predictions().iloc[[0]]])
    with pytest.raises(InvalidDataError, match="duplicated customer id"):
        evaluate_predictions(doubled, _actuals())


def test_holdout_actuals_from_split():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2],
            "timestamp": pd.to_datetime(
                ["2020-01-01", "2020-01-05", "2020-01-12", "2020-01-20", "2020-01-02", "2020-01-03"]
            ),
            "amount": [5.0, 10.0, 20.0, 30.0, 1.0, 2.0],
        }
    )
    split = calibration_holdout_split(
        log, calibration_end="2020-01-07", holdout_end="2020-01-21", time_unit="D"
    )
    actuals = holdout_actuals(split)
    assert list(actuals.columns) == list(ACTUAL_COLUMNS)
    assert actuals.loc[1].tolist() == [2.0, 50.0, False]
    assert actuals.loc[2].tolist() == [0.0, 0.0, True]
    assert actuals.attrs["holdout_duration"] == 14.0
    with pytest.raises(InvalidDataError, match="missing column\\(s\\) 'holdout_monetary_value'"):
        holdout_actuals(split.drop(columns="holdout_monetary_value"))
