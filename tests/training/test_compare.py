import math
import warnings

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError
from clv.training.compare import ComparisonResult, compare_models, comparison_table
from clv.training.evaluation import METRIC_NAMES, evaluate_predictions
from clv.training.selection import select_best

pytest.importorskip("clv.candidates")

CAL, HOLD = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def result(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optimiser precision notes are not the subject here
        return compare_models(
            cdnow,
            calibration_end=CAL,
            holdout_end=HOLD,
            time_unit="W",
            kinds=["baseline", "bg_nbd"],
        )


def test_compare_on_cdnow(result):
    assert isinstance(result, ComparisonResult)
    assert result.table.index.tolist() == ["baseline", "bg_nbd"]
    assert result.table.index.name == "model"
    assert result.table.columns.tolist() == list(METRIC_NAMES)
    assert result.horizon == pytest.approx(39.0)
    assert result.time_unit == "W"
    # published facts (REFERENCE.md): 2,357 customers, 1,882 holdout repeat transactions
    assert len(result.actuals) == 2357
    assert result.actuals["holdout_purchases"].sum() == 1882
    assert (result.actuals["churned"] == (result.actuals["holdout_purchases"] == 0)).all()
    for kind, predictions in result.predictions.items():
        assert set(result.actuals.index) <= set(predictions.index)
        assert evaluate_predictions(predictions, result.actuals) == pytest.approx(
            result.table.loc[kind].to_dict(), nan_ok=True
        )
    assert set(result.fitted) == {"baseline", "bg_nbd"}
    assert result.best == select_best(result.table)
    assert result.eligibility.loc[result.best, "eligible"]
    # BG/NBD x Gamma-Gamma ranks and totals well on CDNOW (issue 4's reference model)
    bg = result.table.loc["bg_nbd"]
    assert bg["holdout_gini_spend"] > 0.5
    assert bg["holdout_total_purchases_ratio"] == pytest.approx(1.0, abs=0.2)
    assert bg["holdout_auc_churn"] > 0.7
    assert len(result.features) == 2357


def test_column_mapping_gives_the_same_table(cdnow, result):
    renamed = cdnow.rename(columns={"customer_id": "cust", "timestamp": "when", "amount": "value"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = compare_models(
            renamed,
            calibration_end=CAL,
            holdout_end=HOLD,
            kinds=["bg_nbd"],
            customer_id="cust",
            timestamp="when",
            amount="value",
        )
    pd.testing.assert_series_equal(other.table.loc["bg_nbd"], result.table.loc["bg_nbd"])


def test_compare_errors(cdnow):
    with pytest.raises(InvalidParameterError, match="Unknown model kind\\(s\\) 'xgb'"):
        compare_models(cdnow, calibration_end=CAL, holdout_end=HOLD, kinds=["xgb"])
    with pytest.raises(InvalidParameterError, match="'params' names kind\\(s\\) 'boosted'"):
        compare_models(
            cdnow, calibration_end=CAL, holdout_end=HOLD, kinds=["bg_nbd"], params={"boosted": {}}
        )
    with pytest.raises(InvalidDataError, match="column\\(s\\) 'cust'"):
        compare_models(cdnow, calibration_end=CAL, holdout_end=HOLD, customer_id="cust")
    with pytest.raises(InvalidParameterError, match="must be after 'calibration_end'"):
        compare_models(cdnow, calibration_end=HOLD, holdout_end=CAL, kinds=["bg_nbd"])


def test_comparison_table_markdown():
    table = pd.DataFrame(
        {
            "holdout_rmse_spend": [200.0123, 72.3],
            "holdout_gini_spend": [0.6721, math.nan],
            "holdout_total_spend_ratio": [1.6, math.inf],
        },
        index=pd.Index(["baseline", "bg_nbd"], name="model"),
    )
    assert comparison_table(table, best="bg_nbd") == (
        "| Model | RMSE spend | Gini spend | Total spend ratio |\n"
        "|:---|---:|---:|---:|\n"
        "| baseline | 200.01 | 0.672 | 1.600 |\n"
        "| bg_nbd (selected) | 72.30 | n/a | inf |\n"
    )
    assert comparison_table(table, columns=["holdout_gini_spend"]).splitlines()[2] == (
        "| baseline | 0.672 |"
    )
    with pytest.raises(InvalidDataError, match="no column\\(s\\) 'holdout_mae_spend'"):
        comparison_table(table, columns=["holdout_mae_spend"])


def test_comparison_table_of_a_result(result):
    text = comparison_table(result)
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].count("|") == len(METRIC_NAMES) + 2
    assert f"| {result.best} (selected) |" in text


@pytest.mark.slow
def test_boosted_kinds_on_a_small_log():
    pytest.importorskip("xgboost")
    from tests.conftest import simulated_log

    log = simulated_log(400, seed=3)
    params = {"boosted": {"n_estimators": 20, "n_jobs": 1}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare_models(
            log,
            calibration_end="2020-10-31",
            holdout_end="2021-02-04",
            time_unit="W",
            kinds=["bg_nbd", "boosted"],
            params=params,
        )
    assert result.table.index.tolist() == ["bg_nbd", "boosted"]
    assert np.isfinite(result.table[["holdout_rmse_spend", "holdout_brier_churn"]].to_numpy()).all()
