import math

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError
from clv.training.evaluation import evaluate_predictions
from clv.training.selection import (
    MIN_GINI,
    PRIMARY_METRIC,
    PRIMARY_TOLERANCE,
    TOTAL_RATIO_BAND,
    eligibility,
    gate,
    select_best,
)


def _holdout(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    buyer = rng.random(n) < 0.25
    purchases = np.where(buyer, rng.poisson(2.0, n) + 1, 0).astype(float)
    spend = purchases * rng.gamma(3.0, 12.0, n)
    index = pd.Index(np.arange(n), name="customer_id")
    actuals = pd.DataFrame(
        {"holdout_purchases": purchases, "holdout_spend": spend, "churned": purchases == 0},
        index=index,
    )
    return actuals, rng


def _predictions(purchases, spend, churn, index):
    return pd.DataFrame(
        {
            "expected_purchases": purchases,
            "probability_alive": 1 - churn,
            "churn_probability": churn,
            "expected_spend": spend,
            "clv": spend,
        },
        index=index,
    )


def test_zero_model_with_the_best_mae_is_never_selected():
    actuals, rng = _holdout()
    n, index = len(actuals), actuals.index
    spend = actuals["holdout_spend"].to_numpy()
    # an honest but weak model: a noisy guess of who buys, times the mean buyer spend
    buyer = (spend > 0).astype(float)
    p_buy = np.clip(0.25 + 0.3 * (buyer - 0.25) + rng.normal(0, 0.1, n), 0.01, 0.99)
    noisy = p_buy * spend[spend > 0].mean()
    honest = _predictions(p_buy * 3.0, noisy, 1 - p_buy, index)
    zero = _predictions(np.zeros(n), np.zeros(n), np.ones(n), index)
    constant = _predictions(
        np.full(n, actuals["holdout_purchases"].mean()),
        np.full(n, spend.mean()),
        np.full(n, 0.75),
        index,
    )
    table = pd.DataFrame(
        {
            name: evaluate_predictions(predictions, actuals)
            for name, predictions in (("zero", zero), ("constant", constant), ("honest", honest))
        }
    ).T
    # the trap: predicting zero has the lowest MAE of spend
    assert table["holdout_mae_spend"].idxmin() == "zero"
    assert select_best(table) == "honest"
    verdict = eligibility(table)
    assert verdict["eligible"].tolist() == [False, False, True]
    assert "ranking no better than chance" in verdict.at["zero", "reason"]
    assert "totals badly calibrated" in verdict.at["zero", "reason"]
    assert "ranking no better than chance" in verdict.at["constant", "reason"]


def _table(**rows):
    columns = [
        "holdout_mae_spend",
        PRIMARY_METRIC,
        "holdout_gini_spend",
        "holdout_total_spend_ratio",
    ]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def test_degenerate_model_is_rejected_even_with_the_best_rmse():
    table = _table(
        zero=[1.0, 5.0, 0.0, 0.0],
        constant=[2.0, 6.0, 0.0, 1.0],
        bg_nbd=[3.0, 8.0, 0.55, 0.95],
        boosted=[3.0, 7.5, 0.60, 1.10],
    )
    assert select_best(table) == "boosted"


def test_guards_and_ties():
    table = _table(
        a=[1.0, 7.0, 0.5, 1.6],  # over-predicts totals
        b=[1.0, 7.0, MIN_GINI, 1.0],  # Gini exactly at the floor
        c=[1.0, 8.0, math.nan, 1.0],  # Gini undefined
        d=[1.0, 9.0, 0.3, TOTAL_RATIO_BAND[0]],  # on the band's edge: allowed
        e=[1.0, 9.0, 0.4, 1.0],  # ties with d: the higher Gini wins
        f=[1.0, 9.0, 0.4, 1.0],  # the same as e: the first listed wins
    )
    assert select_best(table) == "e"
    assert select_best(table, total_ratio_band=(0.5, 2.0)) == "a"


def test_rmse_within_tolerance_is_a_tie_broken_by_gini():
    # 72.18 is within 1 % of 71.95: the better ranking wins (the CDNOW case)
    table = _table(
        mbg_nbd=[29.7, 71.95, 0.6377, 0.80],
        pareto_nbd=[29.5, 72.18, 0.6591, 0.85],
        bg_nbd=[30.4, 72.30, 0.6378, 0.84],
    )
    assert PRIMARY_TOLERANCE == 0.01
    assert select_best(table) == "pareto_nbd"
    # beyond the tolerance the primary metric decides, whatever the Gini
    table.loc[["pareto_nbd", "bg_nbd"], PRIMARY_METRIC] = 71.95 * 1.011
    assert select_best(table) == "mbg_nbd"


def test_no_eligible_model_raises_with_reasons():
    table = _table(zero=[1.0, 5.0, 0.0, 0.0], wild=[2.0, 6.0, 0.4, 3.0])
    with pytest.raises(
        InvalidDataError,
        match=r"No model passes the selection guards \(zero: ranking no better than chance.*"
        r"wild: totals badly calibrated \(holdout_total_spend_ratio 3 outside \[0.667, 1.5\]\)",
    ):
        select_best(table)


def test_bad_tables_and_options():
    with pytest.raises(InvalidDataError, match="missing column\\(s\\) 'holdout_gini_spend'"):
        select_best(pd.DataFrame({PRIMARY_METRIC: [1.0], "holdout_total_spend_ratio": [1.0]}))
    with pytest.raises(InvalidDataError, match="non-empty DataFrame"):
        select_best(_table())
    with pytest.raises(InvalidParameterError, match="'min_gini' parameter must be a float"):
        select_best(_table(a=[1, 1, 0.5, 1]), min_gini=2)
    with pytest.raises(InvalidParameterError, match="0 <= low <= 1 <= high"):
        select_best(_table(a=[1, 1, 0.5, 1]), total_ratio_band=(1.2, 2.0))


def _metrics(rmse, gini=0.5, ratio=1.0):
    return {PRIMARY_METRIC: rmse, "holdout_gini_spend": gini, "holdout_total_spend_ratio": ratio}


def test_gate():
    assert gate(_metrics(9.0), _metrics(10.0)) == (
        True,
        "Promoted: holdout_rmse_spend 9 is no worse than the champion's 10.",
    )
    assert gate(_metrics(10.0), _metrics(10.0))[0]
    promote, reason = gate(_metrics(11.0), _metrics(10.0))
    assert not promote and "worse than the champion's 10" in reason
    promote, reason = gate(_metrics(5.0, gini=0.0, ratio=0.0), _metrics(10.0))
    assert not promote and "ranking no better than chance" in reason
    assert gate(_metrics(12.0), None) == (
        True,
        "Promoted: no champion yet (holdout_rmse_spend 12).",
    )
    assert gate(_metrics(12.0), {})[0]
    with pytest.raises(InvalidDataError, match="challenger's metrics have no 'holdout_rmse_spend'"):
        gate({}, _metrics(1.0))
